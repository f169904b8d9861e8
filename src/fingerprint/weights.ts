/**
 * Weight statistics straight from the initializers (no inference):
 *   weights:final   per class c of the final linear layer, [norm, mean, std, max, min, robustZ(norm)] x C,
 *                   then the bias (C values, zeros when there is none): 7C values, class-aligned.
 *   weights:layers  per weight matrix of Gemm/MatMul/Conv nodes (topological order, conv kernels reshaped to
 *                   [out, in*kh*kw]): [Frobenius norm, sigma1, sigma2] (exact for small matrices, else a
 *                   block Krylov estimate within 1% of the exact values; see topSingularValues).
 *   selfChecks['weight-outlier']  the no-forward-pass check (final-layer-anomaly.ts): does one class's
 *                   final-layer row stand out from the model's other classes (norm, tail, positive mass,
 *                   alignment, bias, ...), tested against the largest robust z of K normal draws; score
 *                   = -log10 of its p-value, targetClass = the class it points at.
 */
import { ortGemm } from '../detect/gram-ort.js';
import { gram, mat, symEig } from '../detect/linalg.js';
import { InputError } from '../errors.js';
import { timeLimitError } from '../time-limit-error.js';
import { MAD_TO_SD, median } from '../util/robust-stats.js';
import type { SelfCheck } from './types.js';
import type { OnnxModel } from '../model/types.js';
import { constantFloat32 } from '../model/tensor-data.js';
import { Rng } from '../probes/rng.js';
import type { FinalLinear } from './final-layer.js';
import {
  FINAL_ROW_FEATURE_NAMES,
  FINAL_ROW_FEATURES,
  finalRowFeatures,
  type FinalRowFeature,
} from './final-layer-features.js';
import { finalLayerAnomaly } from './final-layer-anomaly.js';

/** Largest matrix (elements) whose singular values are estimated; bigger ones get the norm only. */
export const MAX_SVD_ELEMENTS = 16_000_000;
/** Statistics per weight matrix in weights:layers. */
export const LAYER_STATS = 3;
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

/** Largest weight-outlier score (-log10 p): a p-value below 1e-12 is no more evidence. */
const MAX_WEIGHT_SCORE = 12;

export function finalWeightStats(fl: FinalLinear): FinalWeightStats {
  const C = fl.classes;
  const features = finalRowFeatures(fl);
  const at = (c: number, name: FinalRowFeature): number =>
    features[c * FINAL_ROW_FEATURES + FEATURE_INDEX[name]];
  const norms = Float64Array.from({ length: C }, (_, c) => at(c, 'norm'));
  const block = new Float32Array(7 * C);
  const z = robustZ(norms);
  for (let c = 0; c < C; c++) {
    block.set([norms[c], at(c, 'mean'), at(c, 'std'), at(c, 'max'), at(c, 'min'), z[c]], c * 6);
  }
  if (fl.bias) for (let c = 0; c < C; c++) block[6 * C + c] = fl.bias[c] ?? 0;
  const a = finalLayerAnomaly(features, C);
  if (!a)
    return { block, selfCheck: { score: 0, detail: `${C} classes: too few to compare final-layer rows` } };
  const top = a.tests.reduce((x, y) => (y.pValue < x.pValue || (y.pValue === x.pValue && y.z > x.z) ? y : x));
  const score = Math.min(
    MAX_WEIGHT_SCORE,
    Math.max(0, -Math.log10(Math.max(a.pValue, 10 ** -MAX_WEIGHT_SCORE))),
  );
  return {
    block,
    selfCheck: {
      score,
      targetClass: a.targetClass,
      pValue: a.pValue,
      detail:
        // "below"/"above", not "low"/"high": beside a level, "(low)" reads as the model's risk level
        `class ${a.targetClass}'s final-layer row stands out on ${top.feature}: ` +
        `${top.z.toFixed(1)} robust SDs ${top.side === 'low' ? 'below' : 'above'} the other ${C - 1} classes; p = ${a.pValue.toPrecision(2)} over ${a.tests.length} tests`,
      evidence: a.tests
        .slice()
        .sort((x, y) => x.pValue - y.pValue || y.z - x.z)
        .slice(0, 3)
        .map((t) => ({
          test: `${t.feature}:${t.side}`,
          cls: t.cls,
          z: Math.round(t.z * 1e4) / 1e4,
          pValue: t.pValue,
        })),
    },
  };
}

const FEATURE_INDEX = Object.fromEntries(FINAL_ROW_FEATURE_NAMES.map((n, i) => [n, i])) as Record<
  FinalRowFeature,
  number
>;

/**
 * Matrices whose Gram matrix costs at most this many multiply-adds (side² · other side) get exact singular
 * values (symmetric EVD of the smaller Gram matrix, float64); bigger ones get the block Krylov estimate.
 */
export const EXACT_SVD_MAX_WORK = 4_000_000;
/** Vectors per block of the Krylov estimate. */
export const KRYLOV_BLOCK = 2;
/** Krylov depth q: the basis spans [W·Ω, (W·Wᵀ)·W·Ω, ..., (W·Wᵀ)^q·W·Ω], KRYLOV_BLOCK·(q + 1) vectors. */
export const KRYLOV_DEPTH = 10;
/** Seed of the fixed start block Ω (the same for every matrix, so the estimate is deterministic). */
const KRYLOV_SEED = 0x5eed;

/**
 * Top-k singular values of a rows x cols row-major matrix W.
 *
 * Exact when the smaller Gram matrix is cheap (EXACT_SVD_MAX_WORK): its symmetric EVD in float64.
 *
 * Otherwise a block Krylov estimate (Musco & Musco 2015, "Randomized block Krylov methods"): an orthonormal
 * basis Q of span[W·Ω, (W·Wᵀ)·W·Ω, ..., (W·Wᵀ)^q·W·Ω] (Ω: KRYLOV_BLOCK fixed pseudo-random vectors,
 * q = KRYLOV_DEPTH, Gram-Schmidt twice in float64), then the exact singular values of Qᵀ·W (Rayleigh-Ritz).
 * By interlacing these never exceed the true ones, and sigma1 <= Frobenius norm holds exactly. Each Krylov
 * step is two passes over W (Qᵀ·W, then W·Zᵀ), and Qᵀ·W of the last block completes Qᵀ·W without a wider
 * pass: 2q + 2 = 22 products of W with KRYLOV_BLOCK vectors, each vector its own matrix-vector product
 * through ONNX Runtime's float32 kernels (gram-ort.ts ortGemm; see perVector for why not one GEMM per
 * block; a JavaScript fallback computes the same products when ORT is unavailable, or with opts.ort false).
 * The Ritz Gram matrix is read off those products (see krylovSingularValues). For the 12.5 M-parameter
 * speed-benchmark CNN the estimates take ~70 ms (44 single-vector passes over 50 MB, each matrix read from
 * L3 cache at ~35 GB/s) and the whole weights:layers block ~95 ms, instead of the ~1.1 s of the former power
 * iteration on Gram matrices (and ~120 ms with one 2-column GEMM per pass). Single-vector
 * Krylov (depth 20-24 for the same 44-50 passes) measured no faster at worse sigma2 accuracy, and wider
 * blocks (8-32 vectors as real GEMMs, depth 2-4) missed the 1% by far (1.2-3.5%): on a flat spectrum the
 * polynomial degree, not the block width, decides the accuracy.
 *
 * Accuracy (measured against an exact SVD; __tests__/fingerprint/weights-svd.test.ts checks it): sigma1 and
 * sigma2 are within 1% (worst 0.76% over the benchmark CNN's layers up to 512 x 4608; 0.25% on the test's
 * matrices) on random He-initialised weights, whose top singular values are packed closely (the hard case
 * for Krylov methods; 4 vectors x depth 3 gave 3.4%, depth 10 x 2 vectors was the cheapest within 1%), and
 * within 1e-4 when the top values stand apart (trained weights, low-rank structure). The estimates are
 * lower bounds (up to ~1e-6 from float32 products) and repeat bit for bit on one machine.
 */
export function topSingularValues(
  m: Float64Array | Float32Array,
  rows: number,
  cols: number,
  k = 2,
  opts: { ort?: boolean } = {},
): number[] {
  const side = Math.min(rows, cols);
  if (side === 0) return new Array<number>(k).fill(0);
  const basisMax = KRYLOV_BLOCK * (KRYLOV_DEPTH + 1);
  if (side * side * Math.max(rows, cols) <= EXACT_SVD_MAX_WORK || side <= basisMax) {
    const A = rows <= cols ? mat(rows, cols, m) : mat(cols, rows, transpose(m, rows, cols));
    const ev = symEig(gram(A), side).values; // descending
    return Array.from({ length: k }, (_, i) => (i < side ? Math.sqrt(Math.max(0, ev[i])) : 0));
  }
  const W = m instanceof Float32Array ? m : Float32Array.from(m);
  const sv = krylovSingularValues(W, rows, cols, opts.ort !== false);
  return Array.from({ length: k }, (_, i) => sv[i] ?? 0);
}

/**
 * The products of W with the b vectors of V (as rows): W·vᵀ per vector as the columns of a rows x b block
 * (`left` false), or v·W per vector as the rows of a b x cols block (`left` true). Each vector is its own
 * ORT run of the matrix-vector kernel, which streams W once at memory speed; ORT's GEMM pads a 2-column
 * product to its tile width and, for Q·W, copies (packs) W first, so b single-vector products measured
 * ~1.4x faster than one b = 2 GEMM on the benchmark CNN (0.27 ms per 512 x 4608 pass instead of
 * 0.64-0.90 ms). One run for both vectors (a two-MatMul graph) measured no faster. Null when ORT is
 * unavailable.
 */
function perVector(
  W: Float32Array,
  rows: number,
  cols: number,
  V: Float32Array,
  b: number,
  left: boolean,
): Float32Array | null {
  const len = left ? rows : cols;
  const outLen = left ? cols : rows;
  const out = new Float32Array(b * outLen);
  for (let v = 0; v < b; v++) {
    const x = V.subarray(v * len, (v + 1) * len);
    const y = left ? ortGemm(x, 1, rows, W, rows, cols) : ortGemm(W, rows, cols, x, cols, 1);
    if (!y) return null;
    if (left) out.set(y, v * outLen);
    else for (let r = 0; r < outLen; r++) out[r * b + v] = y[r];
  }
  return out;
}

/** W·Zᵀ for a block Z of b vectors (as rows): ORT first, JavaScript when ORT is unavailable. */
function timesWT(
  W: Float32Array,
  rows: number,
  cols: number,
  Z: Float32Array,
  b: number,
  useOrt: boolean,
): Float32Array {
  // W (rows x cols) · Zᵀ (cols x b) = rows x b, one matrix-vector product per vector (see perVector)
  const y = useOrt ? perVector(W, rows, cols, Z, b, false) : null;
  if (y) return y;
  const out = new Float32Array(rows * b);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let v = 0; v < b; v++) {
      let s = 0;
      const z = v * cols;
      for (let j = 0; j < cols; j++) s += W[o + j] * Z[z + j];
      out[r * b + v] = s;
    }
  }
  return out;
}

/** Q·W for a block Q of b vectors (as rows): ORT first, JavaScript when ORT is unavailable. */
function leftTimes(
  Q: Float32Array,
  b: number,
  W: Float32Array,
  rows: number,
  cols: number,
  useOrt: boolean,
): Float32Array {
  // Q (b x rows) · W (rows x cols) = b x cols, one vector-matrix product per vector (see perVector)
  const y = useOrt ? perVector(W, rows, cols, Q, b, true) : null;
  if (y) return y;
  const out = new Float64Array(b * cols);
  for (let v = 0; v < b; v++) {
    const o = v * cols;
    for (let r = 0; r < rows; r++) {
      const q = Q[v * rows + r];
      if (q === 0) continue;
      const w = r * cols;
      for (let j = 0; j < cols; j++) out[o + j] += q * W[w + j];
    }
  }
  return Float32Array.from(out);
}

/**
 * Appends the b vectors of Y (rows x b, column v = vector v) to the orthonormal basis (vectors as rows of
 * length `rows`), each orthogonalised twice against the basis (classical Gram-Schmidt, re-applied: enough in
 * float64 for a few dozen vectors). Vectors that vanish (the Krylov space is exhausted) are dropped.
 */
function extendBasis(basis: Float64Array[], Y: Float32Array, rows: number, b: number): Float64Array[] {
  const added: Float64Array[] = [];
  for (let v = 0; v < b; v++) {
    const x = new Float64Array(rows);
    for (let r = 0; r < rows; r++) x[r] = Y[r * b + v];
    let before = 0;
    for (let r = 0; r < rows; r++) before += x[r] * x[r];
    if (!(before > 0) || !Number.isFinite(before)) continue;
    for (let pass = 0; pass < 2; pass++) {
      for (const q of basis) {
        let d = 0;
        for (let r = 0; r < rows; r++) d += q[r] * x[r];
        for (let r = 0; r < rows; r++) x[r] -= d * q[r];
      }
    }
    let after = 0;
    for (let r = 0; r < rows; r++) after += x[r] * x[r];
    // float32 products carry ~1e-7 relative noise: what is left below that is noise, not a new direction
    if (!(after > before * 1e-12)) continue;
    const inv = 1 / Math.sqrt(after);
    for (let r = 0; r < rows; r++) x[r] *= inv;
    basis.push(x);
    added.push(x);
  }
  return added;
}

function block32(vs: Float64Array[], rows: number): Float32Array {
  const out = new Float32Array(vs.length * rows);
  vs.forEach((q, i) => out.set(q, i * rows));
  return out;
}

/** Descending singular values of W estimated on its block Krylov space (see topSingularValues). */
function krylovSingularValues(W: Float32Array, rows: number, cols: number, useOrt: boolean): number[] {
  const b = KRYLOV_BLOCK;
  const rng = new Rng(KRYLOV_SEED);
  const omega = new Float32Array(b * cols);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();
  const basis: Float64Array[] = [];
  const q32: Float32Array[] = []; // the basis vectors as the products used them (float32)
  const zRows: Float32Array[] = []; // qᵀ·W per basis vector (cols values)
  // W·Wᵀ·q per basis vector (column v of the product Y, `stride` wide), except for the last block
  const wwq: { Y: Float32Array; v: number; stride: number }[] = [];
  let block = extendBasis(basis, timesWT(W, rows, cols, omega, b, useOrt), rows, b);
  for (let depth = 0; block.length > 0; depth++) {
    const Qb = block32(block, rows);
    const Z = leftTimes(Qb, block.length, W, rows, cols, useOrt);
    for (let v = 0; v < block.length; v++) {
      zRows.push(Z.subarray(v * cols, (v + 1) * cols));
      q32.push(Qb.subarray(v * rows, (v + 1) * rows));
    }
    if (depth === KRYLOV_DEPTH) break;
    const Y = timesWT(W, rows, cols, Z, block.length, useOrt);
    for (let v = 0; v < block.length; v++) wwq.push({ Y, v, stride: block.length });
    block = extendBasis(basis, Y, rows, block.length);
  }
  // Ritz values: singular values of B = Qᵀ·W, from the small Gram G = B·Bᵀ. G[j][k] = qⱼᵀ·(W·Wᵀ·qₖ), read
  // off the products already made (rows-long dot products) instead of zⱼ·zₖ (cols-long) where W·Wᵀ·qₖ is
  // known; only pairs within the last block need zⱼ·zₖ. Both triangles are computed where both are
  // known and averaged, so G is exactly symmetric.
  const m = zRows.length;
  const G = new Float64Array(m * m);
  const known = new Uint8Array(m * m);
  for (let k = 0; k < wwq.length; k++) {
    const { Y, v, stride } = wwq[k];
    for (let j = 0; j < m; j++) {
      const q = q32[j];
      let s = 0;
      for (let r = 0; r < rows; r++) s += q[r] * Y[r * stride + v];
      G[j * m + k] = s;
      known[j * m + k] = 1;
    }
  }
  for (let j = 0; j < m; j++) {
    for (let k = 0; k <= j; k++) {
      let g: number;
      if (known[j * m + k] && known[k * m + j]) g = (G[j * m + k] + G[k * m + j]) / 2;
      else if (known[j * m + k]) g = G[j * m + k];
      else if (known[k * m + j]) g = G[k * m + j];
      else {
        const zj = zRows[j];
        const zk = zRows[k];
        g = 0;
        for (let c = 0; c < cols; c++) g += zj[c] * zk[c];
      }
      G[j * m + k] = g;
      G[k * m + j] = g;
    }
  }
  const ev = symEig(G, m).values;
  return Array.from(ev, (x) => Math.sqrt(Math.max(0, x)));
}

function transpose(m: Float64Array | Float32Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
  return t;
}

/** Frobenius norm, summed in float64 (four partial sums: one pass, no copy). */
export function frobeniusNorm(v: Float32Array | Float64Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = v.length;
  const n4 = n - (n % 4);
  for (let i = 0; i < n4; i += 4) {
    const a = v[i];
    const b = v[i + 1];
    const c = v[i + 2];
    const d = v[i + 3];
    s0 += a * a;
    s1 += b * b;
    s2 += c * c;
    s3 += d * d;
  }
  for (let i = n4; i < n; i++) s0 += v[i] * v[i];
  return Math.sqrt(s0 + s1 + s2 + s3);
}

/**
 * weights:layers: [norm, sigma1, sigma2] per Gemm/MatMul/Conv weight, in graph order. A weight shared by many
 * nodes is measured once (a crafted graph could reuse one big matrix in every node), and `deadline` (epoch
 * ms, the model's time limit) is checked before each matrix, so the statistics cannot run unbounded.
 * src/fingerprint/weights-offload.ts computes the same rows on a worker thread, beside the probe pass.
 */
export function layerWeightStats(
  model: OnnxModel,
  opts: { deadline?: number; limitMs?: number } = {},
): LayerWeightStats {
  return layerWeightStatsOf(model, layerWeightPlan(model), opts);
}

/** layerWeightStats over an already built plan (the worker's in-thread fallback has one). */
export function layerWeightStatsOf(
  model: OnnxModel,
  plan: LayerWeightPlan,
  opts: { deadline?: number; limitMs?: number } = {},
): LayerWeightStats {
  const rows = plan.matrices.map((m) => {
    checkDeadline(model, opts);
    return matrixStats(m.values, m.rows, m.cols);
  });
  return assembleLayerStats(plan, rows);
}

export interface LayerWeightStats {
  block: Float32Array;
  /** The weight of each row of three values, in block order. */
  names: string[];
}

/** One weight matrix to measure (conv kernels as [out, in*kh*kw]). */
export interface WeightMatrix {
  values: Float32Array | Float64Array;
  rows: number;
  cols: number;
}

/**
 * What weights:layers measures: the distinct weight matrices (each once, in the order first used), and per
 * Gemm/MatMul/Conv node in graph order the index of its matrix, or -1 when its weight is not a constant
 * matrix (then the node adds no row).
 */
export interface LayerWeightPlan {
  matrices: WeightMatrix[];
  names: string[];
  nodeMatrix: number[];
}

export function layerWeightPlan(model: OnnxModel): LayerWeightPlan {
  const order = new Map(model.layers.map((l, i) => [l.name, i]));
  const nodes = [...(model.proto.graph?.node ?? [])]
    .filter((n) => ['Gemm', 'MatMul', 'Conv', 'ConvTranspose'].includes(n.opType ?? ''))
    .sort((a, b) => (order.get((a.output ?? [])[0]) ?? 0) - (order.get((b.output ?? [])[0]) ?? 0));
  const matrices: WeightMatrix[] = [];
  const names: string[] = [];
  const nodeMatrix: number[] = [];
  const seen = new Map<string, number>();
  for (const n of nodes) {
    const wName = (n.input ?? [])[1];
    if (!wName) continue;
    let idx = seen.get(wName);
    if (idx === undefined) {
      const w = constantFloat32(model, wName);
      idx = -1;
      if (w && w.dims.length >= 2) {
        const rows = w.dims[0];
        idx = matrices.length;
        matrices.push({ values: w.values, rows, cols: w.values.length / Math.max(1, rows) });
        names.push(wName);
      }
      seen.set(wName, idx);
    }
    nodeMatrix.push(idx);
  }
  return { matrices, names, nodeMatrix };
}

/** [Frobenius norm, sigma1, sigma2] of one matrix (no singular values above MAX_SVD_ELEMENTS). */
export function matrixStats(values: Float32Array | Float64Array, rows: number, cols: number): number[] {
  const norm = frobeniusNorm(values);
  const sv = values.length <= MAX_SVD_ELEMENTS ? topSingularValues(values, rows, cols) : [0, 0];
  return [norm, sv[0], sv[1]];
}

/** The weights:layers block from each matrix's row: one row per node, in graph order. */
export function assembleLayerStats(plan: LayerWeightPlan, rows: number[][]): LayerWeightStats {
  const stats: number[] = [];
  const names: string[] = [];
  for (const idx of plan.nodeMatrix) {
    if (idx < 0) continue;
    stats.push(...rows[idx]);
    names.push(plan.names[idx]);
  }
  return { block: Float32Array.from(stats), names };
}

/** The model's time limit, checked before each matrix. */
export function checkDeadline(model: OnnxModel, opts: { deadline?: number; limitMs?: number }): void {
  if (opts.deadline !== undefined && Date.now() > opts.deadline) throw weightsTimeout(model, opts.limitMs);
}

export function weightsTimeout(model: OnnxModel, limitMs = 0): InputError {
  return timeLimitError(model.path, 'weight statistics', limitMs);
}
