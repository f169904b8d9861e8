/**
 * The no-forward-pass check: per-class features of the final layer's rows are what their definitions say
 * (hand-computed on a tiny layer), invariant to permuting the penultimate units, and the anomaly across
 * classes points at a planted target row (large positive weights on a few units, as a trigger feature
 * wired to the target gives) while staying quiet on rows drawn alike.
 */
import {
  FINAL_ROW_FEATURE_NAMES,
  FINAL_ROW_FEATURES,
  finalRowFeatures,
} from '../../src/fingerprint/final-layer-features.js';
import { finalLayerAnomaly } from '../../src/fingerprint/final-layer-anomaly.js';
import type { FinalLinear } from '../../src/fingerprint/final-layer.js';
import { Rng } from '../../src/probes/rng.js';

function layer(weight: number[][], bias?: number[]): FinalLinear {
  return {
    node: {},
    weight: Float64Array.from(weight.flat()),
    classes: weight.length,
    features: weight[0].length,
    bias: bias ? Float64Array.from(bias) : null,
    input: 'h',
    weightName: 'w',
  };
}

const at = (f: Float64Array, c: number, name: string): number =>
  f[c * FINAL_ROW_FEATURES + FINAL_ROW_FEATURE_NAMES.indexOf(name as never)];

function randomLayer(seed: string, classes: number, features: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: classes }, () => Array.from({ length: features }, () => rng.normal(0, 0.1)));
}

describe('finalRowFeatures', () => {
  it('computes each feature as defined', () => {
    const f = finalRowFeatures(
      layer(
        [
          [1, -1, 2, 0],
          [0, 0, 0, 4],
          [1, 1, 1, 1],
        ],
        [0.5, -1, 2],
      ),
    );
    expect(at(f, 0, 'norm')).toBeCloseTo(Math.sqrt(6), 10);
    expect(at(f, 0, 'mean')).toBeCloseTo(0.5, 10);
    expect(at(f, 0, 'max')).toBe(2);
    expect(at(f, 0, 'min')).toBe(-1);
    expect(at(f, 0, 'positive-share')).toBe(0.5);
    expect(at(f, 0, 'positive-mass')).toBeCloseTo(3 / 4, 10);
    expect(at(f, 1, 'top-mass')).toBe(1); // its one largest weight holds all of its mass
    expect(at(f, 1, 'skew')).toBeGreaterThan(1); // one large weight: a right tail
    // unit 3: class 1 has 4, the next class 1 -> exclusive 3 of class 1's mass 4
    expect(at(f, 1, 'exclusive-mass')).toBeCloseTo(3 / 4, 10);
    expect(at(f, 2, 'bias')).toBe(2);
    expect(at(f, 2, 'std')).toBe(0);
  });

  it('is invariant to permuting the penultimate units', () => {
    const w = randomLayer('perm', 6, 20);
    const perm = Array.from({ length: 20 }, (_, i) => (i * 7) % 20);
    const a = finalRowFeatures(layer(w));
    const b = finalRowFeatures(layer(w.map((row) => perm.map((j) => row[j]))));
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 9));
  });
});

describe('finalLayerAnomaly', () => {
  it('points at a planted target row and stays quiet on rows drawn alike', () => {
    let quiet = 0;
    for (let s = 0; s < 20; s++) {
      const a = finalLayerAnomaly(finalRowFeatures(layer(randomLayer(`clean-${s}`, 10, 64))), 10)!;
      if (a.pValue > 0.05) quiet++;
    }
    expect(quiet).toBeGreaterThanOrEqual(18);
    const w = randomLayer('backdoor', 10, 64);
    for (const unit of [3, 17, 40]) w[6][unit] = 1.5; // a trigger feature wired to class 6
    const a = finalLayerAnomaly(finalRowFeatures(layer(w)), 10)!;
    expect(a.targetClass).toBe(6);
    expect(a.pValue).toBeLessThan(0.01);
    expect(a.tests.length).toBeGreaterThan(3);
  });

  it('needs three classes and the matching feature layout', () => {
    expect(finalLayerAnomaly(new Float64Array(2 * FINAL_ROW_FEATURES), 2)).toBeNull();
    expect(finalLayerAnomaly(new Float64Array(5), 3)).toBeNull();
  });
});
