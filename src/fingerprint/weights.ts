/**
 * Weight statistics straight from the initializers (no inference):
 *   weights:final   per class c of the final linear layer, [norm, mean, std, max, min, robustZ(norm)] x C,
 *                   then the bias (C values, zeros when there is none): 7C values, class-aligned.
 *   weights:layers  per weight matrix of Gemm/MatMul/Conv nodes (topological order, conv kernels reshaped to
 *                   [out, in*kh*kw]): [Frobenius norm, sigma1, sigma2] (exact for small matrices, else power
 *                   iteration; see topSingularValues).
 *   selfChecks['weight-outlier']  max over classes of the robust z (median/MAD) of the final-row norms, with
 *                   that class as targetClass: a backdoor's target class row often grows.
 */
import { gram, mat, symEig } from '../detect/linalg.js';
import { InputError } from '../errors.js';
import type { SelfCheck } from './types.js';
import type { OnnxModel } from '../model/types.js';
import { constantTensor } from '../model/tensor-data.js';
import type { FinalLinear } from './final-layer.js';

/** Power-iteration steps per singular value for large matrices (an estimate; exactness is not needed). */
export const POWER_ITERATIONS = 20;
/** Largest matrix (elements) whose singular values are estimated; bigger ones get the norm only. */
export const MAX_SVD_ELEMENTS = 16_000_000;
/** Statistics per weight matrix in weights:layers. */
export const LAYER_STATS = 3;
/** Scale factor making the MAD a consistent estimate of a normal standard deviation. */
const MAD_TO_SD = 1.4826;

export function median(v: ArrayLike<number>): number {
  const s = Array.from(v).sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Robust z-scores (x - median) / (1.4826 MAD); falls back to the mean absolute deviation, then to 1. */
export function robustZ(v: ArrayLike<number>): Float64Array {
  const med = median(v);
  const dev = Array.from(v, (x) => Math.abs(x - med));
  let scale = MAD_TO_SD * median(dev);
  if (!(scale > 1e-12)) scale = dev.reduce((a, b) => a + b, 0) / Math.max(1, dev.length);
  if (!(scale > 1e-12)) scale = 1;
  return Float64Array.from(v, (x) => (x - med) / scale);
}

export interface FinalWeightStats {
  block: Float32Array;
  selfCheck: SelfCheck;
}

export function finalWeightStats(fl: FinalLinear): FinalWeightStats {
  const C = fl.classes;
  const F = fl.features;
  const norms = new Float64Array(C);
  const block = new Float32Array(7 * C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    let s2 = 0;
    let mx = -Infinity;
    let mn = Infinity;
    for (let f = 0; f < F; f++) {
      const w = fl.weight[c * F + f];
      s += w;
      s2 += w * w;
      if (w > mx) mx = w;
      if (w < mn) mn = w;
    }
    const mean = s / F;
    norms[c] = Math.sqrt(s2);
    block.set([norms[c], mean, Math.sqrt(Math.max(0, s2 / F - mean * mean)), mx, mn], c * 6);
  }
  const z = robustZ(norms);
  let target = 0;
  for (let c = 0; c < C; c++) {
    block[c * 6 + 5] = z[c];
    if (z[c] > z[target]) target = c;
  }
  if (fl.bias) for (let c = 0; c < C; c++) block[6 * C + c] = fl.bias[c] ?? 0;
  return {
    block,
    selfCheck: {
      score: z[target],
      targetClass: target,
      detail: `class ${target}'s final-layer weight norm is ${z[target].toFixed(2)} robust SDs above the median class`,
    },
  };
}

/** Matrices whose smaller side is at most this get exact singular values (EVD of the small Gram matrix). */
export const EXACT_SVD_MAX_SIDE = 256;

/**
 * Top-k singular values of a rows x cols matrix, from its smaller Gram matrix W·Wᵀ or Wᵀ·W (side x side,
 * built by src/detect/linalg.ts gram: blocked float64 loops, or ONNX Runtime's GEMM for large products).
 * Exact (symmetric EVD of the Gram matrix) when the smaller side is <= EXACT_SVD_MAX_SIDE; otherwise power
 * iteration on the Gram matrix with deflation from a fixed start (POWER_ITERATIONS steps: an estimate, which
 * is all a fingerprint needs), made non-increasing. One step on the Gram matrix is one (u, v) round of the
 * power method on W itself, at side² instead of 2·rows·cols operations.
 */
export function topSingularValues(
  m: Float64Array,
  rows: number,
  cols: number,
  k = 2,
  iters = POWER_ITERATIONS,
): number[] {
  const side = Math.min(rows, cols);
  const A = rows <= cols ? mat(rows, cols, m) : mat(cols, rows, transpose(m, rows, cols));
  const G = gram(A);
  if (side <= EXACT_SVD_MAX_SIDE) {
    const ev = symEig(G, side).values; // descending
    return Array.from({ length: k }, (_, i) => (i < side ? Math.sqrt(Math.max(0, ev[i])) : 0));
  }
  const d = A.cols;
  const out: number[] = [];
  const found: Float64Array[] = [];
  for (let t = 0; t < Math.min(k, side); t++) {
    // start at W·v0 for a fixed, non-degenerate v0
    let u = new Float64Array(side);
    for (let r = 0; r < side; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += A.data[r * d + j] * (1 + ((j * 7919 + t * 104729) % 97) / 97);
      u[r] = s;
    }
    let lambda = 0;
    for (let it = 0; it < iters; it++) {
      for (const f of found) {
        let dot = 0;
        for (let r = 0; r < side; r++) dot += f[r] * u[r];
        for (let r = 0; r < side; r++) u[r] -= dot * f[r];
      }
      let un = 0;
      for (let r = 0; r < side; r++) un += u[r] * u[r];
      un = Math.sqrt(un);
      if (!(un > 0)) break;
      for (let r = 0; r < side; r++) u[r] /= un;
      const w = new Float64Array(side);
      lambda = 0;
      for (let r = 0; r < side; r++) {
        let s = 0;
        const o = r * side;
        for (let c = 0; c < side; c++) s += G[o + c] * u[c];
        w[r] = s;
        lambda += u[r] * s;
      }
      if (it < iters - 1) u = w;
    }
    const sigma = Math.sqrt(Math.max(0, lambda));
    out.push(out.length ? Math.min(sigma, out[out.length - 1]) : sigma);
    found.push(u);
  }
  while (out.length < k) out.push(0);
  return out;
}

function transpose(m: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
  return t;
}

/**
 * weights:layers: [norm, sigma1, sigma2] per Gemm/MatMul/Conv weight, in graph order. A weight shared by many
 * nodes is measured once (a crafted graph could reuse one big matrix in every node), and `deadline` (epoch
 * ms, the model's time limit) is checked before each matrix, so the statistics cannot run unbounded.
 */
export function layerWeightStats(
  model: OnnxModel,
  opts: { deadline?: number; limitMs?: number } = {},
): { block: Float32Array; names: string[] } {
  const order = new Map(model.layers.map((l, i) => [l.name, i]));
  const nodes = [...(model.proto.graph?.node ?? [])]
    .filter((n) => ['Gemm', 'MatMul', 'Conv', 'ConvTranspose'].includes(n.opType ?? ''))
    .sort((a, b) => (order.get((a.output ?? [])[0]) ?? 0) - (order.get((b.output ?? [])[0]) ?? 0));
  const stats: number[] = [];
  const names: string[] = [];
  const seen = new Map<string, [number, number, number] | null>();
  for (const n of nodes) {
    const wName = (n.input ?? [])[1];
    if (!wName) continue;
    let row = seen.get(wName);
    if (row === undefined) {
      if (opts.deadline !== undefined && Date.now() > opts.deadline) {
        const limitMs = opts.limitMs ?? 0;
        throw new InputError(
          'timeout',
          `${model.path}: fingerprinting took longer than the ${limitMs >= 10_000 ? Math.round(limitMs / 1000) : (limitMs / 1000).toFixed(1)} s limit (weight statistics); use a smaller model`,
          model.path,
        );
      }
      const w = constantTensor(model, wName);
      if (!w || w.dims.length < 2) row = null;
      else {
        const rows = w.dims[0];
        const cols = w.values.length / Math.max(1, rows);
        const norm = Math.sqrt(w.values.reduce((a, b) => a + b * b, 0));
        const sv = w.values.length <= MAX_SVD_ELEMENTS ? topSingularValues(w.values, rows, cols) : [0, 0];
        row = [norm, sv[0], sv[1]];
      }
      seen.set(wName, row);
    }
    if (!row) continue;
    stats.push(...row);
    names.push(wName);
  }
  return { block: Float32Array.from(stats), names };
}
