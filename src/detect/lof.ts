/**
 * Local Outlier Factor (Breunig et al., 2000) with scikit-learn's novelty semantics (novelty=True):
 * reach-dist(a, b) = max(d(a, b), k-distance(b)), lrd(a) = 1 / (mean reach-dist to its k neighbours + 1e-10),
 * and the score of a new point is its LOF = mean(lrd of its neighbours) / lrd(point), i.e. -score_samples.
 * Training rows get negative_outlier_factor_ = -LOF computed on the references without themselves.
 * Works on one pairwise distance matrix (Gram route), so cross-fitting reuses it across folds.
 */
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
import { colMeans, crossGram, mat, rowSqNorms, selfGram, sqDistancesFromGram, type Mat } from './linalg.js';
import { foldCount, foldSplit, kNearest, kNearestWithin, type Neighbors } from './neighbors.js';

/** scikit-learn adds this to the mean reachability distance so duplicates do not divide by zero. */
const LRD_EPSILON = 1e-10;
export const LOF_DEFAULT_K = 20;

interface LofFit {
  k: number;
  kdist: Float64Array;
  lrd: Float64Array;
  negativeOutlierFactor: Float64Array;
}

/** Fits LOF from the n x n squared distance matrix of the references. */
export function lofFitFromSqDist(D2: Float64Array, n: number, k: number): LofFit {
  return lofFitFromNeighbors(kNearest(D2, n, n, k, { excludeSelf: true, squared: true }), n, k);
}

/** LOF fitted from each reference's k nearest other references (ids 0..n-1). */
function lofFitFromNeighbors(nb: Neighbors, n: number, k: number): LofFit {
  const kdist = new Float64Array(n);
  for (let i = 0; i < n; i++) kdist[i] = nb.dist[i * k + k - 1];
  const lrd = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < k; t++) {
      const j = nb.idx[i * k + t];
      s += Math.max(nb.dist[i * k + t], kdist[j]);
    }
    lrd[i] = 1 / (s / k + LRD_EPSILON);
  }
  const nof = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < k; t++) s += lrd[nb.idx[i * k + t]] / lrd[i];
    nof[i] = -s / k;
  }
  return { k, kdist, lrd, negativeOutlierFactor: nof };
}

/** LOF of m new points from their m x n squared distances to the references. */
export function lofScoreFromSqDist(fit: LofFit, D2: Float64Array, m: number, n: number): Float64Array {
  return lofScoreFromNeighbors(fit, kNearest(D2, m, n, fit.k, { squared: true }), m);
}

function lofScoreFromNeighbors(fit: LofFit, nb: Neighbors, m: number): Float64Array {
  const k = fit.k;
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let reach = 0;
    let lrdSum = 0;
    for (let t = 0; t < k; t++) {
      const j = nb.idx[i * k + t];
      reach += Math.max(nb.dist[i * k + t], fit.kdist[j]);
      lrdSum += fit.lrd[j];
    }
    const lrdX = 1 / (reach / k + LRD_EPSILON);
    out[i] = lrdSum / k / lrdX;
  }
  return out;
}

export class LofDetector implements Detector {
  readonly name = 'lof' as const;
  private readonly k: number;
  private X: Mat | null = null;
  private center: Float64Array | null = null;
  private refNorms: Float64Array | null = null;
  private fitted: LofFit | null = null;

  constructor(params: DetectorParams = {}) {
    this.k = Math.floor(num(params, 'k', LOF_DEFAULT_K));
    if (this.k < 1) throw new InputError('bad-argument', `lof: k must be at least 1, got ${this.k}`);
  }

  private checkK(n: number): void {
    if (n <= this.k) {
      throw new InputError(
        'degenerate-data',
        `lof: ${n} reference rows are too few for k = ${this.k} neighbours; add references or lower k`,
      );
    }
  }

  fit(X: Mat): void {
    checkFitInput(X, this.name, 2);
    this.checkK(X.rows);
    this.X = X;
    const g = selfGram(X);
    this.center = g.center;
    this.refNorms = g.norms;
    const nb = kNearest(g.G, X.rows, X.rows, this.k, {
      excludeSelf: true,
      squared: true,
      gramNorms: g.norms,
    });
    this.fitted = lofFitFromNeighbors(nb, X.rows, this.k);
  }

  /** scikit-learn's negative_outlier_factor_ of the training rows. */
  negativeOutlierFactor(): Float64Array {
    if (!this.fitted) throw notFitted(this.name);
    return this.fitted.negativeOutlierFactor;
  }

  score(Y: Mat): Float64Array {
    if (!this.X || !this.fitted || !this.center || !this.refNorms) throw notFitted(this.name);
    checkScoreInput(Y, this.name, this.X.cols);
    const G = crossGram(Y, this.X, this.center);
    const D2 = sqDistancesFromGram(G, rowSqNorms(Y, this.center), this.refNorms);
    return lofScoreFromSqDist(this.fitted, D2, Y.rows, this.X.rows);
  }

  crossFit(X: Mat, folds: Int32Array): Float64Array {
    checkFitInput(X, this.name, 2);
    const n = X.rows;
    // distances formed from the Gram matrix as they are read: no n x n distance matrix is held
    const g = selfGram(X);
    const D2 = g.G;
    const gramNorms = g.norms;
    const out = new Float64Array(n);
    const K = foldCount(folds);
    for (let f = 0; f < K; f++) {
      const { train, test } = foldSplit(folds, f);
      if (test.length === 0) continue;
      this.checkK(train.length);
      // neighbours read in place from the full matrix (no fold-sized copies): the same values and ties
      const within = kNearestWithin(D2, n, train, train, this.k, {
        excludeSelf: true,
        squared: true,
        gramNorms,
      });
      const fit = lofFitFromNeighbors(within, train.length, this.k);
      const nbTest = kNearestWithin(D2, n, test, train, this.k, { squared: true, gramNorms });
      const s = lofScoreFromNeighbors(fit, nbTest, test.length);
      for (let t = 0; t < test.length; t++) out[test[t]] = s[t];
    }
    return out;
  }

  state(): DetectorState {
    if (!this.X || !this.fitted || !this.center) throw notFitted(this.name);
    return {
      name: this.name,
      params: { k: this.k },
      data: {
        rows: this.X.rows,
        cols: this.X.cols,
        X: this.X.data,
        kdist: this.fitted.kdist,
        lrd: this.fitted.lrd,
        negativeOutlierFactor: this.fitted.negativeOutlierFactor,
      },
    };
  }

  static fromState(s: DetectorState): LofDetector {
    const det = new LofDetector(s.params);
    const d = s.data;
    const X = mat(d.rows as number, d.cols as number, d.X as Float32Array | Float64Array);
    det.X = X;
    det.center = colMeans(X);
    det.refNorms = rowSqNorms(X, det.center);
    det.fitted = {
      k: det.k,
      kdist: d.kdist as Float64Array,
      lrd: d.lrd as Float64Array,
      negativeOutlierFactor: d.negativeOutlierFactor as Float64Array,
    };
    return det;
  }
}
