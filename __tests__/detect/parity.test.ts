/**
 * Parity with scikit-learn 1.2.1 on the small fixed data set of the oracle (40 x 6 train, 15 x 6 test):
 * the proof that these are the real algorithms, not look-alikes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { matFromRows } from '../../src/detect/linalg.js';
import { LofDetector } from '../../src/detect/lof.js';
import { OcsvmDetector } from '../../src/detect/ocsvm.js';
import { PcaMahalanobisDetector } from '../../src/detect/pca-mahalanobis.js';
import { gmmLogLikelihood } from '../../src/detect/gmm.js';
import { auroc, tprAtFpr } from '../../src/score/metrics.js';
import {
  loadDetectorsOracle,
  ORACLE_DIR,
  SHARED_ORACLE_DIR,
  sharedOraclesPresent,
} from '../fixtures/oracles/load.js';

const o = loadDetectorsOracle();
const X = matFromRows(o.train);
const Y = matFromRows(o.test);

function maxRelError(got: ArrayLike<number>, want: number[]): number {
  let m = 0;
  want.forEach((w, i) => (m = Math.max(m, Math.abs(got[i] - w) / Math.max(1e-12, Math.abs(w)))));
  return m;
}
function maxAbsError(got: ArrayLike<number>, want: number[]): number {
  let m = 0;
  want.forEach((w, i) => (m = Math.max(m, Math.abs(got[i] - w))));
  return m;
}

describe('oracle fixture copy', () => {
  it('equals the shared oracle when ../shared is present', () => {
    if (!sharedOraclesPresent()) return; // CI without ../shared: the copy is the oracle
    for (const f of ['detectors.json', 'fp13/meta.json', 'fp13/X.f32']) {
      expect(readFileSync(join(ORACLE_DIR, f)).equals(readFileSync(join(SHARED_ORACLE_DIR, f)))).toBe(true);
    }
  });
});

describe('LOF matches scikit-learn (novelty=True)', () => {
  it.each(['5', '10', '20'])(
    'k = %s: test LOF and training negative_outlier_factor_ to 1e-6 relative',
    (k) => {
      const det = new LofDetector({ k: Number(k) });
      det.fit(X);
      expect(maxRelError(det.score(Y), o.lof[k].test_neg_score_samples)).toBeLessThan(1e-6);
      expect(maxRelError(det.negativeOutlierFactor(), o.lof[k].train_negative_outlier_factor)).toBeLessThan(
        1e-6,
      );
    },
  );
});

describe('One-Class SVM matches libsvm / scikit-learn', () => {
  it.each(['0.1', '0.5'])('nu = %s: gamma, decision_function to 1e-4, support vector count', (nu) => {
    const det = new OcsvmDetector({ nu: Number(nu) });
    det.fit(X);
    const want = o.ocsvm[nu];
    expect(Math.abs(det.gamma - want.gamma_scale)).toBeLessThan(1e-12);
    expect(maxAbsError(det.decisionFunction(Y), want.test_decision_function)).toBeLessThan(1e-4);
    expect(det.nSupport).toBe(want.n_support);
    // the reported anomaly score is -decision_function
    const s = det.score(Y);
    expect(
      maxAbsError(
        s,
        want.test_decision_function.map((v) => -v),
      ),
    ).toBeLessThan(1e-4);
  });
});

describe('PCA + Mahalanobis matches the reference implementation', () => {
  it('keeps the same number of components and gives the same distances to 1e-6 relative', () => {
    const det = new PcaMahalanobisDetector();
    det.fit(X);
    expect(det.nComponents).toBe(o.pca_mahalanobis.n_components);
    expect(maxRelError(det.score(Y), o.pca_mahalanobis.test_distance)).toBeLessThan(1e-6);
  });
});

describe('GMM log-likelihood under fixed parameters', () => {
  it('matches score_samples to 1e-6 relative', () => {
    const g = o.gmm_fixed_params;
    const ll = gmmLogLikelihood({ weights: g.weights, means: g.means, covariances: g.covariances }, Y);
    expect(maxRelError(ll, g.test_score_samples)).toBeLessThan(1e-6);
  });
});

describe('metrics', () => {
  it('AUROC with ties equals roc_auc_score exactly, TPR at FPR <= 0.10 as the oracle defines it', () => {
    const a = o.auroc_with_ties;
    expect(auroc(a.labels, a.scores)).toBeCloseTo(a.auroc, 12);
    expect(tprAtFpr(a.labels, a.scores, 0.1)).toBeCloseTo(a['tpr_at_fpr_0.10'], 12);
  });
});
