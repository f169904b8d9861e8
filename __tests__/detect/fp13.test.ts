/**
 * Parity on the research's FP-13 benchmark: for each of the oracle's five splits, our LOF, OCSVM and
 * PCA+Mahalanobis test scores against scikit-learn's. scikit-learn ran on the float32 matrix, so its
 * LOF / PCA outputs carry float32 rounding (even the plain distance to the clean mean differs by ~1e-7
 * relative); the tolerances below are that floor, not slack in the algorithms.
 */
import { loadFp13 } from '../../bench/lib/fp13-data.js';
import { LofDetector } from '../../src/detect/lof.js';
import { MeanDistanceDetector } from '../../src/detect/mean-distance.js';
import { OcsvmDetector } from '../../src/detect/ocsvm.js';
import { PcaMahalanobisDetector } from '../../src/detect/pca-mahalanobis.js';
import { auroc } from '../../src/score/metrics.js';
import { ORACLE_DIR } from '../fixtures/oracles/load.js';
import { join } from 'node:path';

const fp = loadFp13(join(ORACLE_DIR, 'fp13'));

function maxRelError(got: ArrayLike<number>, want: number[]): number {
  let m = 0;
  want.forEach((w, i) => (m = Math.max(m, Math.abs(got[i] - w) / Math.max(1e-12, Math.abs(w)))));
  return m;
}

describe.each(fp.seeds.map((s) => [s.seed, s] as const))('FP-13 split %s', (_seed, s) => {
  it('LOF (k = 20) scores match to 1e-6 relative and give the same AUROC', () => {
    const det = new LofDetector({ k: 20 });
    det.fit(s.train);
    const sc = det.score(s.test);
    expect(maxRelError(sc, s.sklearnScores.lof)).toBeLessThan(1e-6);
    expect(auroc(s.testLabels, sc)).toBeCloseTo(s.sklearnAuroc.lof, 10);
  });

  it('OCSVM (nu = 0.1) -score_samples match to 1e-4', () => {
    const det = new OcsvmDetector({ nu: 0.1 });
    det.fit(s.train);
    // the oracle stores -score_samples = -(decision_function + rho)
    const scoreSamples = det.scoreSamples(s.test);
    let m = 0;
    s.sklearnScores.ocsvm.forEach((w, i) => (m = Math.max(m, Math.abs(-scoreSamples[i] - w))));
    expect(m).toBeLessThan(1e-4);
    expect(auroc(s.testLabels, det.score(s.test))).toBeCloseTo(s.sklearnAuroc.ocsvm, 10);
  });

  it('PCA + Mahalanobis distances match to 2e-6 relative', () => {
    const det = new PcaMahalanobisDetector();
    det.fit(s.train);
    expect(maxRelError(det.score(s.test), s.sklearnScores.pca_mahalanobis)).toBeLessThan(2e-6);
  });

  it('distance to the clean mean matches to 1e-6 relative', () => {
    const det = new MeanDistanceDetector();
    det.fit(s.train);
    expect(maxRelError(det.score(s.test), s.sklearnScores.distance_to_clean_mean)).toBeLessThan(1e-6);
  });
});
