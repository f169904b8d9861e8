/**
 * The no-baseline p-value: weighted Bonferroni over the reference-free checks that ran, with the weights of
 * the checks that ran renormalised; beside trigger probing the final-layer check weighs 0.02 (it decides only
 * on a p about fifty times smaller than trigger probing's), alone it takes the whole weight.
 */
import type { BudgetRecord, Fingerprint } from '../../src/fingerprint/types.js';
import { checksOf } from '../../src/scan/assessment.js';
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

test('the shipped weights: trigger probing carries the verdict; the final-layer check only on strong evidence', () => {
  // inversion: only with scan --inversion (opt-in); absent from a fingerprint, it takes no weight
  expect(NO_BASELINE_WEIGHTS).toEqual({ trigger: 1, 'weight-outlier': 0.02, inversion: 1 });
  // renormalised: trigger 1/1.02, final layer 0.02/1.02
  const strong = fp({
    trigger: { score: 1, pValue: 0.1, targetClass: 2 },
    'weight-outlier': { score: 6, pValue: 1e-6, targetClass: 4 },
  });
  expect(noBaselineP(strong).pValue).toBeCloseTo(1e-6 * 51, 12);
  expect(noBaselineP(strong).decidedBy).toBe('weight-outlier');
  expect(noBaselineP(strong).targetClass).toBe(4);
  // the smallest final-layer p of a clean model measured (0.0088) stays far from high on its own
  const cleanish = fp({
    trigger: { score: 1, pValue: 0.5, targetClass: 2 },
    'weight-outlier': { score: 3, pValue: 0.0088, targetClass: 4 },
  });
  expect(noBaselineP(cleanish).decidedBy).toBe('weight-outlier');
  expect(noBaselineP(cleanish).pValue).toBeGreaterThan(0.4);
  const moderate = fp({
    trigger: { score: 3, pValue: 0.01, targetClass: 2 },
    'weight-outlier': { score: 4, pValue: 0.001, targetClass: 4 },
  });
  expect(noBaselineP(moderate).pValue).toBeCloseTo(0.0102, 12);
  expect(noBaselineP(moderate).decidedBy).toBe('trigger');
  const weightsOnly = fp({ 'weight-outlier': { score: 6, pValue: 1e-6, targetClass: 4 } });
  expect(noBaselineP(weightsOnly).pValue).toBe(1e-6);
  expect(noBaselineP(weightsOnly).decidedBy).toBe('weight-outlier');
  // a check without a p-value (fewer than three classes) is not a test
  expect(noBaselineP(fp({ trigger: { score: 0 } })).parts).toHaveLength(0);
});

test('a verdict the final-layer check decided names its class and says what trigger probing found', () => {
  const v = referenceFreeVerdict(
    fp({
      trigger: {
        score: 0.2,
        pValue: 0.58,
        targetClass: 13,
        trigger: { kind: 'pixels', location: '36 bright pixels', flipRate: 0.44, zScore: 2.9 },
      },
      'weight-outlier': { score: 3.8, pValue: 1.5e-5, targetClass: 35 },
    }),
  );
  expect(v.pValue).toBeCloseTo(1.5e-5 * 51, 12);
  expect(v.explanation.suspectedTargetClass).toBe(35);
  expect(v.explanation.trigger).toBeUndefined(); // probing's trigger pointed elsewhere
  expect(v.explanation.drivers[0].detector).toBe('final-layer');
  expect(v.explanation.summary).toMatch(/^Final-layer weights: class 35's weight row stands out/);
  expect(v.explanation.summary).toMatch(/trigger probing found no class standing out \(p = 0\.58/);
  expect(v.detectors['trigger-probe'].pValue).toBe(0.58);
  expect(v.detectors['final-layer'].pValue).toBe(1.5e-5);
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
  expect(v.pValue).toBeCloseTo(1e-4 * 1.02, 12); // trigger probing's weight 1 / 1.02
  expect(v.detectors['trigger-probe'].pValue).toBe(1e-4);
  expect(v.detectors['final-layer'].pValue).toBe(0.5);
  expect(v.explanation.multiTarget).toEqual({ kind: 'several', classes: [1, 6] });
  expect(v.explanation.suspectedTargetClass).toBeUndefined();
  expect(v.explanation.summary).toMatch(/no single target/);
});

test('--synthesise-base that fell back to mined inputs: neither the summary nor the checks repeat the reason (the report notes say it once)', () => {
  const why = 'the model is too large for the synthesis budget (2.0e+10 MACs)';
  const f = fp({
    trigger: { score: 0.1, pValue: 0.8, basis: 'mined', notSynthesised: why },
    'weight-outlier': { score: 0.3, pValue: 0.5, targetClass: 4 },
  });
  expect(referenceFreeVerdict(f).explanation.summary).not.toMatch(/synthesis/);
  (f.header as unknown as { budget: BudgetRecord }).budget = {
    setting: 'default',
    macs: 3e12,
    macsPerPass: 2.9e7,
    checks: { probes: { passes: 64 }, 'trigger-probe': { passes: 47910 } },
    triggerCandidates: { screened: 500, total: 500 },
  };
  const trig = checksOf(f, false)!.find((c) => c.check === 'trigger-probe')!;
  expect(trig.ran).toBe(true);
  expect(trig.note).toBeUndefined();
});
