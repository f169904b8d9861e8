/**
 * The gradient checks' budget under the scan budget (src/fingerprint/gradient-budget.ts): trigger inversion
 * and input synthesis get their share of `--budget`, counted with the per-node MAC estimate; the legacy plan
 * keeps the fixed allowances; small models run the same steps at every setting as under the fixed allowance;
 * a real-size conv net (3.8e7 MACs a pass, like the 32x32 quarter-width ResNet-18) is too large for the
 * fixed allowance, gets steps at `default`, more at `thorough`, none at `fast`; `invert --budget` passes it on.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  BUDGET_MACS,
  INVERSION_BUDGET_SHARE,
  INVERSION_MAC_BUDGET,
  INVERSION_STEPS_PER_CLASS,
  SYNTH_BUDGET_SHARE,
  SYNTH_MAC_BUDGET,
  SYNTH_STEPS,
} from '../../src/limits.js';
import {
  BUDGET_NAMES,
  LEGACY_SCAN_BUDGET,
  legacyMacs,
  parseBudget,
  type ScanBudget,
} from '../../src/fingerprint/budget.js';
import { gradientAllowance } from '../../src/fingerprint/gradient-budget.js';
import { inversionStepsFor } from '../../src/fingerprint/inversion-check.js';
import { synthStepsFor } from '../../src/selfcheck/synthesise.js';
import { parseModel } from '../../src/model/read.js';
import { forwardMacs } from '../../src/model/macs.js';
import { writeSequentialModel } from '../../src/model/write.js';
import { Rng } from '../../src/probes/rng.js';
import type { OnnxModel } from '../../src/model/types.js';
import { buildCnn, conv, dense } from '../fixtures/models.js';
import { cli, EXAMPLE_CANDIDATES } from '../cli/helpers.js';

const SETTINGS: ScanBudget[] = [LEGACY_SCAN_BUDGET, ...BUDGET_NAMES.map((n) => parseBudget(n))];

/** A 32x32 RGB conv net of ResNet-18-quarter cost: conv 3->64, conv 64->64 (3.8e7 MACs), 43 classes. */
function realSizeNet(): OnnxModel {
  const rng = new Rng(7);
  const bytes = writeSequentialModel({
    inputShape: ['N', 3, 32, 32],
    layers: [
      conv(rng, 3, 64, 3, 1),
      { kind: 'relu' },
      conv(rng, 64, 64, 3, 1),
      { kind: 'relu' },
      { kind: 'maxpool', kernel: 8, stride: 8 },
      { kind: 'flatten' },
      dense(rng, 64 * 4 * 4, 43),
    ],
  });
  return parseModel(bytes, 'realsize.onnx');
}

function smallModels(): { name: string; model: OnnxModel; shape: number[]; classes: number }[] {
  const file = (f: string) => path.join(EXAMPLE_CANDIDATES, f);
  return [
    { name: 'cnn 14x14', model: parseModel(buildCnn(), 'cnn.onnx'), shape: [1, 14, 14], classes: 10 },
    ...['backdoored.onnx', 'clean-candidate.onnx'].map((f) => ({
      name: f,
      model: parseModel(new Uint8Array(readFileSync(file(f))), file(f)),
      shape: [1, 14, 14],
      classes: 10,
    })),
  ];
}

describe('gradientAllowance', () => {
  test('legacy: the fixed allowances over the weight-based estimate', () => {
    const m = parseModel(buildCnn(), 'cnn.onnx');
    const inv = gradientAllowance('inversion', m, [1, 14, 14], LEGACY_SCAN_BUDGET);
    expect(inv.macs).toBe(INVERSION_MAC_BUDGET);
    expect(inv.macsPerPass).toBe(legacyMacs(m, [1, 14, 14]));
    expect(gradientAllowance('synthesis', m, [1, 14, 14], LEGACY_SCAN_BUDGET).macs).toBe(SYNTH_MAC_BUDGET);
  });

  test('a setting: its share of the setting, over the per-node estimate; larger settings give more', () => {
    const m = parseModel(buildCnn(), 'cnn.onnx');
    const perPass = forwardMacs(m, new Map([[m.inputs[0].name, [1, 1, 14, 14]]])).macs;
    let last = 0;
    for (const name of BUDGET_NAMES) {
      const a = gradientAllowance('inversion', m, [1, 14, 14], parseBudget(name));
      expect(a.macs).toBe(BUDGET_MACS[name] * INVERSION_BUDGET_SHARE);
      expect(a.macsPerPass).toBe(perPass);
      expect(a.label).toContain(`--budget ${name}`);
      expect(a.macs).toBeGreaterThan(last);
      last = a.macs;
      expect(gradientAllowance('synthesis', m, [1, 14, 14], parseBudget(name)).macs).toBe(
        BUDGET_MACS[name] * SYNTH_BUDGET_SHARE,
      );
    }
    // a number of multiply-accumulates scales it too
    expect(gradientAllowance('inversion', m, [1, 14, 14], parseBudget('5e12')).macs).toBe(
      5e12 * INVERSION_BUDGET_SHARE,
    );
  });

  test('small models run the same steps at every setting as under the fixed allowance', () => {
    for (const { name, model, shape, classes } of smallModels()) {
      const steps = SETTINGS.map((b) => {
        const inv = gradientAllowance('inversion', model, shape, b);
        const syn = gradientAllowance('synthesis', model, shape, b);
        return [
          inversionStepsFor(inv.macsPerPass, classes, inv.macs),
          synthStepsFor(syn.macsPerPass, 130, syn.macs),
        ];
      });
      for (const s of steps)
        expect({ name, s }).toEqual({ name, s: [INVERSION_STEPS_PER_CLASS, SYNTH_STEPS] });
    }
  });

  test('a real-size net: not affordable under the fixed allowance or fast, assessed at default, more at thorough', () => {
    const m = realSizeNet();
    const shape = [3, 32, 32];
    const steps = (b: ScanBudget) => {
      const a = gradientAllowance('inversion', m, shape, b);
      return inversionStepsFor(a.macsPerPass, 43, a.macs);
    };
    const synth = (b: ScanBudget) => {
      const a = gradientAllowance('synthesis', m, shape, b);
      return synthStepsFor(a.macsPerPass, 129, a.macs);
    };
    expect(forwardMacs(m, new Map([[m.inputs[0].name, [1, ...shape]]])).macs).toBeGreaterThan(3e7);
    expect(steps(LEGACY_SCAN_BUDGET)).toBeNull();
    expect(steps(parseBudget('fast'))).toBeNull();
    const def = steps(parseBudget('default')) as number;
    const thorough = steps(parseBudget('thorough')) as number;
    expect(def).toBeGreaterThanOrEqual(6);
    expect(def).toBeLessThan(INVERSION_STEPS_PER_CLASS);
    expect(thorough).toBeGreaterThan(def);
    expect(synth(LEGACY_SCAN_BUDGET)).toBeNull();
    expect(synth(parseBudget('default'))).toBeGreaterThan(20);
    expect(synth(parseBudget('thorough'))).toBe(SYNTH_STEPS);
  });
});

describe('model-fingerprint invert --budget', () => {
  test('a budget too small: not assessed, naming the budget and the fix; exit 0', async () => {
    const r = await cli(
      'invert',
      path.join(EXAMPLE_CANDIDATES, 'backdoored.onnx'),
      '--probe-samples',
      'examples/probe-samples',
      '--budget',
      '1e6',
      '--json',
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { assessed: boolean; detail: string; budget: string };
    expect(j.assessed).toBe(false);
    expect(j.detail).toMatch(
      /too large for the inversion budget 1e6 multiply-accumulates \(--budget 1e6\); a larger --budget/,
    );
  });

  test('a bad budget: a usage error, exit 2', async () => {
    const r = await cli('invert', path.join(EXAMPLE_CANDIDATES, 'backdoored.onnx'), '--budget', 'lots');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--budget lots: expected fast, default, thorough/);
  });
});
