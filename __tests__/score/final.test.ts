/**
 * The final verdict with a baseline: under the shipped policy the ensemble's p-value is the verdict and the
 * trigger test's reference-free p is reported beside it; under 'bonferroni' the two are combined.
 */
import type { Fingerprint } from '../../src/fingerprint/types.js';
import {
  FINAL_TESTS,
  finalVerdict,
  TRIGGER_POLICY_WITH_BASELINE,
  triggerTestP,
} from '../../src/score/final.js';
import { riskScore } from '../../src/score/risk.js';

function fp(triggerScore?: number): Fingerprint {
  return {
    header: { model: { classes: 10 } },
    blocks: {},
    selfChecks:
      triggerScore === undefined
        ? {}
        : { trigger: { score: triggerScore, targetClass: 3, detail: 'x', basis: 'samples' } },
  } as unknown as Fingerprint;
}

test('report: the trigger p beside the ensemble p, not combined; bonferroni is what ships', () => {
  expect(TRIGGER_POLICY_WITH_BASELINE).toBe('bonferroni');
  const strong = fp(50); // far beyond any clean model: a tiny reference-free p
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
  const strong = fp(50);
  const pt = triggerTestP(strong) as number;
  const v = finalVerdict(0.4, strong, 'bonferroni');
  expect(v.pValue).toBeCloseTo(FINAL_TESTS * pt, 15);
  expect(v.decidedBy).toBe('trigger');
  const weak = fp(-5);
  expect(finalVerdict(0.01, weak, 'bonferroni').pValue).toBeCloseTo(0.02, 15);
  expect(finalVerdict(0.9, weak, 'bonferroni').pValue).toBe(1);
  const none = finalVerdict(0.01, fp(), 'bonferroni');
  expect(none.pValue).toBe(0.01);
  expect(none.triggerPValue).toBeUndefined();
});
