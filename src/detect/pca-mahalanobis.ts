/**
 * PCA + Mahalanobis distance: project on the components keeping 95% of the variance (scikit-learn's rule,
 * see pca.ts), then the Mahalanobis distance to the projected references' mean with covariance
 * cov(Z) + 1e-6·I (ddof 1), as the research's reference implementation does. Matches it to ~1e-9.
 */
import {
  checkFitInput,
  checkScoreInput,
  notFitted,
  num,
  type Detector,
  type DetectorParams,
  type DetectorState,
} from './detector.js';
import { colMeans, spdInverse, type Mat } from './linalg.js';
import { fitPca, pcaFromState, pcaToState, pcaTransform, type PcaModel } from './pca.js';
import { InputError } from '../errors.js';

export const PCA_VARIANCE_KEPT = 0.95;
/** Ridge added to the projected covariance so it stays invertible. */
export const MAHALANOBIS_RIDGE = 1e-6;

export class PcaMahalanobisDetector implements Detector {
  readonly name = 'pca_mahalanobis' as const;
  private readonly varianceKept: number;
  private readonly ridge: number;
  private pca: PcaModel | null = null;
  private zMean: Float64Array | null = null;
  private precision: Float64Array | null = null;

  constructor(params: DetectorParams = {}) {
    this.varianceKept = num(params, 'varianceKept', PCA_VARIANCE_KEPT);
    this.ridge = num(params, 'ridge', MAHALANOBIS_RIDGE);
  }

  get nComponents(): number {
    if (!this.pca) throw notFitted(this.name);
    return this.pca.k;
  }

  fit(X: Mat): void {
    checkFitInput(X, this.name, 3);
    const { model: pca, trainScores: Z } = fitPca(X, { varianceKept: this.varianceKept });
    const k = pca.k;
    const n = Z.rows;
    const mu = colMeans(Z);
    const C = new Float64Array(k * k);
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < k; a++) {
        const va = Z.data[i * k + a] - mu[a];
        for (let b = 0; b <= a; b++) C[a * k + b] += va * (Z.data[i * k + b] - mu[b]);
      }
    }
    for (let a = 0; a < k; a++) {
      for (let b = 0; b <= a; b++) {
        const v = C[a * k + b] / (n - 1) + (a === b ? this.ridge : 0);
        C[a * k + b] = v;
        C[b * k + a] = v;
      }
    }
    const P = spdInverse(C, k);
    if (!P)
      throw new InputError('degenerate-data', 'pca_mahalanobis: projected covariance is not invertible');
    this.pca = pca;
    this.zMean = mu;
    this.precision = P;
  }

  score(Y: Mat): Float64Array {
    if (!this.pca || !this.zMean || !this.precision) throw notFitted(this.name);
    checkScoreInput(Y, this.name, this.pca.d);
    const Z = pcaTransform(this.pca, Y);
    const k = this.pca.k;
    const out = new Float64Array(Y.rows);
    const v = new Float64Array(k);
    for (let i = 0; i < Y.rows; i++) {
      for (let a = 0; a < k; a++) v[a] = Z.data[i * k + a] - this.zMean[a];
      let q = 0;
      for (let a = 0; a < k; a++) {
        let s = 0;
        for (let b = 0; b < k; b++) s += this.precision[a * k + b] * v[b];
        q += v[a] * s;
      }
      out[i] = Math.sqrt(Math.max(0, q));
    }
    return out;
  }

  state(): DetectorState {
    if (!this.pca || !this.zMean || !this.precision) throw notFitted(this.name);
    return {
      name: this.name,
      params: { varianceKept: this.varianceKept, ridge: this.ridge },
      data: { pca: pcaToState(this.pca), zMean: this.zMean, precision: this.precision },
    };
  }

  static fromState(s: DetectorState): PcaMahalanobisDetector {
    const det = new PcaMahalanobisDetector(s.params);
    det.pca = pcaFromState(s.data.pca as { [key: string]: unknown });
    det.zMean = s.data.zMean as Float64Array;
    det.precision = s.data.precision as Float64Array;
    return det;
  }
}
