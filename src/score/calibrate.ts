/**
 * Conformal calibration of a novelty score into an honest p-value.
 * p(s) = (1 + #{reference scores >= s}) / (n + 1), where the reference scores are CROSS-FITTED: each
 * reference is scored by a detector fitted without it (K-fold, K = 10 by default, or leave-one-out where
 * a detector can do it exactly), so a clean model's p-value is (super-)uniform instead of being judged
 * against scores its own references were fitted to.
 *
 * The rank floor: with n references no score can get p below 1/(n + 1). Beyond the largest reference score
 * the tail is extended with an exponential (generalised Pareto with shape 0) fitted by maximum likelihood to
 * the excesses of the top max(5, 20%) reference scores over the next one:
 *   p(s) = 1/(n + 1) · exp(-(s - s_max) / β)   for s > s_max,
 * so scores beyond every reference keep separating instead of piling up at the floor. The exponential is
 * the conservative member of the family for light and moderately heavy tails and has one parameter, which
 * is all tens of references can estimate.
 */
import { Rng } from '../probes/rng.js';
import { type Detector } from '../detect/detector.js';
import { selectRows, selectRowsSharingGram, selfGram, type Mat } from '../detect/linalg.js';
import { foldSplit } from '../detect/neighbors.js';

export const DEFAULT_FOLDS = 10;
/** Share and minimum count of the top reference scores used to fit the tail. */
export const TAIL_FRACTION = 0.2;
export const TAIL_MIN_POINTS = 5;
/** Smallest p-value reported (keeps logs finite for absurd scores). */
export const MIN_P_VALUE = 1e-300;

export interface Calibration {
  /** Cross-fitted reference scores, ascending. */
  sorted: Float64Array;
  /** Scale of the exponential tail beyond the largest reference score. */
  tailScale: number;
}

/** Fold id per row: a seeded shuffle dealt into K folds; leave-one-out when n <= K. */
export function makeFolds(n: number, k = DEFAULT_FOLDS, seed = 0): Int32Array {
  const K = Math.max(2, Math.min(k, n));
  const perm = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const folds = new Int32Array(n);
  for (let t = 0; t < n; t++) folds[perm[t]] = t % K;
  return folds;
}

/**
 * Out-of-fold scores of the references: each row scored by a detector fitted on the other folds.
 * Uses the detector's own crossFit when it has one (one pairwise matrix for all folds, or exact LOO).
 */
export function crossFitScores(make: () => Detector, X: Mat, folds: Int32Array): Float64Array {
  const probe = make();
  if (probe.crossFit) return probe.crossFit(X, folds);
  // rows fewer than features: detectors go through the Gram matrix; compute it once so that every fold's
  // Gram is derived from it instead of recomputed
  if (X.rows <= X.cols) selfGram(X);
  const out = new Float64Array(X.rows);
  let K = 0;
  for (let i = 0; i < folds.length; i++) K = Math.max(K, folds[i] + 1);
  for (let f = 0; f < K; f++) {
    const { train, test } = foldSplit(folds, f);
    if (test.length === 0) continue;
    const det = make();
    det.fit(selectRowsSharingGram(X, train));
    const s = det.score(selectRows(X, test));
    for (let t = 0; t < test.length; t++) out[test[t]] = s[t];
  }
  return out;
}

/** Fits the calibration (sorted scores + exponential tail scale) to cross-fitted reference scores. */
export function fitCalibration(scores: ArrayLike<number>): Calibration {
  const sorted = Float64Array.from(scores).sort();
  const n = sorted.length;
  if (n === 0) throw new Error('fitCalibration: no reference scores');
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(sorted[i])) throw new Error('fitCalibration: non-finite score');
  return { sorted, tailScale: tailScale(sorted) };
}

function tailScale(sorted: Float64Array): number {
  const n = sorted.length;
  if (n >= 2) {
    const m = Math.min(n - 1, Math.max(TAIL_MIN_POINTS, Math.ceil(TAIL_FRACTION * n)));
    const u = sorted[n - 1 - m];
    let s = 0;
    for (let i = n - m; i < n; i++) s += sorted[i] - u;
    const beta = s / m;
    if (beta > 0) return beta;
    // every top score tied: fall back to the spread of all scores
    const spread = sorted[n - 1] - sorted[0];
    if (spread > 0) return spread / n;
  }
  // no spread at all: any excess is a large one on the scale of the value itself
  return Math.max(1e-12, Math.abs(sorted[n - 1]) * 1e-6);
}

/** Number of reference scores >= s (binary search on the ascending array). */
function countAtLeast(sorted: Float64Array, s: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < s) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length - lo;
}

/** The calibrated p-value of a score (smaller = more anomalous than the references). */
export function pValue(cal: Calibration, s: number): number {
  const n = cal.sorted.length;
  const max = cal.sorted[n - 1];
  if (s > max) {
    const p = Math.exp(-(s - max) / cal.tailScale) / (n + 1);
    return Math.max(MIN_P_VALUE, p);
  }
  return (1 + countAtLeast(cal.sorted, s)) / (n + 1);
}

/** The smallest p-value the ranks alone can give: 1 / (n + 1). */
export function rankFloor(cal: Calibration): number {
  return 1 / (cal.sorted.length + 1);
}

/**
 * Each reference's own p-value against the OTHER references' cross-fitted scores (calibration refitted
 * without it), so the ensemble statistic of a reference is computed exactly as a new model's would be.
 */
export function leaveOneOutPValues(scores: ArrayLike<number>): Float64Array {
  const n = scores.length;
  const out = new Float64Array(n);
  const others = new Float64Array(n - 1);
  for (let i = 0; i < n; i++) {
    let t = 0;
    for (let j = 0; j < n; j++) if (j !== i) others[t++] = scores[j];
    out[i] = n > 1 ? pValue(fitCalibration(others), scores[i]) : 1;
  }
  return out;
}
