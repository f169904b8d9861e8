/**
 * Cross-fitting reads each fold's neighbours and kernel from the full distance matrix in place instead of
 * copying fold-sized sub-matrices (src/detect/neighbors.ts kNearestWithin, lof.ts, ocsvm.ts): the results
 * must be exactly those of the copied sub-matrix, ties included.
 */
import { mat, selfSqDistances, subMatrix } from '../../src/detect/linalg.js';
import { LofDetector, lofFitFromSqDist, lofScoreFromSqDist } from '../../src/detect/lof.js';
import { foldSplit, kNearest, kNearestWithin } from '../../src/detect/neighbors.js';
import { makeFolds } from '../../src/score/calibrate.js';
import { Rng } from '../../src/probes/rng.js';

describe('kNearestWithin', () => {
  it('equals kNearest on the copied sub-matrix, with ties (integer-valued distances)', () => {
    const n = 40;
    const rng = new Rng(3);
    const D = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < i; j++) {
        const v = rng.int(6); // many ties
        D[i * n + j] = v;
        D[j * n + i] = v;
      }
    const folds = makeFolds(n, 5);
    for (let f = 0; f < 5; f++) {
      const { train, test } = foldSplit(folds, f);
      const a = kNearestWithin(D, n, train, train, 4, { excludeSelf: true });
      const b = kNearest(subMatrix(D, n, train, train), train.length, train.length, 4, { excludeSelf: true });
      expect(a.idx).toEqual(b.idx);
      expect(a.dist).toEqual(b.dist);
      const c = kNearestWithin(D, n, test, train, 4, { squared: true });
      const d = kNearest(subMatrix(D, n, test, train), test.length, train.length, 4, { squared: true });
      expect(c.idx).toEqual(d.idx);
      expect(c.dist).toEqual(d.dist);
    }
  });
});

describe('LOF cross-fitting in place', () => {
  it('gives exactly the scores of per-fold fits on copied sub-matrices', () => {
    const n = 60;
    const X = mat(n, 8, new Rng(4).normals(n * 8));
    const folds = makeFolds(n, 10);
    const got = new LofDetector({ k: 5 }).crossFit(X, folds);
    const D2 = selfSqDistances(X);
    for (let f = 0; f < 10; f++) {
      const { train, test } = foldSplit(folds, f);
      const fit = lofFitFromSqDist(subMatrix(D2, n, train, train), train.length, 5);
      const s = lofScoreFromSqDist(fit, subMatrix(D2, n, test, train), test.length, train.length);
      for (let t = 0; t < test.length; t++) expect(got[test[t]]).toBe(s[t]);
    }
  });
});
