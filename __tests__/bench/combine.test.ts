/**
 * Channel combination rules (src/score/combine.ts): each rule's definition on hand-computed values, the
 * limits that tie them together (top-1 = min-p, top-all = Fisher), monotonicity, and finite output for
 * p-values of 0 or below the floor.
 */
import fc from 'fast-check';
import { combineLabel, combinePValues, COMBINE_RULES } from '../../src/score/combine.js';

describe('combinePValues', () => {
  const ps = [0.5, 0.01, 0.2, 0.9];

  it('fisher is the mean of -ln p', () => {
    const want = -(Math.log(0.5) + Math.log(0.01) + Math.log(0.2) + Math.log(0.9)) / 4;
    expect(combinePValues(ps, { rule: 'fisher' })).toBeCloseTo(want, 12);
  });

  it('min-p is -ln of the smallest p', () => {
    expect(combinePValues(ps, { rule: 'min-p' })).toBeCloseTo(-Math.log(0.01), 12);
  });

  it('top-k averages the k largest -ln p; k = 1 is min-p and k = all is fisher', () => {
    expect(combinePValues(ps, { rule: 'top-k', k: 2 })).toBeCloseTo(
      -(Math.log(0.01) + Math.log(0.2)) / 2,
      12,
    );
    expect(combinePValues(ps, { rule: 'top-k', k: 1 })).toBeCloseTo(
      combinePValues(ps, { rule: 'min-p' }),
      12,
    );
    expect(combinePValues(ps, { rule: 'top-k', k: 99 })).toBeCloseTo(
      combinePValues(ps, { rule: 'fisher' }),
      12,
    );
  });

  it('cauchy is -ln of the Cauchy tail of the mean of tan((0.5 - p)pi)', () => {
    const t = ps.reduce((s, p) => s + Math.tan((0.5 - p) * Math.PI), 0) / ps.length;
    expect(combinePValues(ps, { rule: 'cauchy' })).toBeCloseTo(-Math.log(0.5 - Math.atan(t) / Math.PI), 9);
    // one tiny p dominates: the combined tail is about that p divided by the channel count
    const v = combinePValues([1e-20, 0.5, 0.5, 0.5], { rule: 'cauchy' });
    expect(v).toBeCloseTo(-Math.log(4e-20), 3);
  });

  it('one strong channel among many weak ones lifts min-p far more than fisher', () => {
    const many = [1e-6, ...Array.from({ length: 29 }, () => 0.5)];
    const f = combinePValues(many, { rule: 'fisher' });
    const m = combinePValues(many, { rule: 'min-p' });
    expect(m).toBeGreaterThan(10 * f);
  });

  it('every rule is finite for p = 0 and non-decreasing as any one p falls', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 }),
        fc.nat(11),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (arr, at, factor) => {
          const i = at % arr.length;
          const lower = [...arr];
          lower[i] = arr[i] * factor;
          for (const rule of COMBINE_RULES) {
            const spec = { rule, k: 3 };
            const a = combinePValues(arr, spec);
            const b = combinePValues(lower, spec);
            if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
            if (b < a - 1e-9 * Math.max(1, Math.abs(a))) return false;
          }
          return true;
        },
      ),
    );
  });

  it('refuses an empty list and labels top-k with its k', () => {
    expect(() => combinePValues([], { rule: 'fisher' })).toThrow(/no channel/);
    expect(combineLabel({ rule: 'top-k', k: 2 })).toBe('top-2');
    expect(combineLabel({ rule: 'cauchy' })).toBe('cauchy');
  });
});
