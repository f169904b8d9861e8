/**
 * Per-class statistics of the final linear layer's weight rows and bias, straight from the initializers (no
 * forward pass): what static backdoor scanners read. A backdoor teaches the network a trigger feature that
 * must win the target class's logit from any input, so the target's row tends to differ from the other
 * classes' rows: more large positive weights (on the trigger's features), a heavier right tail, a higher
 * bias, less alignment with the other rows.
 *
 * One row of FINAL_ROW_FEATURES per class, in the order of FINAL_ROW_FEATURE_NAMES. Every feature is
 * invariant to permuting the penultimate units (hidden units are permuted across training runs) and
 * compares across the classes of one model: final-layer-anomaly.ts turns them into an anomaly across
 * classes, weights.ts keeps some of them as the class-aligned weights:final block.
 */
import type { FinalLinear } from './final-layer.js';

export const FINAL_ROW_FEATURE_NAMES = [
  'norm', // L2 norm of the row
  'mean',
  'std',
  'max',
  'min',
  'skew', // third standardised moment
  'kurtosis', // excess kurtosis (fourth standardised moment - 3)
  'positive-share', // share of weights > 0
  'positive-mass', // sum of positive weights / sum of |w|
  'top-mass', // share of sum |w| held by the largest 1% (at least 1) weights in |w|
  'max-z', // largest (w - mean) / std in the row: one feature the class leans on
  'alignment', // cosine between the row and the mean of the other rows (centred over features)
  'exclusive-mass', // sum over units of how far the row's weight exceeds every other class's / sum |w|
  'bias',
] as const;
export type FinalRowFeature = (typeof FINAL_ROW_FEATURE_NAMES)[number];
export const FINAL_ROW_FEATURES = FINAL_ROW_FEATURE_NAMES.length;

/** Share of a row's weights (by |w|) counted in 'top-mass'. */
export const TOP_MASS_SHARE = 0.01;

/** The per-class features, class-major: out[c * FINAL_ROW_FEATURES + j]. */
export function finalRowFeatures(fl: FinalLinear): Float64Array {
  const C = fl.classes;
  const F = fl.features;
  const out = new Float64Array(C * FINAL_ROW_FEATURES);
  // Mean row over the classes: the other rows' mean is (C * mean - row) / (C - 1).
  const colMean = new Float64Array(F);
  for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) colMean[f] += fl.weight[c * F + f] / C;
  const top = Math.max(1, Math.round(F * TOP_MASS_SHARE));
  // Per unit, the largest and second largest weight over the classes (for 'exclusive-mass').
  const first = new Float64Array(F).fill(-Infinity);
  const second = new Float64Array(F).fill(-Infinity);
  for (let c = 0; c < C; c++)
    for (let f = 0; f < F; f++) {
      const w = fl.weight[c * F + f];
      if (w > first[f]) [second[f], first[f]] = [first[f], w];
      else if (w > second[f]) second[f] = w;
    }
  const abs = new Float64Array(F);
  for (let c = 0; c < C; c++) {
    const o = c * F;
    let s = 0;
    let s2 = 0;
    let mx = -Infinity;
    let mn = Infinity;
    let pos = 0;
    let posMass = 0;
    let absMass = 0;
    for (let f = 0; f < F; f++) {
      const w = fl.weight[o + f];
      s += w;
      s2 += w * w;
      if (w > mx) mx = w;
      if (w < mn) mn = w;
      if (w > 0) {
        pos++;
        posMass += w;
      }
      abs[f] = Math.abs(w);
      absMass += abs[f];
    }
    const mean = s / F;
    const variance = Math.max(0, s2 / F - mean * mean);
    const sd = Math.sqrt(variance);
    let m3 = 0;
    let m4 = 0;
    let exclusive = 0;
    for (let f = 0; f < F; f++) {
      const w = fl.weight[o + f];
      if (C > 1 && w === first[f]) exclusive += w - second[f];
      const d = w - mean;
      m3 += d * d * d;
      m4 += d * d * d * d;
    }
    m3 /= F;
    m4 /= F;
    const sorted = abs.slice().sort().reverse();
    let topMass = 0;
    for (let i = 0; i < top; i++) topMass += sorted[i];
    // alignment with the mean of the other rows, both centred over the features
    let dot = 0;
    let nr = 0;
    let no = 0;
    let rowMean = 0;
    let otherMean = 0;
    const other = (f: number): number => (C > 1 ? (C * colMean[f] - fl.weight[o + f]) / (C - 1) : 0);
    for (let f = 0; f < F; f++) {
      rowMean += fl.weight[o + f] / F;
      otherMean += other(f) / F;
    }
    for (let f = 0; f < F; f++) {
      const a = fl.weight[o + f] - rowMean;
      const b = other(f) - otherMean;
      dot += a * b;
      nr += a * a;
      no += b * b;
    }
    const row = [
      Math.sqrt(s2),
      mean,
      sd,
      mx,
      mn,
      sd > 0 ? m3 / sd ** 3 : 0,
      variance > 0 ? m4 / variance ** 2 - 3 : 0,
      pos / F,
      absMass > 0 ? posMass / absMass : 0,
      absMass > 0 ? topMass / absMass : 0,
      sd > 0 ? (mx - mean) / sd : 0,
      nr > 0 && no > 0 ? dot / Math.sqrt(nr * no) : 0,
      absMass > 0 ? exclusive / absMass : 0,
      fl.bias ? (fl.bias[c] ?? 0) : 0,
    ];
    out.set(row, c * FINAL_ROW_FEATURES);
  }
  return out;
}
