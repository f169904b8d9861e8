/**
 * The numbers the detection bench reports for one scoring of the test models: AUROC and TPR at FPR <= 10%
 * (backdoored vs clean test models), the share of clean test models the calibrated risk score calls "high",
 * how many backdoored models sit exactly on the rank floor (a pile-up the tail fit should prevent), and the
 * AUROC of each attack's and each poison rate's backdoored models against all clean test models.
 */
import { auroc, tprAtFpr } from '../../src/score/metrics.js';
import { levelOf, riskScore } from '../../src/score/risk.js';
import type { ZooModel } from './zoo.js';

export interface Metrics {
  auroc: number;
  tpr10: number;
  /** Share of clean test models whose risk level is "high" (null when no p-values). */
  cleanHigh: number | null;
  /** Share of clean test models at medium or high. */
  cleanMediumOrHigh: number | null;
  /** Share of backdoored test models at "high". */
  backdoorHigh: number | null;
  /** Share of backdoored models whose p-value is exactly the rank floor 1/(n+1). */
  backdoorAtFloor: number | null;
  perAttack: Record<string, number>;
  perRate: Record<string, number>;
  /** Per trigger kind (patch, pixels, blend, warp). */
  perKind: Record<string, number>;
}

const KIND_OF_ATTACK: Record<string, string> = {
  'badnets-corner': 'patch',
  'badnets-random': 'patch',
  adaptive: 'patch',
  sparse: 'pixels',
  blend: 'blend',
  wanet: 'warp',
};

/** The trigger kind of a backdoored model (from the manifest, else from its attack's name). */
export function triggerKindOf(m: ZooModel): string | null {
  if (m.label !== 'backdoor') return null;
  return m.triggerKind ?? (m.attack ? (KIND_OF_ATTACK[m.attack] ?? null) : null);
}

function subsetAuroc(tests: ZooModel[], score: ArrayLike<number>, pick: (m: ZooModel) => boolean): number {
  const labels: number[] = [];
  const s: number[] = [];
  tests.forEach((m, i) => {
    if (m.label === 'clean' || pick(m)) {
      labels.push(m.label === 'clean' ? 0 : 1);
      s.push(score[i]);
    }
  });
  return labels.includes(1) && labels.includes(0) ? auroc(labels, s) : NaN;
}

/**
 * `score`: higher = more anomalous. `p`: calibrated p-values (for the risk levels), optional.
 */
export function evaluate(
  tests: ZooModel[],
  score: ArrayLike<number>,
  p?: ArrayLike<number>,
  rankFloor?: number,
): Metrics {
  const labels = tests.map((m) => (m.label === 'backdoor' ? 1 : 0));
  const perAttack: Record<string, number> = {};
  const perRate: Record<string, number> = {};
  for (const a of [...new Set(tests.map((m) => m.attack).filter((x): x is string => x !== null))].sort())
    perAttack[a] = subsetAuroc(tests, score, (m) => m.attack === a);
  for (const r of [...new Set(tests.map((m) => m.poisonRate).filter((x): x is number => x !== null))].sort(
    (a, b) => a - b,
  ))
    perRate[String(r)] = subsetAuroc(tests, score, (m) => m.poisonRate === r);
  const perKind: Record<string, number> = {};
  for (const k of [...new Set(tests.map(triggerKindOf).filter((x): x is string => x !== null))].sort())
    perKind[k] = subsetAuroc(tests, score, (m) => triggerKindOf(m) === k);
  let cleanHigh: number | null = null;
  let cleanMediumOrHigh: number | null = null;
  let backdoorHigh: number | null = null;
  let backdoorAtFloor: number | null = null;
  if (p) {
    const lv = Array.from(p, (x) => levelOf(riskScore(x)));
    const clean = tests.map((m, i) => (m.label === 'clean' ? i : -1)).filter((i) => i >= 0);
    const bad = tests.map((m, i) => (m.label === 'backdoor' ? i : -1)).filter((i) => i >= 0);
    cleanHigh = clean.filter((i) => lv[i] === 'high').length / clean.length;
    cleanMediumOrHigh = clean.filter((i) => lv[i] !== 'low').length / clean.length;
    backdoorHigh = bad.filter((i) => lv[i] === 'high').length / bad.length;
    if (rankFloor !== undefined)
      backdoorAtFloor =
        bad.filter((i) => Math.abs(p[i] - rankFloor) <= 1e-12 * rankFloor).length / bad.length;
  }
  return {
    auroc: auroc(labels, score),
    tpr10: tprAtFpr(labels, score, 0.1),
    cleanHigh,
    cleanMediumOrHigh,
    backdoorHigh,
    backdoorAtFloor,
    perAttack,
    perRate,
    perKind,
  };
}

/** -ln p, the "higher = more anomalous" form of a p-value (monotone, so AUROC is the same as on 1 - p). */
export function surprise(p: ArrayLike<number>): Float64Array {
  return Float64Array.from(p, (x) => -Math.log(Math.max(x, 1e-300)));
}

/** Mean of metrics over several reference draws (NaN entries skipped per field). */
export function meanMetrics(ms: Metrics[]): Metrics & { aurocMin: number } {
  const avg = (xs: (number | null)[]): number | null => {
    const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const avgRec = (key: 'perAttack' | 'perRate' | 'perKind'): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const k of Object.keys(ms[0][key])) out[k] = avg(ms.map((m) => m[key][k])) ?? NaN;
    return out;
  };
  return {
    auroc: avg(ms.map((m) => m.auroc)) ?? NaN,
    aurocMin: Math.min(...ms.map((m) => m.auroc)),
    tpr10: avg(ms.map((m) => m.tpr10)) ?? NaN,
    cleanHigh: avg(ms.map((m) => m.cleanHigh)),
    cleanMediumOrHigh: avg(ms.map((m) => m.cleanMediumOrHigh)),
    backdoorHigh: avg(ms.map((m) => m.backdoorHigh)),
    backdoorAtFloor: avg(ms.map((m) => m.backdoorAtFloor)),
    perAttack: avgRec('perAttack'),
    perRate: avgRec('perRate'),
    perKind: avgRec('perKind'),
  };
}
