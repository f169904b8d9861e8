/**
 * One channel (one detector on one feature block) evaluated the way the ensemble uses it: fitted on the
 * reference clean models, the references' own scores cross-fitted (10 folds, the ensemble's seeded folds),
 * a conformal calibration of those, and then
 *   - the references' leave-one-out p-values (what the ensemble combines for its own calibration), and
 *   - the test models' raw scores and calibrated p-values.
 * Keeping the per-channel p-values lets bench/detect/combos.ts try any channel subset and combination rule
 * without refitting a detector: it reproduces fitEnsemble/scoreEnsemble exactly (verified in detect.ts).
 */
import type { DetectorName, DetectorParams } from '../../src/detect/detector.js';
import { mat, type Mat } from '../../src/detect/linalg.js';
import { createDetector } from '../../src/detect/registry.js';
import {
  crossFitScores,
  DEFAULT_FOLDS,
  fitCalibration,
  leaveOneOutPValues,
  makeFolds,
  pValue,
} from '../../src/score/calibrate.js';

export interface ChannelSpec {
  block: string;
  detector: DetectorName;
  params: DetectorParams;
}

export interface ChannelRun {
  key: string;
  block: string;
  detector: DetectorName;
  /** Leave-one-out p-value of each reference. */
  refP: Float64Array;
  /** Raw score of each test model (higher = more anomalous). */
  testScore: Float64Array;
  /** Calibrated p-value of each test model. */
  testP: Float64Array;
  millis: number;
}

export function channelKey(block: string, detector: DetectorName): string {
  return `${detector}@${block}`;
}

/** The neighbour counts the ensemble's default config would use for n references (ensemble.ts). */
export function defaultParams(detector: DetectorName, nRefs: number, folds = DEFAULT_FOLDS): DetectorParams {
  const foldTrain = nRefs - Math.ceil(nRefs / Math.max(2, Math.min(folds, nRefs)));
  if (detector === 'lof') return { k: Math.max(1, Math.min(20, foldTrain - 1)) };
  if (detector === 'knn') return { k: Math.max(1, Math.min(5, nRefs - 2)) };
  return {};
}

export function stack(blocks: Float32Array[]): Mat {
  const d = blocks[0].length;
  const data = new Float32Array(blocks.length * d);
  blocks.forEach((b, i) => {
    if (b.length !== d) throw new Error(`block length ${b.length} != ${d}`);
    data.set(b, i * d);
  });
  return mat(blocks.length, d, data);
}

export function runChannel(spec: ChannelSpec, refs: Mat, tests: Mat): ChannelRun {
  const started = Date.now();
  const folds = makeFolds(refs.rows, DEFAULT_FOLDS);
  const make = () => createDetector(spec.detector, spec.params);
  const cross = crossFitScores(make, refs, folds);
  const det = make();
  det.fit(refs);
  const testScore = det.score(tests);
  const cal = fitCalibration(cross);
  const testP = Float64Array.from(testScore, (s) => pValue(cal, s));
  return {
    key: channelKey(spec.block, spec.detector),
    block: spec.block,
    detector: spec.detector,
    refP: leaveOneOutPValues(cross),
    testScore,
    testP,
    millis: Date.now() - started,
  };
}
