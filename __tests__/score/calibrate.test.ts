/**
 * Calibration: cross-fitted conformal p-values are (close to) uniform on held-out clean data, the fitted
 * tail is monotone and separates scores beyond the largest reference, and the risk mapping is as specified.
 */
import { createDetector } from '../../src/detect/registry.js';
import { mat, type Mat } from '../../src/detect/linalg.js';
import { Rng } from '../../src/probes/rng.js';
import {
  crossFitScores,
  fitCalibration,
  leaveOneOutPValues,
  makeFolds,
  pValue,
  rankFloor,
} from '../../src/score/calibrate.js';
import { levelOf, P_HIGH, P_MEDIUM, reachesFailOn, riskScore } from '../../src/score/risk.js';

function gaussian(n: number, d: number, seed: number): Mat {
  const rng = new Rng(seed);
  return mat(
    n,
    d,
    Float32Array.from({ length: n * d }, () => rng.normal()),
  );
}

describe('conformal p-values', () => {
  it('are near-uniform on held-out clean rows: share with p <= 0.05 is close to 0.05', () => {
    let hits = 0;
    let total = 0;
    for (let rep = 0; rep < 8; rep++) {
      const X = gaussian(100, 8, 100 + rep);
      const make = () => createDetector('knn', { k: 5 });
      const cal = fitCalibration(crossFitScores(make, X, makeFolds(X.rows)));
      const det = make();
      det.fit(X);
      for (const s of det.score(gaussian(250, 8, 900 + rep))) {
        total++;
        if (pValue(cal, s) <= 0.05) hits++;
      }
    }
    const share = hits / total;
    expect(share).toBeGreaterThan(0.025);
    expect(share).toBeLessThan(0.08);
  });

  it('ranks among the references and extends the tail beyond the largest one', () => {
    const cal = fitCalibration([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rankFloor(cal)).toBeCloseTo(1 / 11, 12);
    expect(pValue(cal, 0)).toBeCloseTo(1, 12);
    expect(pValue(cal, 5)).toBeCloseTo(7 / 11, 12);
    expect(pValue(cal, 10)).toBeCloseTo(2 / 11, 12);
    const beyond = [10.001, 10.5, 11, 13, 20, 50].map((s) => pValue(cal, s));
    for (const p of beyond) expect(p).toBeLessThan(1 / 11);
    for (let i = 1; i < beyond.length; i++) expect(beyond[i]).toBeLessThan(beyond[i - 1]);
    expect(pValue(cal, 1e9)).toBeGreaterThan(0);
  });

  it('is monotone non-increasing in the score everywhere', () => {
    const rng = new Rng(5);
    const cal = fitCalibration(Array.from({ length: 50 }, () => rng.normal()));
    let prev = Infinity;
    for (let s = -4; s < 8; s += 0.01) {
      const p = pValue(cal, s);
      expect(p).toBeLessThanOrEqual(prev);
      prev = p;
    }
  });

  it('survives tied reference scores', () => {
    const cal = fitCalibration([2, 2, 2, 2, 2, 2]);
    expect(pValue(cal, 2)).toBeCloseTo(1, 12);
    expect(pValue(cal, 2.5)).toBeLessThan(1 / 7);
    expect(Number.isFinite(pValue(cal, 3))).toBe(true);
  });

  it('leave-one-out p-values rank each reference among the others', () => {
    const p = leaveOneOutPValues([1, 2, 3, 4]);
    expect(p[0]).toBeCloseTo(1, 12);
    expect(p[2]).toBeCloseTo(2 / 4, 12);
    expect(p[3]).toBeLessThanOrEqual(1 / 4);
  });

  it('folds: leave-one-out when there are fewer rows than folds, balanced otherwise', () => {
    expect(new Set(makeFolds(6, 10)).size).toBe(6);
    const f = makeFolds(95, 10);
    const counts = new Array(10).fill(0);
    f.forEach((v) => counts[v]++);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(9);
    expect(Math.max(...counts)).toBeLessThanOrEqual(10);
  });
});

describe('risk score', () => {
  it('maps p to 0-100 and bands as specified', () => {
    expect(riskScore(0.1)).toBe(33);
    expect(riskScore(0.01)).toBe(67);
    expect(riskScore(0.001)).toBe(100);
    expect(riskScore(1e-9)).toBe(100);
    expect(riskScore(1)).toBe(0);
    expect(levelOf(30)).toBe('low');
    expect(levelOf(31)).toBe('medium');
    expect(levelOf(60)).toBe('medium');
    expect(levelOf(61)).toBe('high');
    expect(levelOf(riskScore(P_HIGH * 0.999))).toBe('high');
    expect(levelOf(riskScore(P_HIGH * 1.001))).toBe('medium');
    expect(levelOf(riskScore(P_MEDIUM * 0.999))).toBe('medium');
    expect(levelOf(riskScore(P_MEDIUM * 1.001))).toBe('low');
    expect(reachesFailOn('high', 'medium')).toBe(true);
    expect(reachesFailOn('medium', 'high')).toBe(false);
    expect(reachesFailOn('high', 'never')).toBe(false);
  });
});
