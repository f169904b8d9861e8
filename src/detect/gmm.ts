/**
 * Gaussian mixture novelty score (score = -log-likelihood), fitted as scikit-learn's GaussianMixture does:
 * full covariances, k-means initialisation (k-means++ seeding with 2 + ln k local trials, then Lloyd),
 * EM until the mean log-likelihood changes by less than 1e-3 (at most 100 iterations), reg_covar added to
 * every covariance diagonal. Seeded with the project's own generator, so it is reproducible but does not
 * replay numpy's random stream (the parity test therefore uses gmmLogLikelihood under fixed parameters).
 *
 * When the rows have more than `maxDim` features (default GMM_DEFAULT_MAX_DIM = 32) the mixture is fitted
 * on the first min(maxDim, n - 1) principal components: full covariances in thousands of dimensions from
 * tens of rows are singular and O(d³) per EM step.
 */
import { Rng } from '../probes/rng.js';
import { InputError } from '../errors.js';
import {
  checkFitInput,
  checkScoreInput,
  notFitted,
  num,
  type Detector,
  type DetectorParams,
  type DetectorState,
} from './detector.js';
import { cholesky, type Mat } from './linalg.js';
import { fitPca, pcaFromState, pcaToState, pcaTransform, type PcaModel } from './pca.js';

export const GMM_DEFAULT_COMPONENTS = 3;
export const GMM_DEFAULT_REG_COVAR = 1e-4;
export const GMM_DEFAULT_MAX_DIM = 32;
const GMM_TOL = 1e-3;
const GMM_MAX_ITER = 100;
const KMEANS_MAX_ITER = 300;
const KMEANS_TOL = 1e-4;
/** numpy's float64 machine epsilon: scikit-learn adds 10·eps to every component weight. */
const EPS = 2.220446049250313e-16;
const LOG_2PI = Math.log(2 * Math.PI);

export interface GmmParams {
  weights: ArrayLike<number>;
  /** k rows of p means. */
  means: ArrayLike<number>[];
  /** k covariance matrices, each p rows of p. */
  covariances: ArrayLike<number>[][];
}

interface GmmFitted {
  k: number;
  p: number;
  logWeights: Float64Array;
  means: Float64Array; // k x p
  chol: Float64Array; // k x p x p lower Cholesky factors of the covariances
}

/** Log-likelihood of each row of Y under a mixture with fixed parameters (scikit-learn's score_samples). */
export function gmmLogLikelihood(params: GmmParams, Y: Mat): Float64Array {
  const k = params.weights.length;
  const p = Y.cols;
  const means = new Float64Array(k * p);
  const chol = new Float64Array(k * p * p);
  const logWeights = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    logWeights[c] = Math.log(params.weights[c]);
    for (let a = 0; a < p; a++) means[c * p + a] = params.means[c][a];
    const S = new Float64Array(p * p);
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) S[a * p + b] = params.covariances[c][a][b];
    const L = cholesky(S, p);
    if (!L) throw new InputError('degenerate-data', `gmm: covariance ${c} is not positive definite`);
    chol.set(L, c * p * p);
  }
  return logLikelihood({ k, p, logWeights, means, chol }, Y);
}

/** Per-component weighted log densities (rows x k) and their log-sum-exp per row. */
function weightedLogProb(g: GmmFitted, Y: Mat): { lp: Float64Array; norm: Float64Array } {
  const { k, p } = g;
  const m = Y.rows;
  const lp = new Float64Array(m * k);
  const z = new Float64Array(p);
  for (let c = 0; c < k; c++) {
    const L = g.chol.subarray(c * p * p, (c + 1) * p * p);
    let halfLogDet = 0;
    for (let a = 0; a < p; a++) halfLogDet += Math.log(L[a * p + a]);
    for (let i = 0; i < m; i++) {
      for (let a = 0; a < p; a++) z[a] = Y.data[i * p + a] - g.means[c * p + a];
      let maha = 0;
      for (let a = 0; a < p; a++) {
        let s = z[a];
        const o = a * p;
        for (let b = 0; b < a; b++) s -= L[o + b] * z[b];
        s /= L[o + a];
        z[a] = s;
        maha += s * s;
      }
      lp[i * k + c] = -0.5 * (p * LOG_2PI + maha) - halfLogDet + g.logWeights[c];
    }
  }
  const norm = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let mx = -Infinity;
    for (let c = 0; c < k; c++) mx = Math.max(mx, lp[i * k + c]);
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(lp[i * k + c] - mx);
    norm[i] = mx + Math.log(s);
  }
  return { lp, norm };
}

function logLikelihood(g: GmmFitted, Y: Mat): Float64Array {
  return weightedLogProb(g, Y).norm;
}

/** M-step from responsibilities (rows x k). */
function mStep(X: Mat, resp: Float64Array, k: number, reg: number): GmmFitted {
  const { rows: n, cols: p, data } = X;
  const nk = new Float64Array(k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) nk[c] += resp[i * k + c];
  for (let c = 0; c < k; c++) nk[c] += 10 * EPS;
  const means = new Float64Array(k * p);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const r = resp[i * k + c];
      if (r === 0) continue;
      for (let a = 0; a < p; a++) means[c * p + a] += r * data[i * p + a];
    }
  }
  for (let c = 0; c < k; c++) for (let a = 0; a < p; a++) means[c * p + a] /= nk[c];
  const chol = new Float64Array(k * p * p);
  const diff = new Float64Array(p);
  for (let c = 0; c < k; c++) {
    const S = new Float64Array(p * p);
    for (let i = 0; i < n; i++) {
      const r = resp[i * k + c];
      if (r === 0) continue;
      for (let a = 0; a < p; a++) diff[a] = data[i * p + a] - means[c * p + a];
      for (let a = 0; a < p; a++) {
        const va = r * diff[a];
        const o = a * p;
        for (let b = 0; b <= a; b++) S[o + b] += va * diff[b];
      }
    }
    for (let a = 0; a < p; a++) {
      for (let b = 0; b <= a; b++) {
        const v = S[a * p + b] / nk[c] + (a === b ? reg : 0);
        S[a * p + b] = v;
        S[b * p + a] = v;
      }
    }
    const L = cholesky(S, p);
    if (!L) {
      throw new InputError(
        'degenerate-data',
        'gmm: a component covariance is singular; increase reg_covar or use fewer components',
      );
    }
    chol.set(L, c * p * p);
  }
  const logWeights = new Float64Array(k);
  for (let c = 0; c < k; c++) logWeights[c] = Math.log(nk[c] / n);
  return { k, p, logWeights, means, chol };
}

function sqDist(a: Float64Array | Float32Array, ao: number, b: Float64Array, bo: number, p: number): number {
  let s = 0;
  for (let j = 0; j < p; j++) {
    const t = a[ao + j] - b[bo + j];
    s += t * t;
  }
  return s;
}

/** k-means (k-means++ greedy seeding, then Lloyd): the label of each row. */
export function kmeansLabels(X: Mat, k: number, rng: Rng): Int32Array {
  const { rows: n, cols: p, data } = X;
  const centers = new Float64Array(k * p);
  const first = rng.int(n);
  for (let a = 0; a < p; a++) centers[a] = data[first * p + a];
  const closest = new Float64Array(n);
  for (let i = 0; i < n; i++) closest[i] = sqDist(data, i * p, centers, 0, p);
  const trials = 2 + Math.floor(Math.log(k));
  for (let c = 1; c < k; c++) {
    let pot = 0;
    for (let i = 0; i < n; i++) pot += closest[i];
    let best = -1;
    let bestPot = Infinity;
    let bestD: Float64Array | null = null;
    for (let t = 0; t < trials; t++) {
      let r = rng.next() * pot;
      let cand = n - 1;
      for (let i = 0; i < n; i++) {
        r -= closest[i];
        if (r < 0) {
          cand = i;
          break;
        }
      }
      const dNew = new Float64Array(n);
      const candRow = Float64Array.from(data.subarray(cand * p, cand * p + p));
      let s = 0;
      for (let i = 0; i < n; i++) {
        dNew[i] = Math.min(closest[i], sqDist(data, i * p, candRow, 0, p));
        s += dNew[i];
      }
      if (s < bestPot) {
        bestPot = s;
        best = cand;
        bestD = dNew;
      }
    }
    for (let a = 0; a < p; a++) centers[c * p + a] = data[best * p + a];
    if (bestD) closest.set(bestD);
  }
  const labels = new Int32Array(n);
  let scale = 0;
  for (let i = 0; i < data.length; i++) scale += data[i] * data[i];
  const tol = (KMEANS_TOL * scale) / Math.max(1, data.length);
  for (let it = 0; it < KMEANS_MAX_ITER; it++) {
    for (let i = 0; i < n; i++) {
      let bc = 0;
      let bd = Infinity;
      for (let c = 0; c < k; c++) {
        const dd = sqDist(data, i * p, centers, c * p, p);
        if (dd < bd) {
          bd = dd;
          bc = c;
        }
      }
      labels[i] = bc;
    }
    const next = new Float64Array(k * p);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      counts[labels[i]]++;
      for (let a = 0; a < p; a++) next[labels[i] * p + a] += data[i * p + a];
    }
    let shift = 0;
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        for (let a = 0; a < p; a++) next[c * p + a] = centers[c * p + a];
        continue;
      }
      for (let a = 0; a < p; a++) next[c * p + a] /= counts[c];
    }
    for (let i = 0; i < next.length; i++) shift += (next[i] - centers[i]) ** 2;
    centers.set(next);
    if (shift <= tol) break;
  }
  return labels;
}

export class GmmDetector implements Detector {
  readonly name = 'gmm' as const;
  private readonly k: number;
  private readonly reg: number;
  private readonly maxDim: number;
  private readonly seed: number;
  private pca: PcaModel | null = null;
  private fitted: GmmFitted | null = null;
  private d = 0;

  constructor(params: DetectorParams = {}) {
    this.k = Math.floor(num(params, 'components', GMM_DEFAULT_COMPONENTS));
    this.reg = num(params, 'regCovar', GMM_DEFAULT_REG_COVAR);
    this.maxDim = Math.floor(num(params, 'maxDim', GMM_DEFAULT_MAX_DIM));
    this.seed = Math.floor(num(params, 'seed', 0));
    if (this.k < 1) throw new InputError('bad-argument', `gmm: components must be at least 1, got ${this.k}`);
  }

  /** The dimension the mixture lives in (after the optional PCA). */
  get dimension(): number {
    if (!this.fitted) throw notFitted(this.name);
    return this.fitted.p;
  }

  private reduce(Y: Mat): Mat {
    return this.pca ? pcaTransform(this.pca, Y) : Y;
  }

  fit(X: Mat): void {
    checkFitInput(X, this.name, Math.max(2, this.k));
    this.d = X.cols;
    const reduced =
      X.cols > this.maxDim ? fitPca(X, { maxComponents: Math.min(this.maxDim, X.rows - 1) }) : null;
    this.pca = reduced ? reduced.model : null;
    const Z = reduced ? reduced.trainScores : X;
    const n = Z.rows;
    const k = this.k;
    const labels = kmeansLabels(Z, k, new Rng(this.seed));
    let resp = new Float64Array(n * k);
    for (let i = 0; i < n; i++) resp[i * k + labels[i]] = 1;
    let g = mStep(Z, resp, k, this.reg);
    let lower = -Infinity;
    for (let it = 0; it < GMM_MAX_ITER; it++) {
      const prev = lower;
      const { lp, norm } = weightedLogProb(g, Z);
      let mean = 0;
      for (let i = 0; i < n; i++) mean += norm[i];
      mean /= n;
      resp = new Float64Array(n * k);
      for (let i = 0; i < n; i++)
        for (let c = 0; c < k; c++) resp[i * k + c] = Math.exp(lp[i * k + c] - norm[i]);
      g = mStep(Z, resp, k, this.reg);
      lower = mean;
      if (Math.abs(lower - prev) < GMM_TOL) break;
    }
    this.fitted = g;
  }

  /** Log-likelihood of each row (scikit-learn's score_samples). */
  logLikelihood(Y: Mat): Float64Array {
    if (!this.fitted) throw notFitted(this.name);
    checkScoreInput(Y, this.name, this.d);
    return logLikelihood(this.fitted, this.reduce(Y));
  }

  score(Y: Mat): Float64Array {
    const ll = this.logLikelihood(Y);
    for (let i = 0; i < ll.length; i++) ll[i] = -ll[i];
    return ll;
  }

  state(): DetectorState {
    if (!this.fitted) throw notFitted(this.name);
    const g = this.fitted;
    return {
      name: this.name,
      params: { components: this.k, regCovar: this.reg, maxDim: this.maxDim, seed: this.seed },
      data: {
        d: this.d,
        p: g.p,
        pca: this.pca ? pcaToState(this.pca) : null,
        logWeights: g.logWeights,
        means: g.means,
        chol: g.chol,
      },
    };
  }

  static fromState(s: DetectorState): GmmDetector {
    const det = new GmmDetector(s.params);
    const d = s.data;
    det.d = d.d as number;
    det.pca = d.pca ? pcaFromState(d.pca as { [key: string]: unknown }) : null;
    det.fitted = {
      k: det.k,
      p: d.p as number,
      logWeights: d.logWeights as Float64Array,
      means: d.means as Float64Array,
      chol: d.chol as Float64Array,
    };
    return det;
  }
}
