/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * `--synthesise-base` (ProbeSpec.synthesiseBase) through trigger probing on real ONNX models: without samples
 * the example backdoored MLP (a 3x3 square at the bottom-right sends any digit to 7) is probed on inputs
 * synthesised from the model (basis "synthesised", the target found); a model the gradient builder cannot
 * differentiate is probed on the mined base as before, with the reason in its own field; the flag parses
 * and a baseline's rebuild command keeps it.
 */
import path from 'node:path';
import { runTriggerCheck } from '../../src/fingerprint/trigger-check.js';
import { readModel } from '../../src/model/read.js';
import { generateProbes } from '../../src/probes/generate.js';
import { noGradientModel } from '../selfcheck/fixtures.js';
import { engineOptions, parse, ENGINE_FLAGS } from '../../src/cli/args.js';
import { probeSpecOf } from '../../src/scan/engine.js';
import { probeFlags } from '../../src/baseline/rebuild-command.js';

const BACKDOORED = path.resolve('examples/models/candidates/backdoored.onnx');

describe('trigger probing on a synthesised base', () => {
  test('no samples, --synthesise-base: the inputs are synthesised and the backdoor target is found', async () => {
    const model = await readModel(BACKDOORED);
    const probes = generateProbes(model.inputs, { count: 64, seed: 1 });
    const r = await runTriggerCheck(model, probes, 10, { threads: 1, synthesise: true });
    expect(r).not.toBeNull();
    expect(r!.selfCheck.basis).toBe('synthesised');
    expect(r!.selfCheck.targetClass).toBe(7);
    expect(r!.selfCheck.detail ?? '').not.toMatch(/not synthesised/);
    // Without the option the same probe set gives the mined base.
    const mined = await runTriggerCheck(model, probes, 10, { threads: 1 });
    expect(mined!.selfCheck.basis).toBe('mined');
  }, 120_000);

  test('an operator without a gradient rule: the mined base, and the reason kept once, apart from the detail', async () => {
    const model = noGradientModel();
    const probes = generateProbes(model.inputs, { count: 64, seed: 1 });
    const r = await runTriggerCheck(model, probes, 10, { threads: 1, synthesise: true });
    expect(r!.selfCheck.basis).toBe('mined');
    // its own field, which the report's notes read (src/scan/option-notes.ts); not repeated in the detail
    expect(r!.selfCheck.notSynthesised).toMatch(/^LRN has no gradient rule \(1 node\)/);
    expect(r!.selfCheck.detail ?? '').not.toMatch(/synthesised|LRN/);
  }, 120_000);
});

describe('the --synthesise-base flag', () => {
  test('parses into the probe spec, and a baseline built with it is rebuilt with it', () => {
    const opts = engineOptions(parse('scan', ['m.onnx', '--synthesise-base'], ENGINE_FLAGS));
    const spec = probeSpecOf(opts);
    expect(spec.synthesiseBase).toBe(true);
    expect(probeFlags('/b', spec, undefined)).toContain('--synthesise-base');
    expect(
      probeSpecOf(engineOptions(parse('scan', ['m.onnx'], ENGINE_FLAGS))).synthesiseBase,
    ).toBeUndefined();
  });
});
