/**
 * The final verdict with a baseline: the ensemble's p-value and the trigger test's p (the larger of its own
 * zoo-free p and the references' p, when the ensemble gives one); under 'bonferroni' (shipped) the two are
 * combined, under 'report' the trigger p is reported beside the ensemble's.
 */
import type { Fingerprint } from '../../src/fingerprint/types.js';
import {
  FINAL_TESTS,
  finalVerdict,
  TRIGGER_POLICY_WITH_BASELINE,
  triggerTestP,
} from '../../src/score/final.js';
import { riskScore } from '../../src/score/risk.js';

/** A fingerprint whose trigger check has the given own p-value (none: not probed). */
function fp(triggerP?: number): Fingerprint {
  return {
    header: { model: { classes: 10 } },
    blocks: {},
    selfChecks:
      triggerP === undefined
        ? {}
        : {
            trigger: {
              score: -Math.log10(triggerP),
              pValue: triggerP,
              targetClass: 3,
              detail: 'x',
              basis: 'samples',
            },
          },
  } as unknown as Fingerprint;
}

test('report: the trigger p beside the ensemble p, not combined; bonferroni is what ships', () => {
  expect(TRIGGER_POLICY_WITH_BASELINE).toBe('bonferroni');
  const strong = fp(1e-9); // far beyond the model's other classes: a tiny reference-free p
  const pt = triggerTestP(strong) as number;
  expect(pt).toBeLessThan(1e-6);
  expect(finalVerdict(0.4, strong).pValue).toBeCloseTo(FINAL_TESTS * pt, 15);
  const v = finalVerdict(0.4, strong, 'report');
  expect(v.pValue).toBe(0.4);
  expect(v.riskScore).toBe(riskScore(0.4));
  expect(v.triggerPValue).toBe(pt);
  expect(v.decidedBy).toBe('ensemble');
});

test('bonferroni: twice the smaller p, capped at 1; without a trigger check the ensemble p', () => {
  const strong = fp(1e-9);
  const pt = triggerTestP(strong) as number;
  const v = finalVerdict(0.4, strong, 'bonferroni');
  expect(v.pValue).toBeCloseTo(FINAL_TESTS * pt, 15);
  expect(v.decidedBy).toBe('trigger');
  const weak = fp(0.8);
  expect(finalVerdict(0.01, weak, 'bonferroni').pValue).toBeCloseTo(0.02, 15);
  expect(finalVerdict(0.9, weak, 'bonferroni').pValue).toBe(1);
  // a trigger check with no p-value (fewer than three classes) is not a test
  const twoClasses = {
    ...fp(0.5),
    selfChecks: { trigger: { score: 0, detail: 'x' } },
  } as unknown as Fingerprint;
  expect(finalVerdict(0.01, twoClasses, 'bonferroni').pValue).toBe(0.01);
  const none = finalVerdict(0.01, fp(), 'bonferroni');
  expect(none.pValue).toBe(0.01);
  expect(none.triggerPValue).toBeUndefined();
});

test("with the references' trigger p: the trigger test takes the larger of the two p-values", () => {
  const strong = fp(1e-9);
  const zoo = triggerTestP(strong) as number;
  expect(zoo).toBe(1e-9);
  // the user's references show trigger scores like this one: the zoo null alone does not decide
  const typical = finalVerdict(0.4, strong, 'bonferroni', 0.3);
  expect(typical.triggerPValue).toBe(0.3);
  expect(typical.pValue).toBeCloseTo(FINAL_TESTS * 0.3, 15);
  expect(typical.decidedBy).toBe('trigger');
  // beyond every reference as well: the smaller zoo p is not raised above the references' tail p
  const beyond = finalVerdict(0.4, strong, 'bonferroni', zoo / 10);
  expect(beyond.triggerPValue).toBe(zoo);
  expect(beyond.pValue).toBeCloseTo(FINAL_TESTS * zoo, 15);
  // no trigger check: the references' p alone does not make one
  expect(finalVerdict(0.01, fp(), 'bonferroni', 1e-9).pValue).toBe(0.01);
});

test('separate tests join the Bonferroni combination and can decide the verdict', () => {
  const weak = fp(0.8); // the trigger test says nothing (p near 1)
  const pt = triggerTestP(weak) as number;
  const v = finalVerdict(0.5, weak, 'bonferroni', undefined, { 'max_z@trigger-map': 0.001 });
  expect(v.combined).toEqual(['ensemble', 'trigger', 'trigger-map']);
  expect(v.pValue).toBeCloseTo(0.003, 15);
  expect(v.decidedBy).toBe('trigger-map');
  expect(v.separate).toEqual({ 'trigger-map': 0.001 });
  // a separate test that says nothing still costs its share (3 tests)
  const quiet = finalVerdict(0.004, weak, 'bonferroni', undefined, { 'max_z@trigger-map': 0.9 });
  expect(quiet.pValue).toBeCloseTo(0.012, 15);
  expect(quiet.decidedBy).toBe('ensemble');
  expect(pt).toBeGreaterThan(0.004);
  // under 'report' the trigger test is not combined, the separate test still is
  expect(finalVerdict(0.5, weak, 'report', undefined, { 'max_z@trigger-map': 0.001 }).combined).toEqual([
    'ensemble',
    'trigger-map',
  ]);
  // without separate tests nothing changes
  expect(finalVerdict(0.5, weak, 'bonferroni').combined).toHaveLength(FINAL_TESTS);
});
