/**
 * Rules that combine the per-channel p-values of one model into ONE statistic T (higher = more anomalous).
 * T is never read off a textbook null: the ensemble ranks it among the references' own T (computed from their
 * cross-fitted, leave-one-out channel p-values), so any rule gives an honest final p-value and the rules
 * differ only in power. Which evidence each rule rewards:
 *   fisher  mean of -ln p: adds evidence, so many mildly low channels beat one very low one; one strong
 *           channel is diluted among many weak ones (its -ln p is divided by the channel count).
 *   min-p   max of -ln p (= -ln min p, Tippett): led by the single most anomalous channel; the re-calibration
 *           pays for the multiplicity (the references' own max over the same channels sets the bar).
 *   top-k   mean of the k largest -ln p: a middle ground (k = 1 is min-p, k = channels is fisher).
 *   cauchy  mean of tan((0.5 - p)·π) (Liu & Xie 2020): dominated by the smallest p-values, robust to
 *           dependence between channels; -ln of its own Cauchy tail is reported so T stays on a log scale.
 * bench/detect.ts measures them on the model zoo (bench/results/detect.md).
 */

export type CombineRule = 'fisher' | 'min-p' | 'top-k' | 'cauchy';

export const COMBINE_RULES: readonly CombineRule[] = ['fisher', 'min-p', 'top-k', 'cauchy'];

export interface CombineSpec {
  rule: CombineRule;
  /** top-k only: how many of the largest -ln p are averaged (clamped to 1..channels). */
  k?: number;
}

/** Smallest p-value fed to a rule (keeps -ln p and tan finite). */
export const COMBINE_P_FLOOR = 1e-300;

function clampP(p: number): number {
  if (!(p > COMBINE_P_FLOOR)) return COMBINE_P_FLOOR;
  return p > 1 ? 1 : p;
}

/** The combined statistic T of channel p-values under `spec` (higher = more anomalous). */
export function combinePValues(ps: ArrayLike<number>, spec: CombineSpec = { rule: 'fisher' }): number {
  const m = ps.length;
  if (m === 0) throw new Error('combinePValues: no channel p-values');
  switch (spec.rule) {
    case 'fisher': {
      let s = 0;
      for (let i = 0; i < m; i++) s -= Math.log(clampP(ps[i]));
      return s / m;
    }
    case 'min-p': {
      let best = 0;
      for (let i = 0; i < m; i++) best = Math.max(best, -Math.log(clampP(ps[i])));
      return best;
    }
    case 'top-k': {
      const k = Math.max(1, Math.min(m, Math.round(spec.k ?? 3)));
      const l = Array.from(ps, (p) => -Math.log(clampP(p))).sort((a, b) => b - a);
      let s = 0;
      for (let i = 0; i < k; i++) s += l[i];
      return s / k;
    }
    case 'cauchy': {
      let s = 0;
      for (let i = 0; i < m; i++) {
        const p = clampP(ps[i]);
        // tan((0.5 - p)π) = 1 / (π p) for tiny p, where the direct form loses all precision
        s += p < 1e-15 ? 1 / (Math.PI * p) : Math.tan((0.5 - p) * Math.PI);
      }
      const t = s / m;
      // P(Cauchy > t) = 1/2 - atan(t)/π; for large t that is ~1/(π t). -ln of it is monotone in t.
      const tail = t > 1e15 ? 1 / (Math.PI * t) : 0.5 - Math.atan(t) / Math.PI;
      return -Math.log(Math.max(COMBINE_P_FLOOR, tail));
    }
    default:
      throw new Error(`combinePValues: unknown rule ${String((spec as { rule: unknown }).rule)}`);
  }
}

/** Short label of a rule, e.g. "top-3". */
export function combineLabel(spec: CombineSpec): string {
  return spec.rule === 'top-k' ? `top-${spec.k ?? 3}` : spec.rule;
}
