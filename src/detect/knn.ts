/**
 * k-nearest-neighbour distance: the mean Euclidean distance from a row to its k nearest references
 * (PyOD's "mean" kNN score). Simple, assumption-free, and a strong baseline in high dimension.
 * Cross-fitting is exact leave-one-out from one pairwise matrix (each reference skips itself).
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
import { kNearest } from './neighbors.js';

export const KNN_DEFAULT_K = 5;

function meanOfRows(dist: Float64Array, rows: number, k: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let t = 0; t < k; t++) s += dist[i * k + t];
    out[i] = s / k;
  }
  return out;
}

export class KnnDetector implements Detector {
  readonly name = 'knn' as const;
  private readonly k: number;
  private X: Mat | null = null;
  private center: Float64Array | null = null;
  private refNorms: Float64Array | null = null;

  constructor(params: DetectorParams = {}) {
    this.k = Math.floor(num(params, 'k', KNN_DEFAULT_K));
    if (this.k < 1) throw new InputError('bad-argument', `knn: k must be at least 1, got ${this.k}`);
  }

  fit(X: Mat): void {
    checkFitInput(X, this.name, 2);
    if (X.rows < this.k) {
      throw new InputError(
        'degenerate-data',
        `knn: ${X.rows} reference rows are too few for k = ${this.k} neighbours; add references or lower k`,
      );
    }
    this.X = X;
    this.center = colMeans(X);
    this.refNorms = rowSqNorms(X, this.center);
  }

  score(Y: Mat): Float64Array {
    if (!this.X || !this.center || !this.refNorms) throw notFitted(this.name);
    checkScoreInput(Y, this.name, this.X.cols);
    const D2 = sqDistancesFromGram(
      crossGram(Y, this.X, this.center),
      rowSqNorms(Y, this.center),
      this.refNorms,
    );
    const nb = kNearest(D2, Y.rows, this.X.rows, this.k, { squared: true });
    return meanOfRows(nb.dist, Y.rows, this.k);
  }

  /** Exact leave-one-out: each reference is scored against all the others (folds are not needed). */
  crossFit(X: Mat, _folds: Int32Array): Float64Array {
    checkFitInput(X, this.name, 2);
    if (X.rows - 1 < this.k) {
      throw new InputError('degenerate-data', `knn: ${X.rows} reference rows are too few for k = ${this.k}`);
    }
    const g = selfGram(X);
    const nb = kNearest(g.G, X.rows, X.rows, this.k, {
      excludeSelf: true,
      squared: true,
      gramNorms: g.norms,
    });
    return meanOfRows(nb.dist, X.rows, this.k);
  }

  state(): DetectorState {
    if (!this.X) throw notFitted(this.name);
    return {
      name: this.name,
      params: { k: this.k },
      data: { rows: this.X.rows, cols: this.X.cols, X: this.X.data },
    };
  }

  static fromState(s: DetectorState): KnnDetector {
    const det = new KnnDetector(s.params);
    const d = s.data;
    const X = mat(d.rows as number, d.cols as number, d.X as Float32Array | Float64Array);
    det.X = X;
    det.center = colMeans(X);
    det.refNorms = rowSqNorms(X, det.center);
    return det;
  }
}
