/**
 * The numbers bench:torch reports for one (architecture, condition): AUROC of the risk score and of the
 * p-value (backdoored vs clean test models), TPR at FPR <= 10%, the shares called high, AUROC per attack,
 * how often the suspected target class is the true one, and scan time per model. Models the tool could
 * not scan are counted and left out of the scores (their error messages are reported separately).
 */
import { auroc, tprAtFpr } from '../../src/score/metrics.js';
import { levelOf } from '../../src/score/risk.js';

/** One test model as scanned under one condition. */
export interface ScanRow {
  id: string;
  label: 'clean' | 'backdoored';
  attack: string | null;
  rate: number;
  target: number | null;
  riskScore: number | null;
  riskLevel: string | null;
  pValue: number | null;
  suspectedTargetClass: number | null;
  trigger: string | null;
  durationMs: number | null;
  error: string | null;
  errorCode: string | null;
}

export interface ConditionMetrics {
  scanned: number;
  failed: number;
  aurocRisk: number | null;
  aurocP: number | null;
  tpr10: number | null;
  cleanHigh: number | null;
  cleanMediumOrHigh: number | null;
  backdooredHigh: number | null;
  perAttack: Record<string, number | null>;
  targetHits: number;
  targetNamed: number;
  backdooredCount: number;
  msPerModel: number | null;
}

function safe(f: () => number): number | null {
  try {
    const v = f();
    return Number.isFinite(v) ? v : null;
  } catch {
    return null; // one class missing (e.g. every backdoored model failed): no score
  }
}

function share(rows: ScanRow[], pick: (r: ScanRow) => boolean): number | null {
  return rows.length ? rows.filter(pick).length / rows.length : null;
}

export function conditionMetrics(rows: ScanRow[]): ConditionMetrics {
  const ok = rows.filter((r) => r.riskScore !== null && r.pValue !== null);
  const labels = ok.map((r) => (r.label === 'backdoored' ? 1 : 0));
  const risk = ok.map((r) => r.riskScore as number);
  // -log p separates models the integer risk score ties (e.g. several at 100).
  const logp = ok.map((r) => -Math.log10(Math.max(r.pValue as number, 1e-300)));
  const clean = ok.filter((r) => r.label === 'clean');
  const bd = ok.filter((r) => r.label === 'backdoored');
  const perAttack: Record<string, number | null> = {};
  for (const a of [...new Set(rows.map((r) => r.attack).filter((x): x is string => x !== null))].sort()) {
    const sub = ok.filter((r) => r.label === 'clean' || r.attack === a);
    perAttack[a] = safe(() =>
      auroc(
        sub.map((r) => (r.label === 'backdoored' ? 1 : 0)),
        sub.map((r) => r.riskScore as number),
      ),
    );
  }
  const named = bd.filter((r) => r.suspectedTargetClass !== null);
  const times = ok.map((r) => r.durationMs).filter((x): x is number => x !== null);
  return {
    scanned: ok.length,
    failed: rows.length - ok.length,
    aurocRisk: safe(() => auroc(labels, risk)),
    aurocP: safe(() => auroc(labels, logp)),
    tpr10: safe(() => tprAtFpr(labels, risk, 0.1)),
    cleanHigh: share(clean, (r) => levelOf(r.riskScore as number) === 'high'),
    cleanMediumOrHigh: share(clean, (r) => levelOf(r.riskScore as number) !== 'low'),
    backdooredHigh: share(bd, (r) => levelOf(r.riskScore as number) === 'high'),
    perAttack,
    targetHits: named.filter((r) => r.suspectedTargetClass === r.target).length,
    targetNamed: named.length,
    backdooredCount: bd.length,
    msPerModel: times.length ? times.reduce((a, b) => a + b, 0) / times.length : null,
  };
}
