/**
 * The zoo-free null of the largest robust z among K classes: a proper tail probability, calibrated on the
 * draws it assumes (checked with a generator independent of the table's), growing with K as a maximum must,
 * interpolating between the tabulated class counts.
 */
import fc from 'fast-check';
import { maxZPValue, maxZQuantiles, robustZs } from '../../src/selfcheck/max-z-null.js';
import { MAX_Z_CLASSES, MAX_Z_QUANTILES } from '../../src/selfcheck/max-z-table.js';

/** An independent seeded normal generator (not the one the null is simulated with). */
function normals(seed: number, n: number): number[] {
  let s = seed >>> 0 || 1;
  const u = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

describe('robustZs', () => {
  it('is (x - median) / (1.4826 MAD), with the floor when the MAD vanishes', () => {
    const z = robustZs([1, 2, 3, 4, 100]);
    // median 3, deviations 2,1,0,1,97 -> MAD 1
    expect(z[4]).toBeCloseTo(97 / 1.4826, 6);
    expect(z[2]).toBe(0);
    expect(robustZs([5, 5, 5, 6], 0.5)[3]).toBeCloseTo(2, 10);
  });
});

describe('maxZPValue', () => {
  it('is a tail probability: in (0,1] and non-increasing in z', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -5, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        (z, d) => {
          const p1 = maxZPValue(z, 10);
          const p2 = maxZPValue(z + d, 10);
          expect(p1).toBeGreaterThan(0);
          expect(p1).toBeLessThanOrEqual(1);
          expect(p2).toBeLessThanOrEqual(p1);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('holds its level on the draws it assumes: K normal values, any K', () => {
    for (const k of [5, 10, 43, 57]) {
      let below = 0;
      const runs = 2000;
      for (let r = 0; r < runs; r++) {
        const z = robustZs(normals(1000 * k + r, k));
        below += maxZPValue(Math.max(...z), k) <= 0.05 ? 1 : 0;
      }
      // 5% nominal; binomial sd at 2000 runs is 0.5%
      expect(below / runs).toBeGreaterThan(0.035);
      expect(below / runs).toBeLessThan(0.065);
    }
  });

  it('needs a larger z for the same p with more classes (beyond the small-K noise of the MAD)', () => {
    expect(maxZPValue(4, 1000)).toBeGreaterThan(maxZPValue(4, 100));
    expect(maxZPValue(4, 100)).toBeGreaterThan(0.01);
    expect(maxZPValue(4.5, 5000)).toBeGreaterThan(maxZPValue(4.5, 500));
  });

  it('reads the table at its grid points and interpolates between them', () => {
    const i = MAX_Z_CLASSES.indexOf(100);
    expect(maxZQuantiles(100)).toEqual(MAX_Z_QUANTILES[i]);
    const mid = maxZQuantiles(110);
    mid.forEach((q, j) => {
      const [a, b] = [MAX_Z_QUANTILES[i][j], MAX_Z_QUANTILES[i + 1][j]];
      expect(q).toBeGreaterThanOrEqual(Math.min(a, b));
      expect(q).toBeLessThanOrEqual(Math.max(a, b));
    });
    // the tabulated 5% point of K = 10 gives p = 0.05
    expect(maxZPValue(MAX_Z_QUANTILES[MAX_Z_CLASSES.indexOf(10)][4], 10)).toBeCloseTo(0.05, 6);
  });

  it('gives no evidence for NaN, the floor for +Infinity, and refuses fewer than 3 classes', () => {
    expect(maxZPValue(Number.NaN, 10)).toBe(1);
    expect(maxZPValue(Number.POSITIVE_INFINITY, 10)).toBeLessThan(1e-4);
    expect(maxZPValue(-3, 10)).toBe(1);
    expect(() => maxZPValue(3, 2)).toThrow(/class count/);
  });
});
