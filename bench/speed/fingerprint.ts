/**
 * Section "fingerprint" of the speed benchmark: the whole fingerprint of the mid-size ResNet (64 probes,
 * layers 'auto': probe pass with captured layers, representations, weight statistics) against ONNX
 * Runtime alone (InferenceSession.create + one run of the same 64-probe batch), in the same process,
 * medians after a warm-up. Reference-free trigger probing is timed apart (selfCheck) at a small budget
 * and its per-input cost extrapolated to the default budget, because it is many extra forward passes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { fingerprintModel } from '../../src/fingerprint/extract.js';
import { parseModel } from '../../src/model/read.js';
import { generateProbes } from '../../src/probes/generate.js';
import { DEFAULT_TRIGGER_BUDGET, probeTriggers } from '../../src/selfcheck/trigger-probe.js';
import { median, peakRssMb, timeIt } from './common.js';
import { RESNET_CLASSES, RESNET_INPUT, resnetBytes } from './resnet.js';

export const FINGERPRINT_PROBES = 64;
/** Trigger-probing budget actually run (inputs); the default budget's cost is extrapolated from it. */
const SELFCHECK_SAMPLE_BUDGET = 512;

export interface FingerprintResult {
  model: string;
  params: number;
  probes: number;
  runs: number;
  fingerprintMs: number;
  rawInferenceMs: number;
  /** ORT with the project's session settings (graph optimisations off), one batch: the floor we can reach. */
  rawUnoptimisedMs: number;
  ratio: number;
  selfCheckWired: boolean;
  selfCheck: { budget: number; ms: number; perInputMs: number; defaultBudget: number; defaultBudgetMs: number };
  peakRssMb: number;
}

export async function runFingerprint(runs: number, cacheDir: string): Promise<FingerprintResult> {
  const { bytes, params } = resnetBytes();
  mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, 'resnet-speed.onnx');
  writeFileSync(file, bytes);
  const model = parseModel(bytes, file);
  const spec = { count: FINGERPRINT_PROBES, seed: 0 };
  const probes = generateProbes(model.inputs, spec, { file });
  const input = probes.inputs[0];
  const feedsOf = () => ({
    [input.name]: new ort.Tensor('float32', input.data as Float32Array, [probes.count, ...input.sampleShape]),
  });

  const fp = async () => fingerprintModel(model, { probes: spec, layers: 'auto' });
  const raw = async (opts: ort.InferenceSession.SessionOptions = {}) => {
    const s = await ort.InferenceSession.create(bytes, opts);
    await s.run(feedsOf());
    await s.release();
  };
  const rawUnopt = () => raw({ graphOptimizationLevel: 'disabled' });
  await fp();
  await raw();
  await rawUnopt();
  const tf: number[] = [];
  const tr: number[] = [];
  const tu: number[] = [];
  // interleaved, so drifting machine load hits both sides alike
  for (let r = 0; r < runs; r++) {
    tf.push((await timeIt(fp)).ms);
    tr.push((await timeIt(raw)).ms);
    tu.push((await timeIt(rawUnopt)).ms);
  }
  const fingerprintMs = median(tf);
  const rawInferenceMs = median(tr);

  // trigger probing on the same probes as base inputs (what the check does without user samples)
  const s = await ort.InferenceSession.create(bytes);
  let inputsRun = 0;
  const runLogits = async (x: Float32Array, count: number): Promise<Float32Array> => {
    inputsRun += count;
    const out = await s.run({ [input.name]: new ort.Tensor('float32', x, [count, ...RESNET_INPUT]) });
    return out[model.outputs[0].name].data as Float32Array;
  };
  const sc = await timeIt(() =>
    probeTriggers(runLogits, input.data as Float32Array, [1, ...RESNET_INPUT], {
      classes: RESNET_CLASSES,
      budget: SELFCHECK_SAMPLE_BUDGET,
    }),
  );
  await s.release();
  const perInputMs = sc.ms / Math.max(1, inputsRun);
  const extract = await import('../../src/fingerprint/extract.js');
  return {
    model: 'resnet-style CNN [N,3,32,32], 4 stages 64-512 ch, 5 residual blocks',
    params,
    probes: FINGERPRINT_PROBES,
    runs,
    fingerprintMs,
    rawInferenceMs,
    rawUnoptimisedMs: median(tu),
    ratio: fingerprintMs / rawInferenceMs,
    selfCheckWired: String(extract.fingerprintModel).includes('probeTriggers'),
    selfCheck: {
      budget: inputsRun,
      ms: sc.ms,
      perInputMs,
      defaultBudget: DEFAULT_TRIGGER_BUDGET,
      defaultBudgetMs: perInputMs * DEFAULT_TRIGGER_BUDGET,
    },
    peakRssMb: peakRssMb(),
  };
}
