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
import { selectRows, selectRowsSharingGram, selfGram, type Mat } from './linalg.js';
import { foldCount, foldSplit } from './neighbors.js';
import { fitPca, pcaFromState, pcaToState, pcaTransform, type PcaModel } from './pca.js';

export const PCA_VARIANCE_KEPT = 0.95;
/** Ridge added to the projected covariance so it stays invertible. */
export const MAHALANOBIS_RIDGE = 1e-6;
/** Up to this many references cross-fitting is exact leave-one-out (one n x n eigendecomposition each). */
export const PCA_MAHALANOBIS_LOO_MAX_ROWS = 256;

export class PcaMahalanobisDetector implements Detector {
  readonly name = 'pca_mahalanobis' as const;
  private readonly varianceKept: number;
  private readonly ridge: number;
  /** Keep at most this share of the reference count as components (1 = scikit-learn's rule alone). */
  private readonly componentFraction: number;
  private pca: PcaModel | null = null;
  private zMean: Float64Array | null = null;
  private precision: Float64Array | null = null;

  constructor(params: DetectorParams = {}) {
    this.varianceKept = num(params, 'varianceKept', PCA_VARIANCE_KEPT);
    this.ridge = num(params, 'ridge', MAHALANOBIS_RIDGE);
    this.componentFraction = num(params, 'componentFraction', 1);
  }

  get nComponents(): number {
    if (!this.pca) throw notFitted(this.name);
    return this.pca.k;
  }

  fit(X: Mat): void {
    checkFitInput(X, this.name, 3);
    const { model: pca } = fitPca(X, {
      varianceKept: this.varianceKept,
      maxComponents:
        this.componentFraction < 1 ? Math.max(1, Math.floor(this.componentFraction * X.rows)) : undefined,
    });
    // Principal-component scores of the references are centred and uncorrelated, with the component
    // variances on the diagonal: cov(Z) is exactly diag(variances), so no k x k product or inverse is needed
    // (k reaches ~0.9 n when rows are fewer than features).
    const k = pca.k;
    const P = new Float64Array(k);
    for (let c = 0; c < k; c++) P[c] = 1 / (pca.variances[c] + this.ridge);
    const mu = new Float64Array(k);
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
    for (let i = 0; i < Y.rows; i++) {
      let q = 0;
      for (let a = 0; a < k; a++) {
        const v = Z.data[i * k + a] - this.zMean[a];
        q += v * v * this.precision[a];
      }
      out[i] = Math.sqrt(Math.max(0, q));
    }
    return out;
  }

  /**
   * Exact leave-one-out up to PCA_MAHALANOBIS_LOO_MAX_ROWS references (given folds beyond). With fewer rows
   * than features the kept component count is ~0.9 n and a held-out row's distance grows steeply with k/n,
   * so models fitted on 90% of the references (10-fold) score held-out rows far lower than the full model
   * scores new ones: on FP-13, 54% of clean rows got p <= 0.1 with 10 folds, 10% with leave-one-out.
   */
  crossFit(X: Mat, folds: Int32Array): Float64Array {
    checkFitInput(X, this.name, 4);
    const n = X.rows;
    const useFolds = n <= PCA_MAHALANOBIS_LOO_MAX_ROWS ? Int32Array.from({ length: n }, (_, i) => i) : folds;
    if (n <= X.cols) selfGram(X);
    const out = new Float64Array(n);
    const K = foldCount(useFolds);
    for (let f = 0; f < K; f++) {
      const { train, test } = foldSplit(useFolds, f);
      if (test.length === 0) continue;
      const det = new PcaMahalanobisDetector(this.params());
      det.fit(selectRowsSharingGram(X, train));
      const s = det.score(selectRows(X, test));
      for (let t = 0; t < test.length; t++) out[test[t]] = s[t];
    }
    return out;
  }

  private params(): DetectorParams {
    return { varianceKept: this.varianceKept, ridge: this.ridge, componentFraction: this.componentFraction };
  }

  state(): DetectorState {
    if (!this.pca || !this.zMean || !this.precision) throw notFitted(this.name);
    return {
      name: this.name,
      params: this.params(),
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
