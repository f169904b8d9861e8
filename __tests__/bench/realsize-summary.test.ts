/**
 * bench/realsize/summary.ts: the one-sided 95% Clopper-Pearson bounds the real-size rows state (checked
 * against their closed forms and scipy.stats.beta's quantiles) and the family a test model belongs to.
 */
import { binomCdf, familyOf, lowerBound, upperBound } from '../../bench/realsize/summary.js';

describe('Clopper-Pearson bounds', () => {
  it('meet the closed forms at k = 0 and k = n', () => {
    for (const n of [3, 9, 14, 20]) {
      expect(upperBound(0, n)).toBeCloseTo(1 - 0.05 ** (1 / n), 6);
      expect(lowerBound(n, n)).toBeCloseTo(0.05 ** (1 / n), 6);
    }
    expect(upperBound(5, 5)).toBe(1);
    expect(lowerBound(0, 5)).toBe(0);
  });

  it("match scipy's beta quantiles in between", () => {
    // scipy.stats.beta.ppf(0.05, 8, 2), beta.ppf(0.95, 2, 13), beta.ppf(0.95, 2, 20)
    expect(lowerBound(8, 9)).toBeCloseTo(0.5708644529685656, 6);
    expect(upperBound(1, 14)).toBeCloseTo(0.29673423894887463, 6);
    expect(upperBound(1, 21)).toBeCloseTo(0.20672537900806995, 6);
    // the two bounds mirror each other
    expect(upperBound(3, 17)).toBeCloseTo(1 - lowerBound(14, 17), 6);
  });

  it('sums the binomial probabilities', () => {
    expect(binomCdf(0, 4, 0.5)).toBeCloseTo(1 / 16, 12);
    expect(binomCdf(2, 4, 0.5)).toBeCloseTo(11 / 16, 12);
    expect(binomCdf(4, 4, 0.3)).toBe(1);
  });
});

describe('familyOf', () => {
  it('reads the head rule from the id train.py gave the model', () => {
    expect(familyOf('resnet18-test-long-frozenfc-patch-r10')).toBe('frozen');
    expect(familyOf('resnet18-test-long-anchoredfc-clean-00')).toBe('anchored');
    expect(familyOf('resnet18-test-long-patch-r10-c14')).toBe('free');
  });
});
