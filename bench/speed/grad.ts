/**
 * Section "grad" of the speed benchmark (issue 19): forward + backward of a batch through a gradient
 * session (src/model/grad) against the forward pass of the same batch through a plain ONNX Runtime session
 * of the model (ORT's default optimisations, the same threads), in the same process. Three models: the zoo's
 * CNN (14x14, Conv-BN-Relu-MaxPool x2, seeded weights), bench:torch's 784-256-128-10 MLP shape, and the
 * speed benchmark's 12.6 M-parameter ResNet. Objectives: cross-entropy to per-sample targets with respect to
 * the input (what input synthesis asks), and the Neural Cleanse prelude (mask and pattern, cross-entropy +
 * lambda * L1 of the mask; what trigger inversion asks). Each round times both sessions back to back; the
 * ratio is the median over rounds of (gradient run / the forward runs of its round).
 */
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { zooLayers } from '../zoo/export.js';
import { openGradientSession, type Feed, type GradientSpec } from '../../src/model/grad/index.js';
import { parseModel } from '../../src/model/read.js';
import { writeSequentialModel, type LayerSpec } from '../../src/model/write.js';
import { Rng } from '../../src/probes/rng.js';
import { GRAD_ROUNDS, median, peakRssMb } from './common.js';
import { resnetBytes, RESNET_INPUT } from './resnet.js';

export const GRAD_BATCH = 64;
/** Time a model's rounds may take together (a round is about four forward passes), and the fewest rounds. */
const ROUND_BUDGET_MS = 120_000;
const MIN_ROUNDS = 5;

export interface GradModelResult {
  model: string;
  /** Rounds measured (fewer than asked for a model whose forward pass takes seconds). */
  rounds: number;
  objective: string;
  batch: number;
  forwardMs: number;
  gradientMs: number;
  /** Median over rounds of gradient / forward (the target: <= 3). */
  ratio: number;
  ratioIqr: [number, number];
  gradientNodes: number;
  forwardNodes: number;
}

export interface GradResult {
  runs: number;
  threads: number;
  models: GradModelResult[];
  peakRssMb: number;
}

function zooCnnBytes(): Uint8Array {
  const rng = new Rng(19);
  const shapes: Record<string, [number, number, number]> = {
    k1: [8 * 9, 0, Math.sqrt(2 / 9)],
    gamma: [8, 1, 0.1],
    beta: [8, 0, 0.1],
    mean: [8, 0, 0.1],
    variance: [8, 1, 0.1],
    k2: [16 * 8 * 9, 0, Math.sqrt(2 / 72)],
    bk2: [16, 0, 0.01],
    w3: [10 * 144, 0, Math.sqrt(1 / 144)],
    b3: [10, 0, 0.01],
  };
  return writeSequentialModel({
    inputName: 'input',
    inputShape: ['N', 1, 14, 14],
    outputName: 'logits',
    layers: zooLayers('cnn', (name) => {
      const [n, mean, std] = shapes[name];
      const v = rng.normals(n, mean, std);
      if (name === 'variance') for (let i = 0; i < n; i++) v[i] = Math.abs(v[i]);
      return v;
    }),
  });
}

function mlpBytes(): Uint8Array {
  const rng = new Rng(23);
  const dense = (i: number, o: number): LayerSpec => ({
    kind: 'dense',
    inFeatures: i,
    outFeatures: o,
    weight: rng.normals(i * o, 0, Math.sqrt(2 / i)),
    bias: rng.normals(o, 0, 0.01),
  });
  return writeSequentialModel({
    inputShape: ['N', 1, 28, 28],
    layers: [
      { kind: 'flatten' },
      dense(784, 256),
      { kind: 'relu' },
      dense(256, 128),
      { kind: 'relu' },
      dense(128, 10),
    ],
  });
}

async function measure(
  name: string,
  bytes: Uint8Array,
  sample: number[],
  objective: 'input' | 'neural-cleanse',
  runs: number,
  threads: number,
): Promise<GradModelResult> {
  const model = parseModel(bytes, name);
  const rng = new Rng(7);
  const per = sample.reduce((a, b) => a * b, 1);
  const x = rng.uniforms(GRAD_BATCH * per, 0, 1);
  const targets = Array.from({ length: GRAD_BATCH }, (_, i) => i % 10);
  const spec: GradientSpec =
    objective === 'input'
      ? { terms: [{ kind: 'crossEntropy', target: { feed: 'targets' } }] }
      : {
          prelude: { kind: 'patch' },
          terms: [
            { kind: 'crossEntropy', target: 3 },
            { kind: 'l1', of: { prelude: 'mask' }, weight: 0.01 },
          ],
        };
  const plain = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const grad = await openGradientSession(model, spec, { threads });
  const xTensor = new ort.Tensor('float32', x, [GRAD_BATCH, ...sample]);
  const [h, w] = sample.slice(-2);
  const feeds: Record<string, Feed> =
    objective === 'input'
      ? { input: { data: x, dims: [GRAD_BATCH, ...sample] }, targets }
      : {
          data: { data: x, dims: [GRAD_BATCH, ...sample] },
          maskLogits: { data: rng.normals(h * w, 0, 1), dims: [1, 1, h, w] },
          patternLogits: { data: rng.normals(sample[0] * h * w, 0, 1), dims: [1, sample[0], h, w] },
        };
  const forward = async () => {
    const t = performance.now();
    await plain.run({ [model.inputs[0].name]: xTensor });
    return performance.now() - t;
  };
  const backward = async () => {
    const t = performance.now();
    await grad.run(feeds);
    return performance.now() - t;
  };
  try {
    await forward();
    await backward();
    const fwd: number[] = [];
    const bwd: number[] = [];
    const ratios: number[] = [];
    // the ResNet's forward pass takes seconds: its rounds are cut to about ROUND_BUDGET_MS in all
    const first = await forward();
    const rounds = Math.max(MIN_ROUNDS, Math.min(runs, Math.floor(ROUND_BUDGET_MS / (4 * first))));
    for (let r = 0; r < rounds; r++) {
      const f1 = await forward();
      const b = await backward();
      const f2 = await forward();
      fwd.push(f1, f2);
      bwd.push(b);
      ratios.push(b / ((f1 + f2) / 2));
    }
    const sorted = [...ratios].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    return {
      model: name,
      rounds,
      objective:
        objective === 'input' ? 'cross-entropy, d/d input' : 'Neural Cleanse prelude, d/d mask and pattern',
      batch: GRAD_BATCH,
      forwardMs: median(fwd),
      gradientMs: median(bwd),
      ratio: median(ratios),
      ratioIqr: [q(0.25), q(0.75)],
      gradientNodes: grad.graph.totalNodes,
      forwardNodes: grad.graph.forwardNodes,
    };
  } finally {
    await plain.release();
    await grad.release();
  }
}

export async function runGrad(runs = GRAD_ROUNDS, threads?: number, only?: string): Promise<GradResult> {
  const t = threads ?? Math.max(1, os.availableParallelism());
  const models: GradModelResult[] = [];
  const resnet = resnetBytes().bytes;
  const cases: [string, Uint8Array, number[]][] = [
    ['zoo CNN (14x14, Conv-BN-Relu-MaxPool x2)', zooCnnBytes(), [1, 14, 14]],
    ['MLP 784-256-128-10', mlpBytes(), [1, 28, 28]],
    ['ResNet-style CNN, 12.6 M parameters (3x32x32)', resnet, [...RESNET_INPUT]],
  ];
  for (const [name, bytes, sample] of cases.filter(([n]) => !only || n.includes(only))) {
    for (const objective of ['input', 'neural-cleanse'] as const) {
      process.stderr.write(`speed grad: ${name}, ${objective}\n`);
      models.push(await measure(name, bytes, sample, objective, runs, t));
    }
  }
  return { runs, threads: t, models, peakRssMb: peakRssMb() };
}
