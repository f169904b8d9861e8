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
 */
import os from 'node:os';
import { Tensor } from 'onnxruntime-node';
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
    });
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
  let G: Float32Array;
  try {
    const a = centred32(A, center);
    const ta = new Tensor('float32', a, [n, d]);
    const tb = symmetric ? ta : new Tensor('float32', centred32(B, center), [m, d]);
    const res = s.run({ A: ta, B: tb }, { G: null }, {});
    G = (res.G as Tensor).data as Float32Array;
  } catch {
    unavailable = true;
    session = null;
    return null;
  }
  if (G.length !== n * m) return null;
  const out = new Float64Array(n * m);
  if (symmetric) {
    for (let i = 0; i < n; i++) {
      out[i * m + i] = G[i * m + i];
      for (let j = 0; j < i; j++) {
        const v = (G[i * m + j] + G[j * m + i]) / 2;
        out[i * m + j] = v;
        out[j * m + i] = v;
      }
    }
  } else {
    for (let t = 0; t < out.length; t++) out[t] = G[t];
  }
  return out;
}

/** Whether the ORT path loaded (false after a failure: everything then runs in JavaScript). */
export function ortGramAvailable(): boolean {
  return gemmSession() !== null;
}
