/**
 * Builds a detector by name (createDetector) and rebuilds one from its saved state (restoreDetector).
 * Kept apart from detector.ts so the interface module imports no implementation.
 */
import { InputError } from '../errors.js';
import { AutoencoderDetector } from './autoencoder.js';
import {
  DETECTOR_NAMES,
  type Detector,
  type DetectorName,
  type DetectorParams,
  type DetectorState,
} from './detector.js';
import { GmmDetector } from './gmm.js';
import { IdentityDetector } from './identity.js';
import { IsolationForestDetector } from './iforest.js';
import { KnnDetector } from './knn.js';
import { LofDetector } from './lof.js';
import { MaxZDetector } from './max-z.js';
import { MeanDistanceDetector } from './mean-distance.js';
import { OcsvmDetector } from './ocsvm.js';
import { PcaMahalanobisDetector } from './pca-mahalanobis.js';

export function isDetectorName(s: string): s is DetectorName {
  return (DETECTOR_NAMES as readonly string[]).includes(s);
}

export function createDetector(name: DetectorName, params: DetectorParams = {}): Detector {
  switch (name) {
    case 'lof':
      return new LofDetector(params);
    case 'isolation_forest':
      return new IsolationForestDetector(params);
    case 'ocsvm':
      return new OcsvmDetector(params);
    case 'gmm':
      return new GmmDetector(params);
    case 'pca_mahalanobis':
      return new PcaMahalanobisDetector(params);
    case 'autoencoder':
      return new AutoencoderDetector(params);
    case 'knn':
      return new KnnDetector(params);
    case 'distance_to_clean_mean':
      return new MeanDistanceDetector();
    case 'identity':
      return new IdentityDetector();
    case 'max_z':
      return new MaxZDetector(params);
    default:
      throw new InputError(
        'bad-argument',
        `unknown detector "${String(name)}"; use one of ${DETECTOR_NAMES.join(', ')}`,
      );
  }
}

export function restoreDetector(state: DetectorState): Detector {
  switch (state.name) {
    case 'lof':
      return LofDetector.fromState(state);
    case 'isolation_forest':
      return IsolationForestDetector.fromState(state);
    case 'ocsvm':
      return OcsvmDetector.fromState(state);
    case 'gmm':
      return GmmDetector.fromState(state);
    case 'pca_mahalanobis':
      return PcaMahalanobisDetector.fromState(state);
    case 'autoencoder':
      return AutoencoderDetector.fromState(state);
    case 'knn':
      return KnnDetector.fromState(state);
    case 'distance_to_clean_mean':
      return MeanDistanceDetector.fromState(state);
    case 'identity':
      return IdentityDetector.fromState(state);
    case 'max_z':
      return MaxZDetector.fromState(state);
    default:
      throw new InputError(
        'baseline-invalid',
        `baseline holds an unknown detector "${String((state as { name: unknown }).name)}"; rebuild the baseline`,
      );
  }
}
