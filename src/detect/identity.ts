/**
 * The identity "detector" for one-value self-check blocks (e.g. a reference-free trigger statistic):
 * the score is the value itself, so the calibrator can rank a model's statistic among the references'.
 * Fitting learns nothing; cross-fitting returns the values unchanged (there is nothing to leave out).
 */
import { InputError } from '../errors.js';
import { checkFitInput, checkScoreInput, notFitted, type Detector, type DetectorState } from './detector.js';
import { type Mat } from './linalg.js';

export class IdentityDetector implements Detector {
  readonly name = 'identity' as const;
  private fitted = false;

  private static checkOneColumn(X: Mat): void {
    if (X.cols !== 1) {
      throw new InputError(
        'degenerate-data',
        `identity: expects a one-value self-check block but got ${X.cols} values; use another detector for it`,
      );
    }
  }

  fit(X: Mat): void {
    IdentityDetector.checkOneColumn(X);
    checkFitInput(X, this.name, 1);
    this.fitted = true;
  }

  score(Y: Mat): Float64Array {
    if (!this.fitted) throw notFitted(this.name);
    checkScoreInput(Y, this.name, 1);
    return Float64Array.from(Y.data);
  }

  crossFit(X: Mat, _folds: Int32Array): Float64Array {
    IdentityDetector.checkOneColumn(X);
    checkFitInput(X, this.name, 1);
    return Float64Array.from(X.data);
  }

  state(): DetectorState {
    if (!this.fitted) throw notFitted(this.name);
    return { name: this.name, params: {}, data: {} };
  }

  static fromState(_s: DetectorState): IdentityDetector {
    const det = new IdentityDetector();
    det.fitted = true;
    return det;
  }
}
