/**
 * A backdoor check that needs no forward pass: does one class's final-layer weight row (or bias) stand out
 * from the model's other classes? Per feature of finalRowFeatures (norm, skew, share of positive weight,
 * alignment with the other rows, bias, ...), each class's robust z against the other classes; the
 * largest z in the direction a backdoor pushes is tested against the distribution of the largest robust z
 * of K normal draws (max-z-null.ts: no model zoo, any class count), and the tests are combined by
 * Bonferroni. Reference-free: the model's own classes are the reference. With a baseline the same
 * statistic is calibrated against the clean references like every self-check (the ensemble's identity
 * channel on self:final-layer), where a class count or recipe whose rows are naturally uneven is judged
 * by its own kind.
 */
import { maxZPValue, robustZs } from '../selfcheck/max-z-null.js';
import { FINAL_ROW_FEATURE_NAMES, FINAL_ROW_FEATURES, type FinalRowFeature } from './final-layer-features.js';

/** Which way a backdoor moves a feature of its target's row. */
export type Side = 'high' | 'low' | 'both';

export interface StaticTest {
  feature: FinalRowFeature;
  side: Side;
}

/**
 * The tests the check runs. A trigger feature that must win the target's logit from any input shows as
 * large positive weights: a higher mean and share of positive mass, a larger norm, a higher bias, and a
 * row less aligned with the other classes'. Features whose largest robust z exceeded the max-z null's 1.5%
 * point on more than 3% of the MNIST zoo's clean models (max, skew tail, top-1% mass, kurtosis, exclusive
 * mass: quantised or heavy-tailed across classes) are computed but not tested (bench/refree.ts).
 */
export const STATIC_TESTS: readonly StaticTest[] = [
  { feature: 'mean', side: 'high' },
  { feature: 'positive-mass', side: 'high' },
  { feature: 'norm', side: 'high' },
  { feature: 'bias', side: 'high' },
  { feature: 'alignment', side: 'low' },
];

/** Fewest classes a contrast across classes means anything for. */
export const MIN_STATIC_CLASSES = 3;

export interface StaticTestResult extends StaticTest {
  /** The class the test points at (its largest z in the test's direction). */
  cls: number;
  z: number;
  /** P(largest z of K clean classes >= z), doubled for two-sided tests. */
  pValue: number;
}

export interface FinalLayerAnomaly {
  /** Bonferroni over the tests: min(1, tests x smallest p). */
  pValue: number;
  /** The class of the test with the smallest p (ties: larger z). */
  targetClass: number;
  tests: StaticTestResult[];
}

/** The check on per-class row features (finalRowFeatures' layout, class-major). Null below 3 classes. */
export function finalLayerAnomaly(
  features: ArrayLike<number>,
  classes: number,
  tests: readonly StaticTest[] = STATIC_TESTS,
): FinalLayerAnomaly | null {
  if (classes < MIN_STATIC_CLASSES || features.length !== classes * FINAL_ROW_FEATURES) return null;
  const results: StaticTestResult[] = tests.map((t) => {
    const j = FINAL_ROW_FEATURE_NAMES.indexOf(t.feature);
    const column = Float64Array.from({ length: classes }, (_, c) => features[c * FINAL_ROW_FEATURES + j]);
    const z = robustZs(column);
    let cls = 0;
    let best = -Infinity;
    for (let c = 0; c < classes; c++) {
      const v = t.side === 'high' ? z[c] : t.side === 'low' ? -z[c] : Math.abs(z[c]);
      if (v > best) [best, cls] = [v, c];
    }
    const p = Math.min(1, (t.side === 'both' ? 2 : 1) * maxZPValue(best, classes));
    return { ...t, cls, z: best, pValue: p };
  });
  const top = results.reduce((a, b) => (b.pValue < a.pValue || (b.pValue === a.pValue && b.z > a.z) ? b : a));
  return {
    pValue: Math.min(1, results.length * top.pValue),
    targetClass: top.cls,
    tests: results,
  };
}
