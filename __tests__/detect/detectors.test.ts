/**
 * Every detector: refuses degenerate data with a clear InputError, ranks an obvious outlier above clean
 * rows, is deterministic for a seed, and comes back from its saved state giving identical scores.
 */
import { DETECTOR_NAMES, type DetectorName, type DetectorParams } from '../../src/detect/detector.js';
import { mat, type Mat } from '../../src/detect/linalg.js';
import { createDetector, restoreDetector } from '../../src/detect/registry.js';
import { InputError } from '../../src/errors.js';
import { Rng } from '../../src/probes/rng.js';

function gaussian(n: number, d: number, seed: number, shift = 0): Mat {
  const rng = new Rng(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() + shift;
  return mat(n, d, data);
}

const MULTI: DetectorName[] = DETECTOR_NAMES.filter((n) => n !== 'identity');
const SMALL: DetectorParams = { k: 5, trees: 50, epochs: 100 };

describe.each(MULTI)('%s', (name) => {
  const X = gaussian(60, 12, 1);
  const clean = gaussian(20, 12, 2);
  const outlier = gaussian(1, 12, 3, 4);

  it('scores a far-away row above every clean held-out row, and never NaN', () => {
    const det = createDetector(name, SMALL);
    det.fit(X);
    const sc = det.score(clean);
    const so = det.score(outlier)[0];
    for (const v of sc) expect(Number.isFinite(v)).toBe(true);
    expect(so).toBeGreaterThan(Math.max(...sc));
  });

  it('restores from its state (through a JSON-like copy) with identical scores', () => {
    const det = createDetector(name, { ...SMALL, seed: 7 });
    det.fit(X);
    const state = structuredClone(det.state());
    const back = restoreDetector(state);
    expect(Array.from(back.score(clean))).toEqual(Array.from(det.score(clean)));
  });

  it('is deterministic for a given seed', () => {
    const a = createDetector(name, { ...SMALL, seed: 3 });
    const b = createDetector(name, { ...SMALL, seed: 3 });
    a.fit(X);
    b.fit(X);
    expect(Array.from(a.score(clean))).toEqual(Array.from(b.score(clean)));
  });

  it('refuses identical references, NaN rows and mismatched dimensions with degenerate-data', () => {
    const same = mat(10, 12, new Float32Array(120).fill(0.5));
    expect(() => createDetector(name, SMALL).fit(same)).toThrow(InputError);
    const bad = gaussian(30, 12, 4);
    bad.data[5 * 12 + 3] = NaN;
    expect(() => createDetector(name, SMALL).fit(bad)).toThrow(/non-finite/);
    const det = createDetector(name, SMALL);
    det.fit(X);
    try {
      det.score(gaussian(2, 11, 5));
      throw new Error('expected a dimension error');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).code).toBe('degenerate-data');
    }
  });
});

describe('neighbour detectors', () => {
  it('LOF refuses fewer references than neighbours', () => {
    expect(() => createDetector('lof', { k: 20 }).fit(gaussian(15, 4, 1))).toThrow(/too few for k = 20/);
    expect(() => createDetector('knn', { k: 20 }).fit(gaussian(15, 4, 1))).toThrow(/too few for k = 20/);
  });

  it('LOF handles duplicated references without NaN', () => {
    const X = gaussian(30, 4, 1);
    X.data.copyWithin(4, 0, 4); // row 1 = row 0
    X.data.copyWithin(8, 0, 4); // row 2 = row 0
    const det = createDetector('lof', { k: 3 });
    det.fit(X);
    for (const v of det.score(gaussian(5, 4, 2))) expect(Number.isFinite(v)).toBe(true);
  });
});

describe('identity', () => {
  it('scores a one-value block as its value and refuses wider blocks', () => {
    const det = createDetector('identity');
    det.fit(mat(3, 1, Float64Array.from([1, 2, 3])));
    expect(Array.from(det.score(mat(2, 1, Float64Array.from([5, -1]))))).toEqual([5, -1]);
    expect(() => createDetector('identity').fit(gaussian(5, 2, 1))).toThrow(/one-value/);
  });
});

describe('cross-fitting fast paths', () => {
  it.each(['lof', 'knn', 'ocsvm', 'distance_to_clean_mean'] as DetectorName[])(
    '%s: crossFit equals refitting each fold',
    (name) => {
      const X = gaussian(40, 6, 9);
      // kNN and distance-to-mean do exact leave-one-out; the others honour the given folds
      const loo = name === 'knn' || name === 'distance_to_clean_mean';
      const useFolds = Int32Array.from({ length: 40 }, (_, i) => (loo ? i : i % 5));
      const fast = createDetector(name, { k: 5 }).crossFit!(X, useFolds);
      const K = Math.max(...useFolds) + 1;
      for (let f = 0; f < K; f++) {
        const train: number[] = [];
        const test: number[] = [];
        useFolds.forEach((v, i) => (v === f ? test : train).push(i));
        const sub = (idx: number[]) =>
          mat(
            idx.length,
            6,
            Float32Array.from(idx.flatMap((i) => Array.from(X.data.subarray(i * 6, i * 6 + 6)))),
          );
        const d = createDetector(name, { k: 5 });
        d.fit(sub(train));
        const s = d.score(sub(test));
        test.forEach((i, t) => expect(fast[i]).toBeCloseTo(s[t], 9));
      }
    },
  );
});

describe('PCA + Mahalanobis cross-fitting', () => {
  it('is exact leave-one-out for small reference sets', () => {
    const X = gaussian(25, 30, 21);
    const fast = createDetector('pca_mahalanobis').crossFit!(
      X,
      Int32Array.from({ length: 25 }, (_, i) => i % 5),
    );
    for (const i of [0, 7, 24]) {
      const keep = Array.from({ length: 25 }, (_, j) => j).filter((j) => j !== i);
      const rowsOf = (idx: number[]) =>
        mat(
          idx.length,
          30,
          Float32Array.from(idx.flatMap((j) => Array.from(X.data.subarray(j * 30, j * 30 + 30)))),
        );
      const d = createDetector('pca_mahalanobis');
      d.fit(rowsOf(keep));
      expect(fast[i]).toBeCloseTo(d.score(rowsOf([i]))[0], 6);
    }
  });
});
