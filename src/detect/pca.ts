/**
 * Principal component analysis as scikit-learn's PCA(svd_solver="full") computes it: centred data, component
 * variances with ddof 1, and "keep a share v of the variance" resolved as the smallest k whose cumulative
 * explained-variance ratio exceeds v (numpy searchsorted(side="right") + 1).
 * When there are fewer rows than features (the usual case: tens of models, thousands of features) it works
 * from the n x n centred Gram matrix (one product, one small eigendecomposition) instead of a d x d covariance.
 * Component signs are arbitrary (as in any SVD); every consumer here is sign-invariant.
 */
import { InputError } from '../errors.js';
import { colMeans, gram, symEig, type Mat } from './linalg.js';

export interface PcaModel {
  d: number;
  k: number;
  mean: Float64Array;
  /** k x d row-major unit vectors. */
  components: Float64Array;
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

export function fitPca(X: Mat, opts: PcaOptions): PcaModel {
  const { rows: n, cols: d, data } = X;
  if (n < 2) throw new InputError('degenerate-data', `PCA needs at least 2 reference rows, got ${n}`);
  const mean = colMeans(X);
  let values: Float64Array;
  let comps: Float64Array; // all components, rank x d
  let rank: number;
  if (n <= d) {
    const K = gram(X, mean);
    const eig = symEig(K, n);
    rank = countRank(eig.values);
    values = eig.values.slice(0, rank);
    comps = new Float64Array(rank * d);
    // component c = Xcᵀ u_c / sqrt(λ_c), accumulated row by row (one pass over X)
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let c = 0; c < rank; c++) {
        const w = eig.vectors[i * n + c] / Math.sqrt(values[c]);
        if (w === 0) continue;
        const oc = c * d;
        for (let j = 0; j < d; j++) comps[oc + j] += w * (data[o + j] - mean[j]);
      }
    }
  } else {
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
    rank = countRank(eig.values);
    values = eig.values.slice(0, rank);
    comps = new Float64Array(rank * d);
    for (let c = 0; c < rank; c++) for (let j = 0; j < d; j++) comps[c * d + j] = eig.vectors[j * d + c];
  }
  if (rank === 0) {
    throw new InputError(
      'degenerate-data',
      'PCA: the reference rows have zero variance; use distinct reference models',
    );
  }
  const variances = new Float64Array(rank);
  let total = 0;
  for (let c = 0; c < rank; c++) {
    variances[c] = values[c] / (n - 1);
    total += variances[c];
  }
  let k = rank;
  if (opts.varianceKept !== undefined && opts.varianceKept < 1) {
    let cum = 0;
    let below = 0;
    for (let c = 0; c < rank; c++) {
      cum += variances[c] / total;
      if (cum <= opts.varianceKept) below = c + 1;
    }
    k = Math.min(rank, below + 1);
  }
  if (opts.maxComponents !== undefined) k = Math.max(1, Math.min(k, Math.floor(opts.maxComponents)));
  return {
    d,
    k,
    mean,
    components: comps.slice(0, k * d),
    variances: variances.slice(0, k),
    totalVariance: total,
  };
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
  const { k, components: V, mean } = p;
  const out = new Float64Array(m * k);
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

export function pcaToState(p: PcaModel): { [key: string]: number | Float64Array } {
  return {
    d: p.d,
    k: p.k,
    mean: p.mean,
    components: p.components,
    variances: p.variances,
    totalVariance: p.totalVariance,
  };
}

export function pcaFromState(s: { [key: string]: unknown }): PcaModel {
  return {
    d: s.d as number,
    k: s.k as number,
    mean: s.mean as Float64Array,
    components: s.components as Float64Array,
    variances: s.variances as Float64Array,
    totalVariance: s.totalVariance as number,
  };
}
