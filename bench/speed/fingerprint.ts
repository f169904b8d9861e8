/**
 * Section "fingerprint" of the speed benchmark: the fingerprint a baseline build stores for the mid-size
 * ResNet (64 probes, layers 'auto': probe pass with captured layers, representations, final-layer weight
 * statistics; src/baseline/build.ts STORED_BLOCKS), and every block (what `model-fingerprint fingerprint`
 * writes: the layer weight statistics too), against ONNX Runtime alone (InferenceSession.create + one run of the same 64-probe batch), in the same process,
 * medians after a warm-up. Trigger probing (many forward passes, within the scan budget) is not part of
 * this ratio: the fingerprint is timed with it switched off, and the "realsize" section times it per
 * architecture and budget against the same number of raw inferences.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DEFAULT_BLOCK_PREFIXES } from '../../src/baseline/config.js';
import { STORED_BLOCKS } from '../../src/baseline/build.js';
import { fingerprintModel } from '../../src/fingerprint/extract.js';
import { DEFAULT_SCAN_BUDGET, planBudget } from '../../src/fingerprint/budget.js';
import { readModel } from '../../src/model/read.js';
import { generateProbes } from '../../src/probes/generate.js';
import { median, peakRssMb, timeIt } from './common.js';
import { resnetBytes } from './resnet.js';

export const FINGERPRINT_PROBES = 64;

export interface FingerprintResult {
  model: string;
  params: number;
  probes: number;
  runs: number;
  /** What a baseline build stores (STORED_BLOCKS): probes + captured layers + representations (no trigger probing). */
  fingerprintMs: number;
  /** Every block, the layer weight statistics (weights:layers) included: `model-fingerprint fingerprint`. */
  everythingMs: number;
  everythingRatio: number;
  rawInferenceMs: number;
  /** ORT with graph optimisations off (the fingerprint session's level when a non-Relu layer is exposed). */
  rawUnoptimisedMs: number;
  /** fingerprintMs / rawInferenceMs (the issue's `ratio`: a ratio of medians). */
  ratio: number;
  /**
   * Median over rounds of (that round's fingerprint / the mean of the raw runs just before and after it): on
   * a shared machine whose speed drifts, each round is compared with its own neighbours.
   */
  pairedRatio: number;
  /** Spread of the paired ratios: their 25th and 75th percentiles. */
  pairedRatioIqr: [number, number];
  /**
   * What a scan against a default baseline fingerprints (only the blocks its channels read: no hidden-layer
   * capture, no layer weight statistics; trigger probing excluded as above), and its ratio to raw ORT.
   */
  scanFingerprintMs: number;
  scanRatio: number;
  /** What the default budget plans for trigger probing on this model (timed in the realsize section). */
  trigger: { estimatedMacsPerInput: number; budgetInputs: number; mapInputs: number };
  peakRssMb: number;
}

export async function runFingerprint(runs: number, cacheDir: string): Promise<FingerprintResult> {
  const { bytes, params } = resnetBytes();
  mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, 'resnet-speed.onnx');
  writeFileSync(file, bytes);
  // read from the file as the CLI and the action do (readModel leaves room to append the captured outputs)
  const model = await readModel(file);
  const spec = { count: FINGERPRINT_PROBES, seed: 0 };
  const probes = generateProbes(model.inputs, spec, { file });
  const input = probes.inputs[0];
  const feedsOf = () => ({
    [input.name]: new ort.Tensor('float32', input.data as Float32Array, [probes.count, ...input.sampleShape]),
  });

  const fp = async () =>
    fingerprintModel(model, { probes: spec, layers: 'auto', trigger: false, blocks: STORED_BLOCKS });
  const everything = async () => fingerprintModel(model, { probes: spec, layers: 'auto', trigger: false });
  const scanFp = async () =>
    fingerprintModel(model, { probes: spec, layers: 'auto', blocks: DEFAULT_BLOCK_PREFIXES, trigger: false });
  const raw = async (opts: ort.InferenceSession.SessionOptions = {}) => {
    const s = await ort.InferenceSession.create(bytes, opts);
    await s.run(feedsOf());
    await s.release();
  };
  const rawUnopt = () => raw({ graphOptimizationLevel: 'disabled' });
  await fp();
  await everything();
  await scanFp();
  await raw();
  await rawUnopt();
  const proper: number[] = [];
  const tr: number[] = [];
  const tu: number[] = [];
  const scanProper: number[] = [];
  const all: number[] = [];
  // interleaved, so drifting machine load hits every side alike
  for (let r = 0; r < runs; r++) {
    proper.push((await timeIt(fp)).ms);
    all.push((await timeIt(everything)).ms);
    scanProper.push((await timeIt(scanFp)).ms);
    tr.push((await timeIt(raw)).ms);
    tu.push((await timeIt(rawUnopt)).ms);
  }
  // round r's fingerprint ran between raw runs r-1 and r (the first round only has raw run 0 after it)
  const paired = proper.map((p, r) => p / (r === 0 ? tr[0] : (tr[r - 1] + tr[r]) / 2)).sort((a, b) => a - b);
  const quantile = (q: number): number => paired[Math.min(paired.length - 1, Math.floor(q * paired.length))];
  const fingerprintMs = median(proper);
  const rawInferenceMs = median(tr);
  const plan = planBudget(model, probes, DEFAULT_SCAN_BUDGET);
  return {
    model: 'ResNet-style CNN [N,3,32,32]: 4 stages 64-512 ch, 5 residual blocks, 10 classes',
    params,
    probes: FINGERPRINT_PROBES,
    runs,
    fingerprintMs,
    everythingMs: median(all),
    everythingRatio: median(all) / rawInferenceMs,
    rawInferenceMs,
    rawUnoptimisedMs: median(tu),
    ratio: fingerprintMs / rawInferenceMs,
    pairedRatio: median(paired),
    pairedRatioIqr: [quantile(0.25), quantile(0.75)],
    scanFingerprintMs: median(scanProper),
    scanRatio: median(scanProper) / rawInferenceMs,
    trigger: {
      estimatedMacsPerInput: plan.macsPerPass,
      budgetInputs: plan.triggerPasses ?? 0,
      mapInputs: plan.mapInputs,
    },
    peakRssMb: peakRssMb(),
  };
}
