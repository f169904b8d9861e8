/**
 * Large Gram products A·Bᵀ through ONNX Runtime's MatMul kernel (MLAS: vectorised, cache-blocked float32
 * GEMM), which runs one to two orders of magnitude faster than the JavaScript loops in linalg.ts. For the
 * reference matrices of a big baseline (1000 x 16384) the product is the hot spot of fitting the ensemble.
 *
 * The detectors are synchronous (fit/score), so this module uses onnxruntime-node's native binding, whose
 * `run` is synchronous (the public InferenceSession only wraps it in a Promise on setImmediate). That is an
 * internal module of onnxruntime-node: every use is guarded, and any failure (module layout changed, load
 * error) permanently falls back to the JavaScript path, so results are never lost, only slower.
 *
 * Precision: ORT computes in float32 (rows are centred in float64 first, then rounded), so the result is
 * exact to ~1e-6 relative instead of float64's ~1e-15. linalg.ts therefore uses it only above
 * ORT_GRAM_MIN_WORK multiply-adds, far above the sizes the parity tests check bit-for-bit against
 * scikit-learn. The process should set ORT_DISABLE_TELEMETRY=1 (the entry points do).
 *
 * ortGemm (same native binding, one cached single-threaded session per transpose form) multiplies a weight
 * matrix by a few vectors for the weight statistics' Krylov estimate (src/fingerprint/weights.ts).
 */
import os from 'node:os';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import { binding, initOrt } from 'onnxruntime-node/dist/binding.js';
import { GraphBuilder, attr } from '../model/write.js';
import type { Mat } from './linalg.js';

/**
 * Multiply-adds (rows(A) · rows(B) · cols) from which the ORT path is used: about 0.1 s of JavaScript, so
 * the float32 rounding never touches the small problems (tests, baselines of tens of models) and the
 * session start-up (~5 ms) is negligible where it is used.
 */
export const ORT_GRAM_MIN_WORK = 5e7;

/** Largest single input the ORT path takes (elements of A or B); beyond it the JS path streams in blocks. */
export const ORT_GRAM_MAX_ELEMENTS = 256 * 1024 * 1024;

type NativeSession = InstanceType<typeof binding.InferenceSession>;

let session: NativeSession | null = null;
let unavailable = false;

/** The one cached session: G = Gemm(A, B, transB=1) with symbolic shapes A [n, d], B [m, d]. */
function gemmSession(): NativeSession | null {
  if (session || unavailable) return session;
  try {
    const g = new GraphBuilder({ graphName: 'gram' });
    g.addInput('A', 'float32', ['n', 'd']);
    g.addInput('B', 'float32', ['m', 'd']);
    g.addNode('Gemm', ['A', 'B'], ['G'], { transB: attr.int(1) }, { name: 'gram' });
    g.addOutput('G', 'float32', ['n', 'm']);
    const bytes = g.toBytes();
    initOrt();
    const s = new binding.InferenceSession();
    s.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
      // ORT's own default (one thread per core) capped: the product is memory-light, threads scale well
      intraOpNumThreads: Math.max(1, Math.min(4, os.availableParallelism())),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // no busy-waiting between runs: on a shared runner spinning threads steal the cores the
      // product needs (measured 2x slower under load)
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    } satisfies InferenceSession.SessionOptions);
    session = s;
  } catch {
    unavailable = true;
  }
  return session;
}

/** (X - center) as a float32 row-major copy (the centring itself in float64). */
function centred32(X: Mat, center?: Float64Array): Float32Array {
  const { rows: n, cols: d, data } = X;
  if (!center && data instanceof Float32Array) return data;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    if (center) for (let j = 0; j < d; j++) out[o + j] = data[o + j] - center[j];
    else for (let j = 0; j < d; j++) out[o + j] = data[o + j];
  }
  return out;
}

/**
 * A·Bᵀ (optionally centred), as float64 n x m, computed by ORT; null when ORT cannot be used (the caller
 * then takes the JavaScript path). With `symmetric` (A and B the same matrix) the result is symmetrised
 * exactly, (G + Gᵀ)/2, so downstream code can rely on G[i,j] === G[j,i].
 */
export function ortCrossGram(A: Mat, B: Mat, center?: Float64Array, symmetric = false): Float64Array | null {
  if (A.rows * A.cols > ORT_GRAM_MAX_ELEMENTS || B.rows * B.cols > ORT_GRAM_MAX_ELEMENTS) return null;
  const s = gemmSession();
  if (!s) return null;
  const n = A.rows;
  const m = B.rows;
  const d = A.cols;
  const out = new Float64Array(n * m);
  try {
    const a = centred32(A, center);
    if (symmetric) {
      symmetricBlocks(s, a, n, d, out);
    } else {
      const b = centred32(B, center);
      product(s, a, 0, n, b, 0, m, d, out, m);
    }
  } catch {
    unavailable = true;
    session = null;
    return null;
  }
  return out;
}

/**
 * One run: rows [r0, r0 + nr) of a times rows [c0, c0 + nc) of b (both d wide), written into out (row
 * length outCols) at (r0, c0). Throws if ORT returns something unexpected (the caller falls back).
 */
function product(
  s: NativeSession,
  a: Float32Array,
  r0: number,
  nr: number,
  b: Float32Array,
  c0: number,
  nc: number,
  d: number,
  out: Float64Array,
  outCols: number,
): void {
  const ta = new Tensor('float32', a.subarray(r0 * d, (r0 + nr) * d), [nr, d]);
  const tb =
    a === b && r0 === c0 && nr === nc
      ? ta
      : new Tensor('float32', b.subarray(c0 * d, (c0 + nc) * d), [nc, d]);
  const res = s.run({ A: ta, B: tb }, { G: null }, {});
  const G = (res.G as Tensor).data as Float32Array;
  if (G.length !== nr * nc) throw new Error(`gram-ort: ${G.length} values, expected ${nr * nc}`);
  for (let i = 0; i < nr; i++) {
    const o = (r0 + i) * outCols + c0;
    for (let j = 0; j < nc; j++) out[o + j] = G[i * nc + j];
  }
}

/** Rows per block of the symmetric product: GEMMs this size still run at full speed. */
const SYMMETRIC_BLOCK_ROWS = 256;
const MAX_SYMMETRIC_BLOCKS = 4;

/**
 * a·aᵀ from the blocks on and below the diagonal only (b blocks: b(b+1)/2 of b² products, 62% at b = 4),
 * mirrored; diagonal blocks are symmetrised, (G + Gᵀ)/2, so the result is exactly symmetric.
 */
function symmetricBlocks(s: NativeSession, a: Float32Array, n: number, d: number, out: Float64Array): void {
  const nb = Math.max(1, Math.min(MAX_SYMMETRIC_BLOCKS, Math.floor(n / SYMMETRIC_BLOCK_ROWS)));
  const edges = Array.from({ length: nb + 1 }, (_, t) => Math.round((t * n) / nb));
  for (let bi = 0; bi < nb; bi++) {
    for (let bj = 0; bj <= bi; bj++) {
      const r0 = edges[bi];
      const c0 = edges[bj];
      product(s, a, r0, edges[bi + 1] - r0, a, c0, edges[bj + 1] - c0, d, out, n);
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const lower = out[i * n + j];
      // inside a diagonal block both halves were computed: average them; elsewhere mirror the lower one
      const v = sameBlock(edges, i, j) ? (lower + out[j * n + i]) / 2 : lower;
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
}

function sameBlock(edges: number[], i: number, j: number): boolean {
  for (let t = 1; t < edges.length; t++) if (i < edges[t]) return j >= edges[t - 1];
  return false;
}

/** Whether the ORT path loaded (false after a failure: everything then runs in JavaScript). */
export function ortGramAvailable(): boolean {
  return gemmSession() !== null;
}

/** Cached native sessions of Y = Gemm(A, B) for each (transA, transB), built on first use. */
const gemmByForm = new Map<string, NativeSession | null>();

function gemmFormSession(transA: boolean, transB: boolean): NativeSession | null {
  const key = `${transA ? 1 : 0}${transB ? 1 : 0}`;
  const hit = gemmByForm.get(key);
  if (hit !== undefined) return hit;
  let s: NativeSession | null = null;
  try {
    const g = new GraphBuilder({ graphName: `gemm${key}` });
    g.addInput('A', 'float32', ['a0', 'a1']);
    g.addInput('B', 'float32', ['b0', 'b1']);
    g.addNode(
      'Gemm',
      ['A', 'B'],
      ['Y'],
      { transA: attr.int(transA ? 1 : 0), transB: attr.int(transB ? 1 : 0) },
      { name: 'gemm' },
    );
    g.addOutput('Y', 'float32', ['m', 'n']);
    const bytes = g.toBytes();
    initOrt();
    s = new binding.InferenceSession();
    s.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
      // one thread: these products (a matrix times a few vectors) are memory-bound, and on a shared 2-core
      // runner a second thread measured slower (it waits on a descheduled partner), not faster
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    } satisfies InferenceSession.SessionOptions);
  } catch {
    s = null;
  }
  gemmByForm.set(key, s);
  return s;
}

/**
 * op(A)·op(B) in float32 through ORT's Gemm (op = transpose when asked), A given as aRows x aCols and B as
 * bRows x bCols row-major; null when ORT cannot be used or the shapes do not agree (the caller then computes
 * in JavaScript). Used by the weight statistics for W·V and Wᵀ·U products on large weight matrices.
 */
export function ortGemm(
  A: Float32Array,
  aRows: number,
  aCols: number,
  B: Float32Array,
  bRows: number,
  bCols: number,
  transA = false,
  transB = false,
): Float32Array | null {
  const k = transA ? aRows : aCols;
  if (k !== (transB ? bCols : bRows)) return null;
  if (A.length !== aRows * aCols || B.length !== bRows * bCols) return null;
  const s = gemmFormSession(transA, transB);
  if (!s) return null;
  try {
    const res = s.run(
      { A: new Tensor('float32', A, [aRows, aCols]), B: new Tensor('float32', B, [bRows, bCols]) },
      { Y: null },
      {},
    );
    const Y = (res.Y as Tensor).data as Float32Array;
    const want = (transA ? aCols : aRows) * (transB ? bRows : bCols);
    return Y.length === want ? Y : null;
  } catch {
    return null;
  }
}
