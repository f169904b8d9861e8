/**
 * The dense linear algebra the detectors share: a row-major matrix type over typed arrays, blocked Gram
 * products (optionally centred on the fly, so a 1000 x 16384 float32 reference matrix is never copied to
 * float64), squared distances from Gram products, a symmetric eigendecomposition and a Cholesky factor.
 *
 * Why hand-written loops: every detector needs A·Bᵀ on wide rows (d up to 16384) and ml-matrix works with
 * per-element accessors, which is an order of magnitude slower there; the eigendecomposition is ml-matrix's
 * tred2/tql2 ported onto flat arrays (eigen.ts) for the same reason.
 */
import { InputError } from '../errors.js';
import { symmetricEigen } from './eigen.js';
import { ORT_GRAM_MIN_WORK, ortCrossGram, ortGramAvailable } from './gram-ort.js';

/** A dense row-major matrix: element (i, j) is data[i * cols + j]. */
export interface Mat {
  rows: number;
  cols: number;
  data: Float64Array | Float32Array;
}

/** Column block width of the Gram products: a block of all rows stays in cache while it is reused. */
const GRAM_COLUMN_BLOCK = 256;

export function mat(rows: number, cols: number, data?: Float64Array | Float32Array): Mat {
  const d = data ?? new Float64Array(rows * cols);
  if (d.length !== rows * cols) throw new Error(`mat: data length ${d.length} is not ${rows} x ${cols}`);
  return { rows, cols, data: d };
}

/** Builds a matrix from equal-length rows (used by tests and by callers holding one array per model). */
export function matFromRows(rows: ArrayLike<number>[], useFloat32 = false): Mat {
  const n = rows.length;
  const d = n > 0 ? rows[0].length : 0;
  const data = useFloat32 ? new Float32Array(n * d) : new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (r.length !== d) {
      throw new InputError(
        'degenerate-data',
        `row ${i} has ${r.length} values but row 0 has ${d}: every reference must have the same feature size`,
      );
    }
    for (let j = 0; j < d; j++) data[i * d + j] = r[j];
  }
  return { rows: n, cols: d, data };
}

export function row(X: Mat, i: number): Float64Array | Float32Array {
  return X.data.subarray(i * X.cols, (i + 1) * X.cols);
}

/** The rows idx of X, copied (same array type). */
export function selectRows(X: Mat, idx: ArrayLike<number>): Mat {
  const d = X.cols;
  const out =
    X.data instanceof Float32Array ? new Float32Array(idx.length * d) : new Float64Array(idx.length * d);
  for (let r = 0; r < idx.length; r++) out.set(X.data.subarray(idx[r] * d, idx[r] * d + d), r * d);
  return { rows: idx.length, cols: d, data: out };
}

/** Throws a clear InputError when X holds NaN or Inf (a detector must never turn them into NaN scores). */
export function assertFinite(X: Mat, what: string): void {
  const a = X.data;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) {
      const r = Math.floor(i / Math.max(1, X.cols));
      throw new InputError(
        'degenerate-data',
        `${what}: row ${r} holds a non-finite value (NaN or Inf); re-extract that fingerprint`,
      );
    }
  }
}

export function assertCols(Y: Mat, cols: number, what: string): void {
  if (Y.cols !== cols) {
    throw new InputError(
      'degenerate-data',
      `${what}: rows have ${Y.cols} features but the detector was fitted on ${cols}; rebuild the baseline for this model`,
    );
  }
}

export function colMeans(X: Mat): Float64Array {
  const { rows: n, cols: d, data } = X;
  const m = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) m[j] += data[o + j];
  }
  for (let j = 0; j < d; j++) m[j] /= Math.max(1, n);
  return m;
}

/** Variance of all entries of X together (population, ddof 0), as numpy's X.var(). */
export function varianceAll(X: Mat): number {
  const a = X.data;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) {
    const t = a[i] - mean;
    v += t * t;
  }
  return v / a.length;
}

/** Per-row mean and sum of squared deviations (two-pass within each row): see varianceOfRows. */
export interface RowMoments {
  cols: number;
  mean: Float64Array;
  m2: Float64Array;
}

export function rowMoments(X: Mat): RowMoments {
  const { rows: n, cols: d, data } = X;
  const mean = new Float64Array(n);
  const m2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += data[o + j];
    const mu = s / d;
    let v = 0;
    for (let j = 0; j < d; j++) {
      const t = data[o + j] - mu;
      v += t * t;
    }
    mean[i] = mu;
    m2[i] = v;
  }
  return { cols: d, mean, m2 };
}

/**
 * varianceAll of the rows idx, from their row moments (Chan et al.'s pairwise combination, as stable as
 * two passes), so cross-fitting folds need no copy of their rows and no pass over them.
 */
export function varianceOfRows(m: RowMoments, idx: ArrayLike<number>): number {
  const r = idx.length;
  if (r === 0 || m.cols === 0) return 0;
  let mu = 0;
  for (let t = 0; t < r; t++) mu += m.mean[idx[t]];
  mu /= r;
  let m2 = 0;
  for (let t = 0; t < r; t++) {
    const i = idx[t];
    const dm = m.mean[i] - mu;
    m2 += m.m2[i] + m.cols * dm * dm;
  }
  return m2 / (r * m.cols);
}

/**
 * A·Bᵀ (A.rows x B.rows, row-major float64), optionally with the vector `center` subtracted from every row
 * of both. Blocked over columns: each block of A and B is copied (centred) into float64 buffers, then all
 * row pairs are accumulated, so wide rows stream through cache once per block.
 * When `symmetric` (A and B are the same matrix) only the lower triangle is computed and mirrored.
 */
export function crossGram(A: Mat, B: Mat, center?: Float64Array, symmetric = false): Float64Array {
  if (A.cols !== B.cols) throw new Error(`crossGram: ${A.cols} vs ${B.cols} columns`);
  const n = A.rows;
  const m = B.rows;
  const d = A.cols;
  // a few query rows against many references (every scan): one streaming pass over B, no block copies
  if (n <= FEW_ROWS && !symmetric) return fewRowsGram(A, B, center);
  // big products go through ONNX Runtime's GEMM (float32, gram-ort.ts); small ones stay exact float64
  if (n * m * d >= ORT_GRAM_MIN_WORK) {
    const fast = ortCrossGram(A, B, center, symmetric);
    if (fast) return fast;
  }
  return blockedCrossGram(A, B, center, symmetric);
}

/** crossGram's exact float64 JavaScript path (blocked; used below ORT_GRAM_MIN_WORK or without ORT). */
export function blockedCrossGram(A: Mat, B: Mat, center?: Float64Array, symmetric = false): Float64Array {
  const n = A.rows;
  const m = B.rows;
  const d = A.cols;
  const out = new Float64Array(n * m);
  const bw = Math.min(GRAM_COLUMN_BLOCK, Math.max(1, d));
  const bufA = new Float64Array(n * bw);
  const bufB = symmetric ? bufA : new Float64Array(m * bw);
  for (let c0 = 0; c0 < d; c0 += bw) {
    const w = Math.min(bw, d - c0);
    copyBlock(A, c0, w, bufA, center);
    if (!symmetric) copyBlock(B, c0, w, bufB, center);
    accumulateBlock(bufA, bufB, n, m, w, out, symmetric);
  }
  if (symmetric) {
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) out[j * m + i] = out[i * m + j];
  }
  return out;
}

/**
 * out[i, j] += Σ_k a[i, k]·b[j, k] over one column block of width w, four rows of A by two rows of B at a
 * time: 8 accumulators in registers, each loaded value used 2-4 times (about 1.5x faster than 2 x 2 tiles
 * and 3x faster than plain dot products in V8). Rows past the end are clamped to the last row and their
 * sums discarded. With `symmetric` only pairs j <= i (rounded up to the tile) are computed.
 */
function accumulateBlock(
  a: Float64Array,
  b: Float64Array,
  n: number,
  m: number,
  w: number,
  out: Float64Array,
  symmetric: boolean,
): void {
  for (let i = 0; i < n; i += 4) {
    const o0 = i * w;
    const o1 = Math.min(i + 1, n - 1) * w;
    const o2 = Math.min(i + 2, n - 1) * w;
    const o3 = Math.min(i + 3, n - 1) * w;
    const jEnd = symmetric ? Math.min(m, i + 4) : m;
    for (let j = 0; j < jEnd; j += 2) {
      const p0 = j * w;
      const p1 = Math.min(j + 1, m - 1) * w;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      for (let k = 0; k < w; k++) {
        const b0 = b[p0 + k];
        const b1 = b[p1 + k];
        const a0 = a[o0 + k];
        const a1 = a[o1 + k];
        const a2 = a[o2 + k];
        const a3 = a[o3 + k];
        s00 += a0 * b0;
        s01 += a0 * b1;
        s10 += a1 * b0;
        s11 += a1 * b1;
        s20 += a2 * b0;
        s21 += a2 * b1;
        s30 += a3 * b0;
        s31 += a3 * b1;
      }
      const j1 = j + 1 < m;
      out[i * m + j] += s00;
      if (j1) out[i * m + j + 1] += s01;
      if (i + 1 < n) {
        out[(i + 1) * m + j] += s10;
        if (j1) out[(i + 1) * m + j + 1] += s11;
      }
      if (i + 2 < n) {
        out[(i + 2) * m + j] += s20;
        if (j1) out[(i + 2) * m + j + 1] += s21;
      }
      if (i + 3 < n) {
        out[(i + 3) * m + j] += s30;
        if (j1) out[(i + 3) * m + j + 1] += s31;
      }
    }
  }
}

/** Up to this many rows of A, crossGram takes the streaming dot-product path (fewRowsGram). */
const FEW_ROWS = 4;

/**
 * A·Bᵀ for a few rows of A: each centred row of A is made once in float64, then every row of B is read
 * once and centred on the fly, the same arithmetic as the blocked path without copying B (n x d) per call.
 */
function fewRowsGram(A: Mat, B: Mat, center?: Float64Array): Float64Array {
  const memo = lastQuery;
  if (memo && memo.B === B.data && sameValues(memo.A, A.data) && sameCenter(memo.center, center, A.cols)) {
    return Float64Array.from(memo.G);
  }
  const n = A.rows;
  const m = B.rows;
  const d = A.cols;
  const out = new Float64Array(n * m);
  const a = new Float64Array(d);
  const b = B.data;
  const c = center ?? new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let k = 0; k < d; k++) a[k] = A.data[o + k] - c[k];
    // four rows of B per sweep: a[k] and c[k] are loaded once for all four
    for (let j = 0; j < m; j += 4) {
      const p0 = j * d;
      const p1 = Math.min(j + 1, m - 1) * d;
      const p2 = Math.min(j + 2, m - 1) * d;
      const p3 = Math.min(j + 3, m - 1) * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < d; k++) {
        const ak = a[k];
        const ck = c[k];
        s0 += ak * (b[p0 + k] - ck);
        s1 += ak * (b[p1 + k] - ck);
        s2 += ak * (b[p2 + k] - ck);
        s3 += ak * (b[p3 + k] - ck);
      }
      out[i * m + j] = s0;
      if (j + 1 < m) out[i * m + j + 1] = s1;
      if (j + 2 < m) out[i * m + j + 2] = s2;
      if (j + 3 < m) out[i * m + j + 3] = s3;
    }
  }
  lastQuery = {
    A: A.data instanceof Float32Array ? Float32Array.from(A.data) : Float64Array.from(A.data),
    B: B.data,
    center: center ? Float64Array.from(center) : undefined,
    G: Float64Array.from(out),
  };
  return out;
}

/**
 * The last few-rows product: a scan scores ONE fingerprint with several detectors fitted on the same
 * reference matrix (kNN and LOF both query it with its column means), so the second asks for exactly the
 * first's product. A hit needs the same reference array (references are immutable once fitted: every
 * detector keeps them by reference) and equal query values and centre (compared, O(d)).
 */
let lastQuery: {
  A: Float32Array | Float64Array;
  B: Float64Array | Float32Array;
  center?: Float64Array;
  G: Float64Array;
} | null = null;

function sameValues(x: ArrayLike<number>, y: ArrayLike<number>): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function sameCenter(x: Float64Array | undefined, y: Float64Array | undefined, d: number): boolean {
  if (!x || !y) return !x && !y;
  return x.length === d && sameValues(x, y);
}

/**
 * Squared distances from a few query rows to every row of B, directly (Σ (a - b)²): exact, one pass over B,
 * no centre needed (the Gram route must centre to stay well conditioned, which costs a pass of its own).
 */
function fewRowsSqDistances(A: Mat, B: Mat): Float64Array {
  const n = A.rows;
  const m = B.rows;
  const d = A.cols;
  const out = new Float64Array(n * m);
  const a = new Float64Array(d);
  const b = B.data;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let k = 0; k < d; k++) a[k] = A.data[o + k];
    for (let j = 0; j < m; j++) {
      const p = j * d;
      let s0 = 0;
      let s1 = 0;
      let k = 0;
      for (; k + 1 < d; k += 2) {
        const t0 = a[k] - b[p + k];
        const t1 = a[k + 1] - b[p + k + 1];
        s0 += t0 * t0;
        s1 += t1 * t1;
      }
      if (k < d) {
        const t = a[k] - b[p + k];
        s0 += t * t;
      }
      out[i * m + j] = s0 + s1;
    }
  }
  return out;
}

function copyBlock(X: Mat, c0: number, w: number, buf: Float64Array, center?: Float64Array): void {
  const { rows: n, cols: d, data } = X;
  for (let i = 0; i < n; i++) {
    const src = i * d + c0;
    const dst = i * w;
    if (center) for (let k = 0; k < w; k++) buf[dst + k] = data[src + k] - center[c0 + k];
    else for (let k = 0; k < w; k++) buf[dst + k] = data[src + k];
  }
}

/** X·Xᵀ (optionally centred), n x n. */
export function gram(X: Mat, center?: Float64Array): Float64Array {
  return crossGram(X, X, center, true);
}

/** Squared Euclidean norms of the rows (optionally centred). */
export function rowSqNorms(X: Mat, center?: Float64Array): Float64Array {
  const { rows: n, cols: d, data } = X;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * d;
    if (center) {
      for (let j = 0; j < d; j++) {
        const t = data[o + j] - center[j];
        s += t * t;
      }
    } else {
      for (let j = 0; j < d; j++) s += data[o + j] * data[o + j];
    }
    out[i] = s;
  }
  return out;
}

/** The centred Gram matrix of a reference matrix with its centre and row norms (and, lazily, distances). */
export interface SelfGram {
  center: Float64Array;
  /** (X - center)(X - center)ᵀ, n x n. */
  G: Float64Array;
  /** Squared norms of the centred rows (the diagonal of G). */
  norms: Float64Array;
  /**
   * Relative agreement a cache hit's norms must show with the rows' recomputed norms: 1e-9 for a float64
   * Gram; looser when off-diagonal entries came from ONNX Runtime's float32 product (gram-ort.ts), whose
   * ~1e-7 rounding reaches the norms of a subset's re-centred Gram (selectRowsSharingGram).
   */
  tolerance: number;
  /** Squared pairwise distances, filled on first use. */
  D2?: Float64Array;
  /** Eigendecomposition of G, filled on first use (PCA, GMM and the autoencoder all need it). */
  eig?: { values: Float64Array; vectors: Float64Array };
}

/**
 * One Gram product per reference matrix, shared by every detector and fold that needs it (LOF, kNN, OCSVM,
 * PCA all start from it): keyed by the matrix's data array, so channels on the same block reuse it.
 * A hit is re-validated against the rows' norms (see stillMatches), so a mutated buffer is recomputed.
 */
const selfGramCache = new WeakMap<Float64Array | Float32Array, SelfGram>();

export function selfGram(X: Mat): SelfGram {
  const hit = selfGramCache.get(X.data);
  if (hit && hit.norms.length === X.rows && hit.center.length === X.cols && stillMatches(X, hit)) return hit;
  const center = colMeans(X);
  const G = crossGram(X, X, center, true);
  const n = X.rows;
  const norms = new Float64Array(n);
  const viaOrt = usesOrt(n, n, X.cols);
  if (viaOrt) {
    // float32 product: put the exact float64 norms on the diagonal (D²ᵢᵢ = 0 exactly, cache checks exact)
    norms.set(rowSqNorms(X, center));
    for (let i = 0; i < n; i++) G[i * n + i] = norms[i];
  } else {
    for (let i = 0; i < n; i++) norms[i] = G[i * n + i];
  }
  const entry: SelfGram = { center, G, norms, tolerance: viaOrt ? FLOAT32_GRAM_TOLERANCE : EXACT_TOLERANCE };
  selfGramCache.set(X.data, entry);
  return entry;
}

/**
 * The rows idx of X (copied), with the centred Gram matrix of the subset derived from X's cached one when
 * there is one: re-centring on the subset's mean is G'ᵢⱼ = Gᵢⱼ - rᵢ - rⱼ + c (rᵢ = mean over the subset of
 * Gᵢₖ, c = mean of r), O(m²) instead of a new O(m² d) product. Cross-fitting folds use it.
 */
export function selectRowsSharingGram(X: Mat, idx: ArrayLike<number>): Mat {
  const sub = selectRows(X, idx);
  const parent = selfGramCache.get(X.data);
  if (!parent || parent.norms.length !== X.rows) return sub;
  const m = idx.length;
  const n = X.rows;
  const r = new Float64Array(m);
  for (let a = 0; a < m; a++) {
    let s = 0;
    const o = idx[a] * n;
    for (let b = 0; b < m; b++) s += parent.G[o + idx[b]];
    r[a] = s / m;
  }
  let c = 0;
  for (let a = 0; a < m; a++) c += r[a] / m;
  const G = new Float64Array(m * m);
  const norms = new Float64Array(m);
  for (let a = 0; a < m; a++) {
    const o = idx[a] * n;
    for (let b = 0; b < m; b++) G[a * m + b] = parent.G[o + idx[b]] - r[a] - r[b] + c;
    norms[a] = G[a * m + a];
  }
  selfGramCache.set(sub.data, { center: colMeans(sub), G, norms, tolerance: parent.tolerance });
  return sub;
}

const EXACT_TOLERANCE = 1e-9;
/** float32 accumulation over d terms: ~1e-7 relative per entry, summed over a subset's re-centring. */
const FLOAT32_GRAM_TOLERANCE = 1e-4;

/** Whether crossGram takes the ONNX Runtime path for an n x m x d product. */
function usesOrt(n: number, m: number, d: number): boolean {
  return n > FEW_ROWS && n * m * d >= ORT_GRAM_MIN_WORK && ortGramAvailable();
}

/**
 * Guards the cache against a caller that reuses and mutates a buffer: the centred row norms, O(n·d), must
 * still equal the cached diagonal (a mutated row changes its norm except by rare coincidence).
 */
function stillMatches(X: Mat, g: SelfGram): boolean {
  const norms = rowSqNorms(X, g.center);
  for (let i = 0; i < norms.length; i++) {
    if (Math.abs(norms[i] - g.norms[i]) > g.tolerance * Math.max(1, norms[i])) return false;
  }
  return true;
}

/** Eigendecomposition of X's centred Gram matrix (cached with it). */
export function selfGramEig(X: Mat): {
  center: Float64Array;
  eig: { values: Float64Array; vectors: Float64Array };
} {
  const g = selfGram(X);
  if (!g.eig) g.eig = symEig(g.G, X.rows);
  return { center: g.center, eig: g.eig };
}

/** Squared pairwise distances between the rows of X (cached with its Gram matrix). */
export function selfSqDistances(X: Mat): Float64Array {
  const g = selfGram(X);
  if (!g.D2) g.D2 = sqDistancesFromGram(g.G, g.norms, g.norms);
  return g.D2;
}

/**
 * Squared distances between the rows of A (n) and B (m), n x m, from one Gram product. Rows are centred
 * on B's mean first, which keeps |a|² + |b|² - 2a·b well conditioned when the data sit far from the origin.
 */
export function sqDistances(A: Mat, B: Mat): Float64Array {
  if (A === B) return Float64Array.from(selfSqDistances(A));
  if (A.cols !== B.cols) throw new Error(`sqDistances: ${A.cols} vs ${B.cols} columns`);
  if (A.rows <= FEW_ROWS) return fewRowsSqDistances(A, B);
  const c = colMeans(B);
  const G = crossGram(A, B, c);
  return sqDistancesFromGram(G, rowSqNorms(A, c), rowSqNorms(B, c));
}

/** D[i,j] = max(0, na[i] + nb[j] - 2 G[i,j]). */
export function sqDistancesFromGram(G: Float64Array, na: Float64Array, nb: Float64Array): Float64Array {
  const n = na.length;
  const m = nb.length;
  const D = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const v = na[i] + nb[j] - 2 * G[i * m + j];
      D[i * m + j] = v > 0 ? v : 0;
    }
  }
  return D;
}

/** The sub-matrix M[rowsIdx, colsIdx] of a row-major matrix with `cols` columns. */
export function subMatrix(
  M: Float64Array,
  cols: number,
  rowsIdx: ArrayLike<number>,
  colsIdx: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(rowsIdx.length * colsIdx.length);
  for (let r = 0; r < rowsIdx.length; r++) {
    const o = rowsIdx[r] * cols;
    for (let c = 0; c < colsIdx.length; c++) out[r * colsIdx.length + c] = M[o + colsIdx[c]];
  }
  return out;
}

/**
 * Eigendecomposition of a symmetric n x n matrix (row-major): eigenvalues in descending order and the
 * matching unit eigenvectors as the COLUMNS of `vectors` (row-major n x n).
 */
export function symEig(S: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const { values: asc, rowsAreVectors: W } = symmetricEigen(S, n);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    const src = n - 1 - c; // ascending -> descending
    values[c] = asc[src];
    const o = src * n;
    for (let r = 0; r < n; r++) vectors[r * n + c] = W[o + r];
  }
  return { values, vectors };
}

/** Lower Cholesky factor L (row-major) of a symmetric positive definite matrix, or null if it is not. */
export function cholesky(A: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let s = A[j * n + j];
    for (let k = 0; k < j; k++) s -= L[j * n + k] * L[j * n + k];
    if (!(s > 0)) return null;
    const ljj = Math.sqrt(s);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let t = A[i * n + j];
      for (let k = 0; k < j; k++) t -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = t / ljj;
    }
  }
  return L;
}

/** Solves L y = b in place (L lower triangular, row-major). */
export function forwardSubstitute(L: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * b[k];
    b[i] = s / L[i * n + i];
  }
  return b;
}

/** Log-determinant from a Cholesky factor. */
export function logDetFromCholesky(L: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(L[i * n + i]);
  return 2 * s;
}

/** Inverse of a symmetric positive definite matrix via its Cholesky factor. */
export function spdInverse(A: Float64Array, n: number): Float64Array | null {
  const L = cholesky(A, n);
  if (!L) return null;
  const inv = new Float64Array(n * n);
  const e = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    e.fill(0);
    e[c] = 1;
    forwardSubstitute(L, n, e);
    // back substitution with Lᵀ
    for (let i = n - 1; i >= 0; i--) {
      let s = e[i];
      for (let k = i + 1; k < n; k++) s -= L[k * n + i] * e[k];
      e[i] = s / L[i * n + i];
    }
    for (let r = 0; r < n; r++) inv[r * n + c] = e[r];
  }
  return inv;
}
