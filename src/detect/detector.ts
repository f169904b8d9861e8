/**
 * The contract every novelty detector meets: fit on clean reference rows, score new rows (higher = more
 * anomalous), and hand back a JSON-serialisable state (numbers, strings, nested objects/arrays, and typed
 * arrays for the big numeric parts) from which the same detector is rebuilt bit-for-bit.
 * Also the shared checks on fit/score input, so every detector refuses degenerate data the same way.
 */
import { InputError } from '../errors.js';
import { assertCols, assertFinite, type Mat } from './linalg.js';

export type DetectorName =
  | 'lof'
  | 'isolation_forest'
  | 'ocsvm'
  | 'gmm'
  | 'pca_mahalanobis'
  | 'autoencoder'
  | 'knn'
  | 'distance_to_clean_mean'
  | 'identity'
  | 'max_z';

export const DETECTOR_NAMES: readonly DetectorName[] = [
  'lof',
  'isolation_forest',
  'ocsvm',
  'gmm',
  'pca_mahalanobis',
  'autoencoder',
  'knn',
  'distance_to_clean_mean',
  'identity',
  'max_z',
];

/** A value a detector state may hold; typed arrays are kept out of the JSON by the baseline store. */
export type StateValue =
  | number
  | string
  | boolean
  | null
  | Float32Array
  | Float64Array
  | Int32Array
  | StateValue[]
  | { [key: string]: StateValue };

/** Detector parameters: plain numbers (k, nu, seeds, dimensions...). */
export type DetectorParams = Record<string, number>;

export interface DetectorState {
  name: DetectorName;
  params: DetectorParams;
  data: { [key: string]: StateValue };
}

export interface Detector {
  readonly name: DetectorName;
  /** Fits on clean reference rows. Throws InputError('degenerate-data') on unusable data. */
  fit(X: Mat): void;
  /** Scores rows: higher = more anomalous. Never NaN for finite input. */
  score(Y: Mat): Float64Array;
  state(): DetectorState;
  /**
   * Optional fast path for cross-fitting: the score of each row of X from a detector fitted without the
   * fold that row is in (folds[i] = fold id of row i). Detectors that can reuse one pairwise matrix
   * across folds (LOF, kNN, OCSVM...) implement it; others are refitted per fold by the calibrator.
   */
  crossFit?(X: Mat, folds: Int32Array): Float64Array;
  /** Optional: the feature that made one row's score, for explanations (max_z: the largest z). */
  topFeature?(row: Float32Array): { index: number; z: number };
}

/** Refuses what no detector can fit: too few rows, non-finite values, or no variance at all. */
export function checkFitInput(X: Mat, name: DetectorName, minRows: number): void {
  if (X.rows < minRows) {
    throw new InputError(
      'degenerate-data',
      `${name}: needs at least ${minRows} reference rows but got ${X.rows}; add more clean reference models`,
    );
  }
  if (X.cols < 1) throw new InputError('degenerate-data', `${name}: reference rows have no features`);
  assertFinite(X, `${name} references`);
  const d = X.cols;
  const a = X.data;
  let varies = false;
  outer: for (let i = 1; i < X.rows; i++) {
    for (let j = 0; j < d; j++) {
      if (a[i * d + j] !== a[j]) {
        varies = true;
        break outer;
      }
    }
  }
  if (!varies && X.rows > 1) {
    throw new InputError(
      'degenerate-data',
      `${name}: all ${X.rows} reference rows are identical (zero variance); use distinct reference models`,
    );
  }
}

export function checkScoreInput(Y: Mat, name: DetectorName, cols: number): void {
  assertCols(Y, cols, name);
  assertFinite(Y, `${name} input`);
}

export function notFitted(name: DetectorName): Error {
  return new Error(`${name}: score() called before fit()`);
}

export function num(p: DetectorParams, key: string, fallback: number): number {
  const v = p[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}
