/**
 * The no-baseline p-value: weighted Bonferroni over the reference-free checks that ran, with the weights of
 * the checks that ran renormalised; the final-layer check decides only when trigger probing did not run.
 */
import type { Fingerprint } from '../../src/fingerprint/types.js';
import { combineNoBaseline, noBaselineP, NO_BASELINE_WEIGHTS } from '../../src/score/no-baseline.js';
import { referenceFreeVerdict } from '../../src/score/reference-free.js';

function fp(checks: Fingerprint['selfChecks']): Fingerprint {
  return { header: { model: { classes: 10 } }, blocks: {}, selfChecks: checks } as unknown as Fingerprint;
}

test('weighted Bonferroni: p / weight of the deciding check, capped at 1', () => {
  const v = combineNoBaseline(
    [
      { check: 'trigger', pValue: 0.004, targetClass: 3 },
      { check: 'weight-outlier', pValue: 0.001, targetClass: 5 },
    ],
    { trigger: 0.8, 'weight-outlier': 0.2 },
  );
  expect(v.pValue).toBeCloseTo(0.005, 12); // 0.004 / 0.8 beats 0.001 / 0.2
  expect(v.decidedBy).toBe('trigger');
  expect(v.targetClass).toBe(3);
  expect(
    combineNoBaseline([{ check: 'trigger', pValue: 0.9 }], { trigger: 0.5, 'weight-outlier': 0.5 }).pValue,
  ).toBe(0.9);
  expect(combineNoBaseline([]).decidedBy).toBe('none');
});

test('the shipped weights: trigger probing decides when it ran, the final-layer check otherwise', () => {
  expect(NO_BASELINE_WEIGHTS.trigger).toBe(1);
  const both = fp({
    trigger: { score: 1, pValue: 0.1, targetClass: 2 },
    'weight-outlier': { score: 6, pValue: 1e-6, targetClass: 4 },
  });
  expect(noBaselineP(both).pValue).toBe(0.1);
  expect(noBaselineP(both).decidedBy).toBe('trigger');
  const weightsOnly = fp({ 'weight-outlier': { score: 6, pValue: 1e-6, targetClass: 4 } });
  expect(noBaselineP(weightsOnly).pValue).toBe(1e-6);
  expect(noBaselineP(weightsOnly).decidedBy).toBe('weight-outlier');
  // a check without a p-value (fewer than three classes) is not a test
  expect(noBaselineP(fp({ trigger: { score: 0 } })).parts).toHaveLength(0);
});

test('the verdict reports both checks and names the no-single-target finding', () => {
  const v = referenceFreeVerdict(
    fp({
      trigger: {
        score: 4,
        pValue: 1e-4,
        detail: 'several classes stand out on their own (1, 6)',
        multiTarget: { kind: 'several', classes: [1, 6] },
        trigger: { kind: 'patch', location: 'x', flipRate: 1, zScore: 12 },
      },
      'weight-outlier': { score: 0.3, pValue: 0.5, targetClass: 4 },
    }),
  );
  expect(v.pValue).toBe(1e-4);
  expect(v.detectors['trigger-probe'].pValue).toBe(1e-4);
  expect(v.detectors['final-layer'].pValue).toBe(0.5);
  expect(v.explanation.multiTarget).toEqual({ kind: 'several', classes: [1, 6] });
  expect(v.explanation.suspectedTargetClass).toBeUndefined();
  expect(v.explanation.summary).toMatch(/no single target/);
});
