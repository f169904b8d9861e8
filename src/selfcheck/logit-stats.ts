/**
 * The logit arithmetic behind trigger probing: per-input argmax and per-class margins of a batch of logits,
 * the effect of a stamped trigger (flip rate into each class, mean margin gain of each class), and robust
 * z-scores across classes. Plain loops over Float32Array: the sizes are tiny (inputs x classes).
 */
import { MAD_TO_SD, median } from '../util/robust-stats.js';

/** Per-input summaries of one batch of logits. */
export interface LogitSummary {
  argmax: Int32Array;
  /** margin[i*K+c] = z_c - max_{j != c} z_j (positive only for the predicted class). */
  margin: Float32Array;
}

/** Non-finite logits count as -1e30 so a broken output never wins an argmax or poisons a mean. */
const NON_FINITE_LOGIT = -1e30;

export function summarise(logits: Float32Array, count: number, k: number): LogitSummary {
  const argmax = new Int32Array(count);
  const margin = new Float32Array(count * k);
  for (let i = 0; i < count; i++) {
    const o = i * k;
    let b1 = -Infinity;
    let b2 = -Infinity;
    let arg = 0;
    for (let c = 0; c < k; c++) {
      const v = Number.isFinite(logits[o + c]) ? logits[o + c] : NON_FINITE_LOGIT;
      if (v > b1) {
        b2 = b1;
        b1 = v;
        arg = c;
      } else if (v > b2) b2 = v;
    }
    argmax[i] = arg;
    for (let c = 0; c < k; c++) {
      const v = Number.isFinite(logits[o + c]) ? logits[o + c] : NON_FINITE_LOGIT;
      margin[o + c] = c === arg ? v - b2 : v - b1;
    }
  }
  return { argmax, margin };
}

/** The rows `rows` of a summary, as a summary of their own. */
export function subsetSummary(s: LogitSummary, rows: readonly number[], k: number): LogitSummary {
  const argmax = new Int32Array(rows.length);
  const margin = new Float32Array(rows.length * k);
  rows.forEach((r, i) => {
    argmax[i] = s.argmax[r];
    margin.set(s.margin.subarray(r * k, (r + 1) * k), i * k);
  });
  return { argmax, margin };
}

/** What one trigger did to a set of inputs, per class. */
export interface Effect {
  /** Share of the inputs not already in class c that the trigger sends to c. */
  flip: Float64Array;
  /** Mean change of class c's margin (raw logit units). */
  gain: Float64Array;
}

/** Effect of a trigger: `clean` and `stamped` describe the same inputs, row for row. */
export function effectOf(clean: LogitSummary, stamped: LogitSummary, k: number): Effect {
  const n = clean.argmax.length;
  const flip = new Float64Array(k);
  const gain = new Float64Array(k);
  const eligible = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const a0 = clean.argmax[i];
    const a1 = stamped.argmax[i];
    for (let c = 0; c < k; c++) {
      gain[c] += stamped.margin[i * k + c] - clean.margin[i * k + c];
      if (a0 !== c) {
        eligible[c]++;
        if (a1 === c) flip[c]++;
      }
    }
  }
  for (let c = 0; c < k; c++) {
    flip[c] = eligible[c] > 0 ? flip[c] / eligible[c] : 0;
    gain[c] /= Math.max(1, n);
  }
  return { flip, gain };
}

/**
 * Robust z of every value: (x - median) / max(1.4826·MAD, floor). The floor keeps a set of near-equal
 * values (MAD ~ 0) from turning a tiny difference into a huge z.
 */
export function robustZ(xs: ArrayLike<number>, floor: number): Float32Array {
  return robustZAgainst(xs, xs, floor);
}

/** Robust z of every value of xs with the median and MAD of `ref` (robustZ is ref = xs). */
export function robustZAgainst(xs: ArrayLike<number>, ref: ArrayLike<number>, floor: number): Float32Array {
  const med = median(ref);
  const mad = median(Array.from(ref, (x) => Math.abs(x - med)));
  const scale = Math.max(MAD_TO_SD * mad, floor, Number.MIN_VALUE);
  return Float32Array.from(xs, (x) => (x - med) / scale);
}

/**
 * Median over inputs of the standard deviation of the clean margins across classes: the unit logit gains
 * are reported in, so they compare across models whose logits differ in scale.
 */
export function medianLogitSpread(s: LogitSummary, k: number): number {
  const n = s.argmax.length;
  const spreads: number[] = [];
  for (let i = 0; i < n; i++) {
    let a = 0;
    let a2 = 0;
    for (let c = 0; c < k; c++) {
      const v = s.margin[i * k + c];
      a += v;
      a2 += v * v;
    }
    spreads.push(Math.sqrt(Math.max(0, a2 / k - (a / k) ** 2)));
  }
  const m = median(spreads);
  return Number.isFinite(m) && m > 1e-6 ? m : 1;
}
