/**
 * The reference-free p-value: a proper tail probability (in [0,1], decreasing in the score, larger for
 * more classes), the Gumbel fit recovers known parameters, and the shipped null is more conservative than
 * the raw fit it came from. (Real clean and backdoored models: __tests__/selfcheck/trigger-probe.test.ts.)
 */
import fc from 'fast-check';
import {
  conservativeNull,
  fitGumbel,
  triggerPValue,
  TRIGGER_SCORE_NULL,
} from '../../src/selfcheck/reference-free-p.js';
import { Rng } from '../../src/probes/rng.js';

describe('triggerPValue', () => {
  it('is a tail probability: in [0,1] and non-increasing in the score', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -50, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        (s, d) => {
          const p1 = triggerPValue(s, 10);
          const p2 = triggerPValue(s + d, 10);
          expect(p1).toBeGreaterThanOrEqual(0);
          expect(p1).toBeLessThanOrEqual(1);
          expect(p2).toBeLessThanOrEqual(p1);
        },
      ),
    );
  });

  it('gives no evidence for a non-finite score and refuses a bad class count', () => {
    expect(triggerPValue(Number.NaN, 10)).toBe(1);
    expect(triggerPValue(Number.NEGATIVE_INFINITY, 10)).toBe(1);
    expect(() => triggerPValue(3, 1)).toThrow(/class count/);
  });

  it('is larger with more classes (the max of more draws is larger by chance)', () => {
    const s = TRIGGER_SCORE_NULL.location + 3 * TRIGGER_SCORE_NULL.scale;
    expect(triggerPValue(s, 100)).toBeGreaterThan(triggerPValue(s, 10));
    expect(triggerPValue(s, 10)).toBeGreaterThan(triggerPValue(s, 2));
  });

  it('keeps precision for tiny p-values', () => {
    const p = triggerPValue(TRIGGER_SCORE_NULL.location + 40 * TRIGGER_SCORE_NULL.scale, 10);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1e-15);
  });
});

describe('fitGumbel', () => {
  it('recovers location and scale from Gumbel samples', () => {
    const rng = new Rng(11);
    const xs = Array.from({ length: 4000 }, () => 2 - 0.5 * Math.log(-Math.log(1 - rng.next())));
    const fit = fitGumbel(xs);
    expect(fit.location).toBeCloseTo(2, 1);
    expect(fit.scale).toBeCloseTo(0.5, 1);
  });

  it('needs two scores', () => {
    expect(() => fitGumbel([1])).toThrow(/at least 2/);
  });

  it('the conservative null calls fewer scores high than the raw fit', () => {
    const fit = { location: 1.2, scale: 0.4 };
    const shipped = conservativeNull(fit, 10, 20, 'test');
    for (const s of [1.5, 2.5, 3.5, 5]) {
      expect(triggerPValue(s, 10, shipped)).toBeGreaterThan(triggerPValue(s, 10, { ...shipped, ...fit }));
    }
  });
});
