/**
 * Euclidean distance to the mean of the clean references: the yardstick every cleverer detector has to beat.
 * Cross-fitting is exact leave-one-out (the mean without row i is (n·mean - x_i) / (n - 1)).
 */
import { checkFitInput, checkScoreInput, notFitted, type Detector, type DetectorState } from './detector.js';
import { colMeans, type Mat } from './linalg.js';

function distancesTo(mean: Float64Array, Y: Mat): Float64Array {
  const { rows: m, cols: d, data } = Y;
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = data[i * d + j] - mean[j];
      s += t * t;
    }
    out[i] = Math.sqrt(s);
  }
  return out;
}

export class MeanDistanceDetector implements Detector {
  readonly name = 'distance_to_clean_mean' as const;
  private mean: Float64Array | null = null;

  fit(X: Mat): void {
    checkFitInput(X, this.name, 1);
    this.mean = colMeans(X);
  }

  score(Y: Mat): Float64Array {
    if (!this.mean) throw notFitted(this.name);
    checkScoreInput(Y, this.name, this.mean.length);
    return distancesTo(this.mean, Y);
  }

  crossFit(X: Mat, _folds: Int32Array): Float64Array {
    checkFitInput(X, this.name, 2);
    const { rows: n, cols: d, data } = X;
    const m = colMeans(X);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        // x_i - mean_without_i = (x_i - m) * n / (n - 1)
        const t = ((data[i * d + j] - m[j]) * n) / (n - 1);
        s += t * t;
      }
      out[i] = Math.sqrt(s);
    }
    return out;
  }

  state(): DetectorState {
    if (!this.mean) throw notFitted(this.name);
    return { name: this.name, params: {}, data: { mean: this.mean } };
  }

  static fromState(s: DetectorState): MeanDistanceDetector {
    const det = new MeanDistanceDetector();
    det.mean = s.data.mean as Float64Array;
    return det;
  }
}
