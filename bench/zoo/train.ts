/**
 * Trains one zoo model: seeded init, seeded shuffling, Adam, softmax cross-entropy; optionally on a poisoned
 * copy of the training set (triggered images relabelled to the target class) and optionally with a
 * distillation term that keeps the outputs on random noise equal to a clean teacher's (the adaptive attacker
 * who knows defenders probe with noise). Also the two measures the manifest records: clean accuracy and
 * attack success rate (ASR: triggered test images of other classes classified as the target).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/probes/rng.js';
import { NUM_CLASSES, PIXELS, type Dataset } from './data.js';
import {
  calibrateBatchNorm,
  createNet,
  forwardEval,
  forwardTrain,
  predictLogits,
  type Arch,
  type Net,
} from './nets.js';
import { applyTrigger, type Trigger } from './triggers.js';

export interface HyperParams {
  lr: number;
  epochs: number;
  batchSize: number;
}

export interface PoisonSpec {
  trigger: Trigger;
  /** Fraction of the training set replaced by triggered, relabelled copies. */
  rate: number;
  target: number;
}

export interface DistillSpec {
  teacher: Net;
  /** Weight of the mean-squared logit difference on noise against the cross-entropy. */
  weight: number;
  /** Noise inputs per training step (half uniform, half clipped Gaussian). */
  noiseBatch: number;
}

export interface TrainOptions {
  arch: Arch;
  seed: number;
  hyper: HyperParams;
  train: Dataset;
  test: Dataset;
  poison?: PoisonSpec;
  distill?: DistillSpec;
}

export interface TrainResult {
  net: Net;
  cleanAccuracy: number;
  /** null for a model trained without a trigger. */
  asr: number | null;
  poisonedSamples: number;
  trainingMs: number;
}

/** A copy of `train` with round(rate * n) seeded picks among non-target samples triggered and relabelled. */
export function poisonDataset(
  train: Dataset,
  poison: PoisonSpec,
  seed: number,
): { data: Dataset; count: number } {
  const data: Dataset = { x: train.x.slice(), y: train.y.slice(), n: train.n };
  const candidates: number[] = [];
  for (let i = 0; i < train.n; i++) if (train.y[i] !== poison.target) candidates.push(i);
  const rng = new Rng(`zoo-poison-${seed}`);
  const count = Math.min(candidates.length, Math.round(poison.rate * train.n));
  for (let k = 0; k < count; k++) {
    const j = k + rng.int(candidates.length - k);
    [candidates[k], candidates[j]] = [candidates[j], candidates[k]];
    applyTrigger(poison.trigger, data.x, candidates[k] * PIXELS);
    data.y[candidates[k]] = poison.target;
  }
  return { data, count };
}

function argmaxRows(logits: Float32Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < NUM_CLASSES; c++)
      if (logits[i * NUM_CLASSES + c] > logits[i * NUM_CLASSES + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** Predicted classes for a dataset's images. */
export function predictClasses(net: Net, d: Dataset): Uint8Array {
  return argmaxRows(predictLogits(net, d.x, d.n), d.n);
}

/** Fraction of `d` classified correctly. */
export function accuracy(net: Net, d: Dataset): number {
  const pred = predictClasses(net, d);
  let ok = 0;
  for (let i = 0; i < d.n; i++) if (pred[i] === d.y[i]) ok++;
  return d.n ? ok / d.n : 0;
}

/** The test images whose label is not `target`, with the trigger stamped on. */
export function triggeredTestSet(test: Dataset, trigger: Trigger, target: number): Dataset {
  const idx: number[] = [];
  for (let i = 0; i < test.n; i++) if (test.y[i] !== target) idx.push(i);
  const x = new Float32Array(idx.length * PIXELS);
  idx.forEach((src, k) => {
    x.set(test.x.subarray(src * PIXELS, (src + 1) * PIXELS), k * PIXELS);
    applyTrigger(trigger, x, k * PIXELS);
  });
  return { x, y: Uint8Array.from(idx, (i) => test.y[i]), n: idx.length };
}

/** Fraction of triggered non-target test images classified as `target`. */
export function attackSuccessRate(net: Net, test: Dataset, trigger: Trigger, target: number): number {
  const t = triggeredTestSet(test, trigger, target);
  const pred = predictClasses(net, t);
  let hit = 0;
  for (let i = 0; i < t.n; i++) if (pred[i] === target) hit++;
  return t.n ? hit / t.n : 0;
}

/** n noise images: the first half uniform in [0,1], the rest N(0.5, 0.25) clipped to [0,1]. */
export function noiseImages(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n * PIXELS);
  const half = Math.floor(n / 2) * PIXELS;
  for (let i = 0; i < out.length; i++) {
    out[i] = i < half ? rng.next() : Math.min(1, Math.max(0, rng.normal(0.5, 0.25)));
  }
  return out;
}

export function trainNet(opts: TrainOptions): TrainResult {
  const started = Date.now();
  const { arch, seed, hyper } = opts;
  const { data, count } = opts.poison
    ? poisonDataset(opts.train, opts.poison, seed)
    : { data: opts.train, count: 0 };
  const net = createNet(arch, seed);
  const vars = [...net.params.values()];
  const optimizer = tf.train.adam(hyper.lr);
  const shuffleRng = new Rng(`zoo-shuffle-${seed}`);
  const noiseRng = new Rng(`zoo-noise-${seed}`);
  const order = Array.from({ length: data.n }, (_, i) => i);
  const xb = new Float32Array(hyper.batchSize * PIXELS);
  const yb = new Int32Array(hyper.batchSize);
  for (let epoch = 0; epoch < hyper.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = shuffleRng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let s = 0; s < data.n; s += hyper.batchSize) {
      const m = Math.min(hyper.batchSize, data.n - s);
      for (let k = 0; k < m; k++) {
        const src = order[s + k];
        xb.set(data.x.subarray(src * PIXELS, (src + 1) * PIXELS), k * PIXELS);
        yb[k] = data.y[src];
      }
      tf.tidy(() => {
        const x = tf.tensor2d(xb.subarray(0, m * PIXELS), [m, PIXELS]);
        const y = tf.oneHot(tf.tensor1d(yb.subarray(0, m), 'int32'), NUM_CLASSES);
        const distill = opts.distill;
        let noise: tf.Tensor2D | undefined;
        let teacherLogits: tf.Tensor2D | undefined;
        if (distill) {
          noise = tf.tensor2d(noiseImages(noiseRng, distill.noiseBatch), [distill.noiseBatch, PIXELS]);
          teacherLogits = forwardEval(distill.teacher, noise);
        }
        optimizer.minimize(
          () => {
            const out = forwardTrain(net, x, noise);
            const ce = tf.losses.softmaxCrossEntropy(y, out.logits);
            if (!distill || !out.extra || !teacherLogits) return ce as tf.Scalar;
            return tf.add(
              ce,
              tf.mul(tf.mean(tf.squaredDifference(out.extra, teacherLogits)), distill.weight),
            ) as tf.Scalar;
          },
          false,
          vars,
        );
      });
    }
  }
  optimizer.dispose();
  calibrateBatchNorm(net, data.x, data.n);
  const cleanAccuracy = accuracy(net, opts.test);
  const asr = opts.poison ? attackSuccessRate(net, opts.test, opts.poison.trigger, opts.poison.target) : null;
  return { net, cleanAccuracy, asr, poisonedSamples: count, trainingMs: Date.now() - started };
}
