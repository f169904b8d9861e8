/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * `scan --inversion` (no baseline): trigger inversion by gradient joins the no-baseline verdict
 * (src/fingerprint/inversion-selfcheck.ts, src/score/no-baseline.ts) on real ONNX models through real ONNX
 * Runtime: the example backdoored MLP gets a trigger-inversion detector with a p-value pointing at its
 * target (p 0.2 there: on a 14x14 MLP other classes' masks are small too, bench/results/inversion.md); a model whose graph cannot be differentiated is reported "trigger inversion not assessed" with the
 * operator named, never silently; without the option the verdict is what it was.
 */
import path from 'node:path';
import { fingerprintModel } from '../../src/fingerprint/extract.js';
import { INVERSION_NEEDS_SAMPLES, inversionSelfCheck } from '../../src/fingerprint/inversion-selfcheck.js';
import { readModel } from '../../src/model/read.js';
import { generateProbes } from '../../src/probes/generate.js';
import { referenceFreeVerdict } from '../../src/score/reference-free.js';
import { combineNoBaseline, NO_BASELINE_WEIGHTS, noBaselineP } from '../../src/score/no-baseline.js';
import {
  fitGumbel,
  gumbelP,
  INVERSION_GAP_NULL,
  inversionP,
  inversionStatistics,
} from '../../src/selfcheck/inversion-stats.js';
import { noGradientModel } from '../selfcheck/fixtures.js';
import { cli, EXAMPLE_CANDIDATES } from '../cli/helpers.js';

const BACKDOORED = path.join(EXAMPLE_CANDIDATES, 'backdoored.onnx');

describe('inversion statistics', () => {
  test('logGap, the anomaly indices and the smallest cost of a set of class costs', () => {
    const s = inversionStatistics([100, 110, 90, 10, 120, NaN, 105]);
    expect(s.minCost).toBe(10);
    expect(s.logGap).toBeCloseTo(Math.log(90 / 10), 10);
    expect(s.anomaly).toBeGreaterThan(3);
    expect(s.logAnomaly).toBeGreaterThan(s.anomaly);
    // every class alike: nothing stands out
    expect(inversionStatistics([50, 50, 50, 50]).logGap).toBe(0);
  });

  test('the Gumbel null: p falls as the gap grows, 1 for nothing measured, and the fit recovers a Gumbel', () => {
    expect(inversionP([100, 100, 100, 100])).toBeGreaterThan(0.3);
    expect(inversionP([100, 100, 100, 5])).toBeLessThan(inversionP([100, 100, 100, 50]));
    expect(gumbelP(NaN, INVERSION_GAP_NULL)).toBe(1);
    // draws from a Gumbel(0.3, 0.2) by inverse transform, fitted without inflation
    const xs = Array.from({ length: 2000 }, (_, i) => 0.3 - 0.2 * Math.log(-Math.log((i + 0.5) / 2000)));
    const g = fitGumbel(xs, 1);
    expect(g.location).toBeCloseTo(0.3, 1);
    expect(g.scale).toBeCloseTo(0.2, 1);
    expect(fitGumbel(xs, 1.25).scale).toBeCloseTo(g.scale * 1.25, 10);
  });
});

describe('the no-baseline verdict with trigger inversion', () => {
  test('weighted Bonferroni over the three checks', () => {
    const v = combineNoBaseline([
      { check: 'trigger', pValue: 0.2 },
      { check: 'weight-outlier', pValue: 0.3 },
      { check: 'inversion', pValue: 0.001, targetClass: 4 },
    ]);
    const total =
      NO_BASELINE_WEIGHTS.trigger + NO_BASELINE_WEIGHTS['weight-outlier'] + NO_BASELINE_WEIGHTS.inversion;
    expect(v.decidedBy).toBe('inversion');
    expect(v.targetClass).toBe(4);
    expect(v.pValue).toBeCloseTo((0.001 * total) / NO_BASELINE_WEIGHTS.inversion, 12);
  });

  test('the backdoored example: an inversion p pointing at class 7, in the verdict', async () => {
    const model = await readModel(BACKDOORED);
    const probes = generateProbes(model.inputs, { samplesDir: 'examples/probe-samples' });
    const fp = await fingerprintModel(model, {
      probes: { samplesDir: 'examples/probe-samples' },
      earlyStop: true,
      inversion: true,
    });
    const inv = fp.selfChecks.inversion;
    expect(inv.pValue).toBeGreaterThan(0);
    expect(inv.pValue).toBeLessThan(1);
    expect(inv.score).toBeCloseTo(-Math.log10(inv.pValue!), 10);
    expect(inv.targetClass).toBe(7);
    expect(inv.detail).toMatch(/smallest inverted mask: class 7/);
    expect(inv.detail).toMatch(
      /; 60 steps a class, inversion budget 3e12 multiply-accumulates \(--budget default\)$/,
    );
    expect(noBaselineP(fp).parts.map((p) => p.check)).toEqual(['trigger', 'weight-outlier', 'inversion']);
    const verdict = referenceFreeVerdict(fp);
    expect(verdict.detectors['trigger-inversion'].pValue).toBe(inv.pValue);
    // when the inversion decides, the report names it as the strongest signal and the driver, not trigger
    // probing (a reviewer would look for a menu trigger that did not decide)
    const decided = referenceFreeVerdict({
      ...fp,
      selfChecks: { ...fp.selfChecks, inversion: { ...inv, pValue: 1e-12, score: 12 } },
    });
    expect(
      noBaselineP({ ...fp, selfChecks: { ...fp.selfChecks, inversion: { ...inv, pValue: 1e-12 } } })
        .decidedBy,
    ).toBe('inversion');
    expect(decided.explanation.strongestSignal).toBe('trigger inversion by gradient, reference-free');
    expect(decided.explanation.drivers[0].detector).toBe('trigger-inversion');
    expect(decided.explanation.suspectedTargetClass).toBe(7);
    // the same inversion as `invert` runs (one module): same class, same p on the same inputs
    const again = await inversionSelfCheck(model, probes, 10);
    expect(again?.pValue).toBe(inv.pValue);
  }, 120_000);

  test('a graph without a gradient rule: "trigger inversion not assessed", the operator named', async () => {
    const probes = { samplesDir: 'examples/probe-samples' };
    const fp = await fingerprintModel(noGradientModel(), { probes, earlyStop: true, inversion: true });
    expect(fp.selfChecks.trigger).toBeDefined();
    expect(fp.selfChecks.inversion.pValue).toBeUndefined();
    const v = referenceFreeVerdict(fp);
    expect(v.explanation.summary).toMatch(
      /Trigger inversion not assessed: LRN has no gradient rule \(1 node\)\./,
    );
    expect(v.detectors['trigger-inversion']).toBeUndefined();
    // the verdict is trigger probing's and the final layer's, as without the option
    const without = await fingerprintModel(noGradientModel(), { probes, earlyStop: true });
    expect(without.selfChecks.inversion).toBeUndefined();
    expect(v.pValue).toBe(referenceFreeVerdict(without).pValue);
  }, 120_000);

  test('no samples: not run, and the report says it needs samples', async () => {
    const model = await readModel(BACKDOORED);
    const fp = await fingerprintModel(model, {
      probes: { count: 64, seed: 1 },
      earlyStop: true,
      inversion: true,
    });
    expect(fp.selfChecks.inversion).toEqual({ score: 0, detail: INVERSION_NEEDS_SAMPLES });
    expect(referenceFreeVerdict(fp).explanation.summary).toContain(
      'Trigger inversion not assessed: trigger inversion needs in-distribution samples (--probe-samples DIR)',
    );
  }, 120_000);

  test('scan --inversion through the CLI: a trigger-inversion detector; without the option none', async () => {
    const withInv = await cli(
      'scan',
      BACKDOORED,
      '--probe-samples',
      'examples/probe-samples',
      '--inversion',
      '--format',
      'json',
      '--quiet',
      '--fail-on',
      'never',
    );
    expect(withInv.code).toBe(0);
    const m = (JSON.parse(withInv.out) as { models: { detectors: Record<string, { pValue: number }> }[] })
      .models[0];
    expect(m.detectors['trigger-inversion'].pValue).toBeGreaterThan(0);
    expect(m.detectors['trigger-inversion'].pValue).toBeLessThan(1);
    const plain = await cli(
      'scan',
      BACKDOORED,
      '--probe-samples',
      'examples/probe-samples',
      '--format',
      'json',
      '--quiet',
      '--fail-on',
      'never',
    );
    const p = (JSON.parse(plain.out) as { models: { detectors: Record<string, unknown> }[] }).models[0];
    expect(p.detectors['trigger-inversion']).toBeUndefined();
  }, 180_000);

  test('scan --inversion with a baseline: the references decide, and the user is told it was ignored', async () => {
    const s = await cli(
      'scan',
      BACKDOORED,
      '--baseline',
      'baselines/example',
      '--inversion',
      '--format',
      'json',
      '--quiet',
      '--fail-on',
      'never',
    );
    expect(s.code).toBe(0);
    expect(s.err).toMatch(/note: --inversion ignored: it is a check of scans without a baseline/);
    const m = (JSON.parse(s.out) as { models: { detectors: Record<string, unknown> }[] }).models[0];
    expect(m.detectors['trigger-inversion']).toBeUndefined();
  }, 120_000);
});
