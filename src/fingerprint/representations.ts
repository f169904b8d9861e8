/**
 * Derived feature blocks from captured tensors. Hidden units of independently trained models are permuted,
 * so hidden layers are summarised by permutation-invariant views; logits are class-aligned and kept as is.
 *   logits          probes x classes
 *   softmax-stats   per class: mean probability, argmax share, mean margin (z_c - max_{j != c} z_j); 3C values
 *   gram:<layer>    probe-by-probe linear-CKA Gram: centre each feature over the probes, K = X X^T,
 *                   K / ||K||_F, upper triangle with the diagonal (row-major, n(n+1)/2 values)
 *   sorted:<layer>  per probe, SORTED_QUANTILES quantiles of the sorted activations (probes x Q)
 *   raw:<layer>     the activations themselves, only when a probe has <= RAW_BLOCK_MAX_FEATURES of them
 */

/** Quantiles kept per probe in sorted:<layer>. */
export const SORTED_QUANTILES = 16;
/** Widest layer (features per probe) stored raw. */
export const RAW_BLOCK_MAX_FEATURES = 1024;

/** Whether each row is already a probability vector (non-negative, sums to 1). */
export function looksLikeProbabilities(x: Float32Array, n: number, c: number): boolean {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) {
      const v = x[i * c + j];
      if (v < 0) return false;
      s += v;
    }
    if (Math.abs(s - 1) > 1e-3) return false;
  }
  return true;
}

export function softmaxStats(logits: Float32Array, n: number, c: number): Float32Array {
  const probs = looksLikeProbabilities(logits, n, c);
  const out = new Float32Array(3 * c);
  const z = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < c; j++) {
      z[j] = probs ? Math.log(logits[i * c + j] + 1e-12) : logits[i * c + j];
      if (z[j] > max) max = z[j];
    }
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.exp(z[j] - max);
    let arg = 0;
    let top1 = -Infinity;
    let top2 = -Infinity;
    for (let j = 0; j < c; j++) {
      out[j] += Math.exp(z[j] - max) / sum / n;
      if (z[j] > top1) {
        top2 = top1;
        top1 = z[j];
        arg = j;
      } else if (z[j] > top2) top2 = z[j];
    }
    out[c + arg] += 1 / n;
    for (let j = 0; j < c; j++) {
      const other = j === arg ? top2 : top1;
      out[2 * c + j] += (z[j] - (c > 1 ? other : 0)) / n;
    }
  }
  return out;
}

/** Linear-CKA-normalised Gram upper triangle of an n x f activation matrix. */
export function gramBlock(x: Float32Array, n: number, f: number): Float32Array {
  const centred = new Float64Array(n * f);
  for (let j = 0; j < f; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += x[i * f + j];
    m /= n;
    for (let i = 0; i < n; i++) centred[i * f + j] = x[i * f + j] - m;
  }
  const k = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let s = 0;
      const oa = a * f;
      const ob = b * f;
      for (let j = 0; j < f; j++) s += centred[oa + j] * centred[ob + j];
      k[a * n + b] = s;
      k[b * n + a] = s;
    }
  }
  const norm = Math.sqrt(k.reduce((acc, v) => acc + v * v, 0));
  const out = new Float32Array((n * (n + 1)) / 2);
  let p = 0;
  for (let a = 0; a < n; a++) for (let b = a; b < n; b++) out[p++] = norm > 0 ? k[a * n + b] / norm : 0;
  return out;
}

/** Per-probe quantiles (linear interpolation at q = k / (Q - 1)) of the sorted activations. */
export function sortedBlock(x: Float32Array, n: number, f: number, q = SORTED_QUANTILES): Float32Array {
  const out = new Float32Array(n * q);
  for (let i = 0; i < n; i++) {
    const s = x.slice(i * f, (i + 1) * f).sort();
    for (let k = 0; k < q; k++) {
      const pos = (k / (q - 1)) * (f - 1);
      const lo = Math.floor(pos);
      const hi = Math.min(f - 1, lo + 1);
      out[i * q + k] = s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }
  }
  return out;
}
