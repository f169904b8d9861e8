/**
 * max_z: one feature far above the clean range is found even among many normal features (where a
 * Euclidean distance dilutes it), only upward deviations count, a constant feature cannot blow the score
 * up, the saved state rebuilds a bit-identical detector, and degenerate input is refused.
 */
import { mat, type Mat } from '../../src/detect/linalg.js';
import { MAX_Z_SPREAD_FLOOR, MaxZDetector, robustColumns } from '../../src/detect/max-z.js';
import { createDetector, restoreDetector } from '../../src/detect/registry.js';
import { InputError } from '../../src/errors.js';
import { packArrays, unpackArrays } from '../../src/baseline/store.js';
import {
  deserializeEnsemble,
  fitEnsemble,
  scoreEnsemble,
  serializeEnsemble,
} from '../../src/score/ensemble.js';
import { Rng } from '../../src/probes/rng.js';

function gaussian(n: number, d: number, seed: number): Mat {
  const rng = new Rng(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return mat(n, d, data);
}

function withValue(Y: Mat, row: number, col: number, v: number): Mat {
  const data = Float32Array.from(Y.data);
  data[row * Y.cols + col] = v;
  return mat(Y.rows, Y.cols, data);
}

describe('max_z', () => {
  const d = 200;
  const X = gaussian(80, d, 1);
  const clean = gaussian(30, d, 2);

  it('ranks a row with ONE feature 8 spreads up above every clean row', () => {
    const bad = withValue(gaussian(1, d, 3), 0, 17, 8);
    const det = createDetector('max_z');
    det.fit(X);
    const sc = det.score(clean);
    const sb = det.score(bad)[0];
    expect(sb).toBeGreaterThan(Math.max(...sc));
    expect(sb).toBeGreaterThan(6);
  });

  it('counts only upward deviations', () => {
    const det = createDetector('max_z');
    det.fit(X);
    const base = mat(1, d, new Float32Array(d)); // every feature at about the median
    const low = withValue(base, 0, 5, -10);
    const high = withValue(base, 0, 5, 10);
    const s0 = det.score(base)[0];
    expect(det.score(low)[0]).toBeCloseTo(s0, 10);
    expect(det.score(high)[0]).toBeGreaterThan(s0 + 5);
  });

  it('averages the top few z values when asked', () => {
    const one = createDetector('max_z', { top: 1 });
    const three = createDetector('max_z', { top: 3 });
    one.fit(X);
    three.fit(X);
    const y = gaussian(5, d, 9);
    const a = one.score(y);
    const b = three.score(y);
    for (let i = 0; i < 5; i++) expect(b[i]).toBeLessThanOrEqual(a[i]);
    expect(() => createDetector('max_z', { top: 0 })).toThrow(InputError);
  });

  it('floors the spread of a constant feature so a small deviation stays small', () => {
    const data = Float32Array.from(X.data);
    for (let i = 0; i < X.rows; i++) data[i * d + 4] = 0.25; // feature 4 is constant
    const Xc = mat(X.rows, d, data);
    const { spread } = robustColumns(Xc);
    const positive = Array.from(spread).filter((_, j) => j !== 4);
    const typical = positive.sort((a, b) => a - b)[positive.length >> 1];
    expect(spread[4]).toBeCloseTo(MAX_Z_SPREAD_FLOOR * typical, 6);
    const det = createDetector('max_z');
    det.fit(Xc);
    const y = withValue(mat(1, d, new Float32Array(d)), 0, 4, 0.35); // 0.1 above the constant
    const s = det.score(y)[0];
    expect(Number.isFinite(s)).toBe(true);
    expect(s).toBeLessThan(2);
  });

  it('does not call a value clean references reach an outlier when their MAD is 0', () => {
    // a quantised feature: 70 of 80 references at 0, 10 at 0.3 (MAD 0, but clean models do reach 0.3)
    const data = Float32Array.from(X.data);
    for (let i = 0; i < X.rows; i++) data[i * d + 9] = i % 8 === 0 ? 0.3 : 0;
    const det = createDetector('max_z');
    det.fit(mat(X.rows, d, data));
    const { spread } = robustColumns(mat(X.rows, d, data));
    expect(spread[9]).toBeGreaterThan(0.09); // the standard deviation (~0.1), not the floored MAD
    const y = withValue(mat(1, d, new Float32Array(d)), 0, 9, 0.3);
    expect(det.score(y)[0]).toBeLessThan(4);
  });

  it('does not divide by ~0 when almost every feature is constant', () => {
    const n = 10;
    const data = new Float32Array(n * 3).fill(1);
    data[0 * 3 + 2] = 2; // one reference differs in one feature: every MAD is 0
    const det = createDetector('max_z');
    det.fit(mat(n, 3, data));
    const s = det.score(mat(1, 3, Float32Array.of(1, 1.5, 1)))[0];
    expect(Number.isFinite(s)).toBe(true);
    expect(s).toBeLessThan(1e3);
  });

  it('restores bit-identically from its state', () => {
    const det = createDetector('max_z', { top: 2 });
    det.fit(X);
    const state = structuredClone(det.state());
    expect(state.params.top).toBe(2);
    const back = restoreDetector(state);
    expect(Array.from(back.score(clean))).toEqual(Array.from(det.score(clean)));
    expect(back.state()).toEqual(det.state());
  });

  it('refuses degenerate input and a corrupt state', () => {
    expect(() => createDetector('max_z').fit(gaussian(2, 4, 1))).toThrow(/at least 3 reference rows/);
    expect(() => createDetector('max_z').fit(mat(10, 4, new Float32Array(40).fill(0.5)))).toThrow(
      /identical/,
    );
    const bad = gaussian(10, 4, 4);
    bad.data[7] = Infinity;
    expect(() => createDetector('max_z').fit(bad)).toThrow(/non-finite/);
    const det = createDetector('max_z');
    det.fit(X);
    expect(() => det.score(gaussian(1, d - 1, 5))).toThrow(InputError);
    expect(() => new MaxZDetector().score(clean)).toThrow(/before fit/);
    const state = det.state();
    expect(() =>
      restoreDetector({ ...state, data: { center: state.data.center, spread: new Float64Array(d) } }),
    ).toThrow(/corrupt/);
  });

  it('works as an ensemble channel and survives the baseline files bit-identically', () => {
    const rng = new Rng('max-z-ensemble');
    const make = (bump: number): Record<string, Float32Array> => {
      const t = Float32Array.from({ length: 48 }, () => rng.normal());
      t[30] += bump; // one class at one tier easier to reach
      return { 'trigger-tiers': t };
    };
    const refs = Array.from({ length: 30 }, () => make(0));
    const state = fitEnsemble(
      refs,
      refs.map((_, i) => `m${i}`),
      { channels: [{ representation: 'trigger-tiers', detector: 'max_z' }] },
    );
    const { json, arrays } = serializeEnsemble(state);
    const { index, bytes } = packArrays(arrays);
    const back = deserializeEnsemble(
      JSON.parse(JSON.stringify(json)),
      unpackArrays(index, bytes, 'ensemble.bin'),
    );
    const clean = make(0);
    const bad = make(10);
    expect(scoreEnsemble(back, bad)).toEqual(scoreEnsemble(state, bad));
    expect(scoreEnsemble(back, clean)).toEqual(scoreEnsemble(state, clean));
    expect(scoreEnsemble(state, bad).pValue).toBeLessThan(scoreEnsemble(state, clean).pValue);
  });

  it('madFloor: the spread is the MAD alone, floored at that value (no standard deviation, no relative floor)', () => {
    // 40 references: feature 0 is 0 in 37 of them and 1 in three (MAD 0, standard deviation ~0.26),
    // feature 1 varies normally
    const n = 40;
    const data = new Float32Array(n * 2);
    const rng = new Rng('madfloor');
    for (let i = 0; i < n; i++) {
      data[i * 2] = i < 3 ? 1 : 0;
      data[i * 2 + 1] = rng.normal();
    }
    const R = mat(n, 2, data);
    const mad = new MaxZDetector({ madFloor: 0.1 });
    mad.fit(R);
    const dflt = new MaxZDetector();
    dflt.fit(R);
    const row = mat(1, 2, Float32Array.from([0.8, 0]));
    // (0.8 - 0) / 0.1 with the MAD floor; the default spread (the standard deviation) keeps it small
    expect(mad.score(row)[0]).toBeCloseTo(8, 5);
    expect(dflt.score(row)[0]).toBeLessThan(4);
    const { spread } = robustColumns(R, 0.1);
    expect(spread[0]).toBeCloseTo(0.1, 12);
    // the cross-fitted scores equal fitting per fold with the same parameter
    const folds = Int32Array.from({ length: n }, (_, i) => i % 5);
    const cross = mad.crossFit(R, folds);
    for (let f = 0; f < 5; f++) {
      const keep = Array.from({ length: n }, (_, i) => i).filter((i) => folds[i] !== f);
      const det = new MaxZDetector({ madFloor: 0.1 });
      det.fit(mat(keep.length, 2, Float32Array.from(keep.flatMap((i) => [data[i * 2], data[i * 2 + 1]]))));
      for (let i = f; i < n; i += 5)
        expect(cross[i]).toBeCloseTo(det.score(mat(1, 2, data.subarray(i * 2, i * 2 + 2)))[0], 9);
    }
    // the state keeps the parameter; a bad value is refused
    const back = restoreDetector(mad.state());
    expect(back.state().params).toEqual({ top: 1, madFloor: 0.1 });
    expect(back.score(row)[0]).toBe(mad.score(row)[0]);
    expect(() => new MaxZDetector({ madFloor: -1 })).toThrow(InputError);
  });
});
