/**
 * Largest one-sided robust z over the features: per feature, the median of the clean references and a
 * spread (the larger of 1.4826 x MAD and the standard deviation, floored); a row's score is the largest
 * (x_j - median_j) / spread_j, or the mean of the `top` largest.
 *
 * Why the larger of MAD and standard deviation: many class-aligned features are quantised or saturate
 * (flip rates in steps of 1/inputs, mostly 0 or mostly 1 over the references), so most references agree
 * exactly and the MAD is ~0 although a few clean references move far: a MAD-only spread then gives clean
 * models z's of 20-40 and buries the real outliers. The references are clean by assumption, so their
 * standard deviation is legitimate clean variation; the MAD still wins on features where it is larger.
 * Measured on the zoo's trigger blocks (bench/results/detect.md): AUROC of max_z@trigger-tiers with
 * generated probes 0.73 -> 0.82 (CNN) and 0.74 -> 0.87 (MLP), with real samples 0.975 -> 0.983 (CNN).
 *
 * Why it exists next to kNN and the one-class SVM: those measure Euclidean distance over ALL features, so
 * one feature far out of the clean range (a backdoor's target class reached with a small trigger far more
 * easily than in clean models) is diluted by the hundreds of features that look normal. The maximum keeps
 * that one feature's evidence whole; the calibrator then ranks it against the references' own maxima, so
 * the many-features multiple-comparison effect is priced in.
 *
 * Why one-sided (positive deviations only): it is meant for class-aligned trigger features (gain and flip
 * rate of the best trigger per class and strength tier), where a backdoor makes its target class EASIER to
 * reach: the gain and the flip rate go up. A feature BELOW the clean range (a class harder to reach than
 * usual) is no evidence of a backdoor, and counting it would add the noise of every such deviation to the
 * clean models' maxima. On other blocks the detector still works, but only sees upward deviations.
 *
 * `madFloor` (> 0) switches a channel to the MAD alone, floored at that absolute value, with no standard
 * deviation and no relative floor: for the position-aligned patch map ("trigger-map"), where thousands of
 * features are flip rates that are 0 in most references. There a clean reference that flips at one
 * position widens the standard deviation of exactly the feature a backdoor's trigger would light up;
 * with the MAD the references' own maxima are large too, and the conformal calibration against them (not
 * a fixed threshold) prices that in. In an offline replay on the zoo's CNNs (64 real digits at every 2-5
 * px patch position) the adaptive attacker's 1% model ranked above every reference with the MAD (p 0.0009
 * to 0.006 for floors 0.02 to 0.1), and among the clean models with the max(MAD, sd) spread. The shipped
 * map has up to 64 of the user's samples or of the mined base (sweep.ts MAP_INPUTS); with samples that
 * model is called high (bench/results/detect.md). With the sweep's 8 inputs it only ranked above 12 of 20
 * clean test models.
 *
 * No package: this is a median and a MAD per column; no maintained JS package offers it as a detector.
 */
import { InputError } from '../errors.js';
import {
  checkFitInput,
  checkScoreInput,
  notFitted,
  num,
  type Detector,
  type DetectorParams,
  type DetectorState,
} from './detector.js';
import { mat, type Mat } from './linalg.js';
import { MAD_TO_SD, median, selectMedian } from '../util/robust-stats.js';

/**
 * Floor on a feature's spread, relative to the typical spread (the median over the features of their
 * positive spreads). Without it a feature constant over the references (a flip rate at 1 in every clean
 * model, a trigger tier no probe reached) would turn any tiny deviation into an enormous z. A fifth of
 * the typical spread: a deviation smaller than that is not evidence (the same reasoning as the trigger
 * probe's GAIN_SPREAD_FLOOR), and a real one still scores high.
 */
export const MAX_Z_SPREAD_FLOOR = 0.2;
/** Absolute floor on the spread, so that data whose features all have a spread of ~0 cannot divide by ~0. */
export const MAX_Z_ABS_EPSILON = 1e-9;
/** Fewest reference rows: a median and a MAD of fewer say nothing about the clean range. */
export const MAX_Z_MIN_ROWS = 3;
/** Default number of largest z's averaged into the score (1 = the maximum). */
export const MAX_Z_DEFAULT_TOP = 1;

/** Columns transposed per block: contiguous reads for each column's statistics, memory n x this x 8 bytes. */
const COLUMN_BLOCK = 32;

/**
 * Per-column median and spread (max of 1.4826 x MAD and the standard deviation), floored, of several row
 * subsets of X at once (one per fold: `subsets[f]` = the kept row indices, ascending). X is read once, a
 * block of columns at a time transposed into a small buffer (a full transposed copy of 10,000 x 4,096
 * would cost 330 MB). The mean and standard deviation sum over the rows in row order, so a subset gives
 * exactly what fitting on that subset's rows gives; the medians are order statistics, found by quickselect.
 */
function robustStats(
  X: Mat,
  subsets: Int32Array[],
  madFloor = 0,
): { center: Float64Array; spread: Float64Array }[] {
  const { rows: n, cols: d, data } = X;
  const out = subsets.map(() => ({ center: new Float64Array(d), spread: new Float64Array(d) }));
  const buf = new Float64Array(n * COLUMN_BLOCK);
  const col = new Float64Array(n);
  for (let j0 = 0; j0 < d; j0 += COLUMN_BLOCK) {
    const w = Math.min(COLUMN_BLOCK, d - j0);
    for (let i = 0; i < n; i++) {
      const o = i * d + j0;
      for (let jj = 0; jj < w; jj++) buf[jj * n + i] = data[o + jj];
    }
    for (let jj = 0; jj < w; jj++) {
      const base = jj * n;
      for (let f = 0; f < subsets.length; f++) {
        const idx = subsets[f];
        const m = idx.length;
        let mean = 0;
        for (let t = 0; t < m; t++) {
          const v = buf[base + idx[t]];
          col[t] = v;
          mean += v;
        }
        mean /= m;
        let ss = 0;
        for (let t = 0; t < m; t++) {
          const dv = col[t] - mean;
          ss += dv * dv;
        }
        const sd = Math.sqrt(ss / m);
        const med = selectMedian(col, m);
        // the median of the absolute deviations does not depend on their order
        for (let t = 0; t < m; t++) col[t] = Math.abs(col[t] - med);
        out[f].center[j0 + jj] = med;
        const mad = MAD_TO_SD * selectMedian(col, m);
        out[f].spread[j0 + jj] = madFloor > 0 ? Math.max(mad, madFloor) : Math.max(mad, sd);
      }
    }
  }
  if (madFloor > 0) return out;
  for (const { spread } of out) {
    // Typical spread: the median of the positive spreads (checkFitInput guarantees some column varies).
    const pool = spread.filter((x) => x > 0);
    const typical = pool.length ? median(pool) : 0;
    const floor = Math.max(MAX_Z_SPREAD_FLOOR * typical, MAX_Z_ABS_EPSILON);
    for (let j = 0; j < d; j++) spread[j] = Math.max(spread[j], floor);
  }
  return out;
}

/** Per-column median and floored spread (max of 1.4826 x MAD and the standard deviation) of X. */
export function robustColumns(X: Mat, madFloor = 0): { center: Float64Array; spread: Float64Array } {
  return robustStats(X, [Int32Array.from({ length: X.rows }, (_, i) => i)], madFloor)[0];
}

/** Each row's largest (or mean of the `top` largest) one-sided z against the statistics. */
function scoreRows(Y: Mat, center: Float64Array, spread: Float64Array, topParam: number): Float64Array {
  const { rows: m, cols: d, data } = Y;
  const top = Math.min(topParam, d);
  const out = new Float64Array(m);
  const z = new Float64Array(d);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < d; j++) z[j] = (data[i * d + j] - center[j]) / spread[j];
    if (top === 1) {
      let best = -Infinity;
      for (let j = 0; j < d; j++) if (z[j] > best) best = z[j];
      out[i] = best;
    } else {
      const sorted = Float64Array.from(z).sort();
      let s = 0;
      for (let t = 0; t < top; t++) s += sorted[d - 1 - t];
      out[i] = s / top;
    }
  }
  return out;
}

export class MaxZDetector implements Detector {
  readonly name = 'max_z' as const;
  private readonly top: number;
  /** > 0: spread = max(1.4826 x MAD, madFloor) (see the header); 0: the default spread. */
  private readonly madFloor: number;
  private center: Float64Array | null = null;
  private spread: Float64Array | null = null;

  constructor(params: DetectorParams = {}) {
    this.top = Math.floor(num(params, 'top', MAX_Z_DEFAULT_TOP));
    if (this.top < 1) throw new InputError('bad-argument', `max_z: top must be at least 1, got ${this.top}`);
    this.madFloor = num(params, 'madFloor', 0);
    if (!(this.madFloor >= 0) || !Number.isFinite(this.madFloor))
      throw new InputError('bad-argument', `max_z: madFloor must be a number >= 0, got ${this.madFloor}`);
  }

  fit(X: Mat): void {
    checkFitInput(X, this.name, MAX_Z_MIN_ROWS);
    const { center, spread } = robustColumns(X, this.madFloor);
    this.center = center;
    this.spread = spread;
  }

  /**
   * Out-of-fold scores: per fold, the statistics of the other folds' rows (column by column from one
   * transposed copy, not a copy of the rows per fold), then the fold's rows scored. The same numbers as
   * fitting and scoring per fold (tested), ~10x faster on 1000 x 16384.
   */
  crossFit(X: Mat, folds: Int32Array): Float64Array {
    checkFitInput(X, this.name, MAX_Z_MIN_ROWS);
    const { rows: n, cols: d, data } = X;
    let K = 0;
    for (let i = 0; i < n; i++) K = Math.max(K, folds[i] + 1);
    const tests: number[][] = Array.from({ length: K }, () => []);
    const trains: number[][] = Array.from({ length: K }, () => []);
    for (let i = 0; i < n; i++) for (let f = 0; f < K; f++) (folds[i] === f ? tests : trains)[f].push(i);
    const used = [...Array(K).keys()].filter((f) => tests[f].length > 0);
    for (const f of used) {
      if (trains[f].length < MAX_Z_MIN_ROWS) {
        throw new InputError(
          'degenerate-data',
          `${this.name}: needs at least ${MAX_Z_MIN_ROWS} reference rows but got ${trains[f].length}; add more clean reference models`,
        );
      }
    }
    const stats = robustStats(
      X,
      used.map((f) => Int32Array.from(trains[f])),
      this.madFloor,
    );
    const out = new Float64Array(n);
    used.forEach((f, u) => {
      const test = tests[f];
      const rows = new Float64Array(test.length * d);
      test.forEach((r, t) => rows.set(data.subarray(r * d, (r + 1) * d), t * d));
      const s = scoreRows(
        { rows: test.length, cols: d, data: rows } as Mat,
        stats[u].center,
        stats[u].spread,
        this.top,
      );
      test.forEach((r, t) => (out[r] = s[t]));
    });
    return out;
  }

  score(Y: Mat): Float64Array {
    if (!this.center || !this.spread) throw notFitted(this.name);
    checkScoreInput(Y, this.name, this.center.length);
    return scoreRows(Y, this.center, this.spread, this.top);
  }

  /** The feature with the largest one-sided z in `row` (the score when top is 1), for explanations. */
  topFeature(row: Float32Array): { index: number; z: number } {
    if (!this.center || !this.spread) throw notFitted(this.name);
    checkScoreInput(mat(1, row.length, row), this.name, this.center.length);
    let index = 0;
    let z = -Infinity;
    for (let j = 0; j < row.length; j++) {
      const zj = (row[j] - this.center[j]) / this.spread[j];
      if (zj > z) {
        z = zj;
        index = j;
      }
    }
    return { index, z };
  }

  state(): DetectorState {
    if (!this.center || !this.spread) throw notFitted(this.name);
    return {
      name: this.name,
      params: this.madFloor > 0 ? { top: this.top, madFloor: this.madFloor } : { top: this.top },
      data: { center: this.center, spread: this.spread },
    };
  }

  static fromState(s: DetectorState): MaxZDetector {
    const det = new MaxZDetector(s.params);
    const center = s.data.center;
    const spread = s.data.spread;
    if (
      !(center instanceof Float64Array) ||
      !(spread instanceof Float64Array) ||
      center.length !== spread.length ||
      !spread.every((x) => x > 0)
    ) {
      throw new InputError('baseline-invalid', 'max_z: saved state is corrupt; rebuild the baseline');
    }
    det.center = center;
    det.spread = spread;
    return det;
  }
}
