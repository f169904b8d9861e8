/**
 * The numbers bench:families reports for a group of scanned test models (one architecture, one family,
 * one domain, under one condition): AUROC of the risk score (ties broken by the p-value), TPR at the
 * threshold that keeps the clean false-positive rate at or below 5% (chosen on these clean models: an
 * in-sample, "tuned" threshold), the shares called high at the shipped threshold (held out: chosen on the
 * MNIST zoo), and how often the suspected target class is the true one. A model the tool could not scan
 * counts as failed and is left out of the scores.
 */
import { auroc, tprAtFpr } from '../../src/score/metrics.js';
import { levelOf } from '../../src/score/risk.js';

/** One test model as scanned under one condition. */
export interface FamilyRow {
  id: string;
  arch: string;
  domain: string;
  label: 'clean' | 'backdoored';
  family: string | null;
  /** A class for single-target families, null for clean models and all-to-all. */
  target: number | null;
  riskScore: number | null;
  pValue: number | null;
  suspectedTargetClass: number | null;
  trigger: string | null;
  durationMs: number | null;
  error: string | null;
}

export interface GroupMetrics {
  clean: number;
  backdoored: number;
  failed: number;
  auroc: number | null;
  /** TPR at the largest threshold with clean FPR <= 5%, the threshold picked on these clean models. */
  tprAt5: number | null;
  /** Backdoored called high (risk >= 61, the shipped threshold). */
  backdooredHigh: number | null;
  cleanHigh: number | null;
  cleanMediumOrHigh: number | null;
  /** Single-target backdoors called high whose suspected target is the true class / of those called high. */
  targetRight: number;
  targetFlagged: number;
}

/** Higher = more suspicious, without ties where the p-value separates models the integer score ties. */
export function suspicion(r: FamilyRow): number {
  const p = Math.max(r.pValue ?? 1, 1e-300);
  return (r.riskScore ?? 0) + Math.min(0.999, -Math.log10(p) / 1000);
}

function share(rows: FamilyRow[], pick: (r: FamilyRow) => boolean): number | null {
  return rows.length ? rows.filter(pick).length / rows.length : null;
}

function finite(f: () => number): number | null {
  try {
    const v = f();
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** Metrics of `bad` against `clean` (rows of any architectures; failed rows are counted, not scored). */
export function groupMetrics(clean: FamilyRow[], bad: FamilyRow[]): GroupMetrics {
  const ok = (r: FamilyRow) => r.riskScore !== null && r.error === null;
  const c = clean.filter(ok);
  const b = bad.filter(ok);
  const labels = [...c.map(() => 0), ...b.map(() => 1)];
  const scores = [...c, ...b].map(suspicion);
  const high = (r: FamilyRow) => levelOf(r.riskScore as number) === 'high';
  const flagged = b.filter((r) => high(r) && r.target !== null);
  return {
    clean: c.length,
    backdoored: b.length,
    failed: clean.length + bad.length - c.length - b.length,
    auroc: c.length && b.length ? finite(() => auroc(labels, scores)) : null,
    tprAt5: c.length && b.length ? finite(() => tprAtFpr(labels, scores, 0.05)) : null,
    backdooredHigh: share(b, high),
    cleanHigh: share(c, high),
    cleanMediumOrHigh: share(c, (r) => levelOf(r.riskScore as number) !== 'low'),
    targetRight: flagged.filter((r) => r.suspectedTargetClass === r.target).length,
    targetFlagged: flagged.length,
  };
}
