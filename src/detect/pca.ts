/**
 * Principal component analysis as scikit-learn's PCA(svd_solver="full") computes it: centred data, component
 * variances with ddof 1, and "keep a share v of the variance" resolved as the smallest k whose cumulative
 * explained-variance ratio exceeds v (numpy searchsorted(side="right") + 1).
 * When there are fewer rows than features (the usual case: tens of models, thousands of features) it works
 * from the n x n centred Gram matrix (one product, one small eigendecomposition) instead of a d x d covariance.
 * Component signs are arbitrary (as in any SVD); every consumer here is sign-invariant.
 */
import { InputError } from '../errors.js';
import { type StateValue } from './detector.js';
import { colMeans, crossGram, mat, selfGramEig, symEig, type Mat } from './linalg.js';

export interface PcaModel {
  d: number;
  k: number;
  mean: Float64Array;
  /**
   * Primal form (rows > features): k x d row-major unit vectors. Dual form (rows <= features): null, and
   * scores are (y - mean)·(X - mean)ᵀ · dualWeights, so no k x d matrix is ever built.
   */
  components: Float64Array | null;
  /** Dual form: the reference rows and n x k weights U_k / sqrt(λ_k). */
  refs: Mat | null;
  dualWeights: Float64Array | null;
  /** Variance of each component (ddof 1). */
  variances: Float64Array;
  /** Sum of all component variances (= total variance of the data). */
  totalVariance: number;
}

export interface PcaOptions {
  /** Keep the smallest k whose cumulative explained-variance ratio exceeds this (0 < v < 1). */
  varianceKept?: number;
  /** Keep at most this many components. */
  maxComponents?: number;
}

/** Relative size under which an eigenvalue counts as zero (rank deficiency of the centred data). */
const RANK_TOLERANCE = 1e-12;

export interface PcaFit {
  model: PcaModel;
  /** Scores of the training rows on the kept components (rows x k), without another pass over X. */
  trainScores: Mat;
}

export function fitPca(X: Mat, opts: PcaOptions): PcaFit {
  const { rows: n, cols: d, data } = X;
  if (n < 2) throw new InputError('degenerate-data', `PCA needs at least 2 reference rows, got ${n}`);
  if (n <= d) {
    const { center: mean, eig } = selfGramEig(X);
    const rank = countRank(eig.values);
    if (rank === 0) throw zeroVariance();
    const k = chooseK(eig.values, rank, n, opts);
    const W = new Float64Array(n * k);
    const Z = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < k; c++) {
        const u = eig.vectors[i * n + c];
        const sv = Math.sqrt(eig.values[c]);
        W[i * k + c] = u / sv;
        Z[i * k + c] = u * sv; // Kc·u/√λ = u·√λ
      }
    }
    return {
      model: {
        d,
        k,
        mean,
        components: null,
        refs: X,
        dualWeights: W,
        variances: variancesOf(eig.values, k, n),
        totalVariance: totalOf(eig.values, rank, n),
      },
      trainScores: { rows: n, cols: k, data: Z },
    };
  }
  const mean = colMeans(X);
  const C = new Float64Array(d * d);
  const xc = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) xc[j] = data[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const va = xc[a];
      if (va === 0) continue;
      for (let b = 0; b <= a; b++) C[a * d + b] += va * xc[b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) C[b * d + a] = C[a * d + b];
  const eig = symEig(C, d);
  const rank = countRank(eig.values);
  if (rank === 0) throw zeroVariance();
  const k = chooseK(eig.values, rank, n, opts);
  const comps = new Float64Array(k * d);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) comps[c * d + j] = eig.vectors[j * d + c];
  const model: PcaModel = {
    d,
    k,
    mean,
    components: comps,
    refs: null,
    dualWeights: null,
    variances: variancesOf(eig.values, k, n),
    totalVariance: totalOf(eig.values, rank, n),
  };
  return { model, trainScores: pcaTransform(model, X) };
}

function zeroVariance(): InputError {
  return new InputError(
    'degenerate-data',
    'PCA: the reference rows have zero variance; use distinct reference models',
  );
}

function variancesOf(values: Float64Array, k: number, n: number): Float64Array {
  return Float64Array.from(values.subarray(0, k), (v) => v / (n - 1));
}

function totalOf(values: Float64Array, rank: number, n: number): number {
  let t = 0;
  for (let c = 0; c < rank; c++) t += values[c] / (n - 1);
  return t;
}

/** scikit-learn's rule: the smallest k whose cumulative explained-variance ratio exceeds the share kept. */
function chooseK(values: Float64Array, rank: number, n: number, opts: PcaOptions): number {
  let k = rank;
  if (opts.varianceKept !== undefined && opts.varianceKept < 1) {
    const total = totalOf(values, rank, n);
    let cum = 0;
    let below = 0;
    for (let c = 0; c < rank; c++) {
      cum += values[c] / (n - 1) / total;
      if (cum <= opts.varianceKept) below = c + 1;
    }
    k = Math.min(rank, below + 1);
  }
  if (opts.maxComponents !== undefined) k = Math.max(1, Math.min(k, Math.floor(opts.maxComponents)));
  return k;
}

function countRank(values: Float64Array): number {
  const top = values.length > 0 ? Math.max(values[0], 0) : 0;
  let r = 0;
  while (r < values.length && values[r] > RANK_TOLERANCE * top && values[r] > 0) r++;
  return r;
}

/** Scores of Y's rows on the kept components: rows x k. */
export function pcaTransform(p: PcaModel, Y: Mat): Mat {
  const { rows: m, cols: d, data } = Y;
  const { k, mean } = p;
  const out = new Float64Array(m * k);
  if (p.refs && p.dualWeights) {
    const n = p.refs.rows;
    const G = crossGram(Y, p.refs, mean);
    const W = p.dualWeights;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const g = G[i * n + j];
        if (g === 0) continue;
        const oj = j * k;
        const oi = i * k;
        for (let c = 0; c < k; c++) out[oi + c] += g * W[oj + c];
      }
    }
    return { rows: m, cols: k, data: out };
  }
  const V = p.components as Float64Array;
  const yc = new Float64Array(d);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < d; j++) yc[j] = data[i * d + j] - mean[j];
    for (let c = 0; c < k; c++) {
      const oc = c * d;
      let s = 0;
      for (let j = 0; j < d; j++) s += yc[j] * V[oc + j];
      out[i * k + c] = s;
    }
  }
  return { rows: m, cols: k, data: out };
}

export function pcaToState(p: PcaModel): { [key: string]: StateValue } {
  return {
    d: p.d,
    k: p.k,
    mean: p.mean,
    components: p.components,
    refRows: p.refs ? p.refs.rows : 0,
    refs: p.refs ? p.refs.data : null,
    dualWeights: p.dualWeights,
    variances: p.variances,
    totalVariance: p.totalVariance,
  };
}

export function pcaFromState(s: { [key: string]: unknown }): PcaModel {
  const refs = s.refs as Float32Array | Float64Array | null;
  return {
    d: s.d as number,
    k: s.k as number,
    mean: s.mean as Float64Array,
    components: (s.components as Float64Array | null) ?? null,
    refs: refs ? mat(s.refRows as number, s.d as number, refs) : null,
    dualWeights: (s.dualWeights as Float64Array | null) ?? null,
    variances: s.variances as Float64Array,
    totalVariance: s.totalVariance as number,
  };
}
