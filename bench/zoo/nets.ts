/**
 * The zoo's two architectures as plain tfjs variables (no tfjs-layers), so the weight layout, the seeded
 * initialisation and the ONNX export are fully under our control:
 * - mlp: flatten 196 -> 64 -> Relu -> 32 -> Relu -> 10
 * - cnn: Conv 1->8 3x3 pad 1 (no bias) -> BatchNorm -> Relu -> MaxPool 2 -> Conv 8->16 3x3 pad 1 -> Relu
 *        -> MaxPool 2 -> Flatten (NCHW order, 16*3*3) -> Dense 144 -> 10
 * Tensors are NHWC inside tfjs; with one input channel the flat image data is the same in NCHW.
 * Dense weights are stored [in, out] (tfjs matMul) and conv filters [kh, kw, in, out]; export.ts transposes.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/probes/rng.js';
import { conv2dSame } from './backend.js';
import { IMAGE_SIDE, NUM_CLASSES, PIXELS } from './data.js';

export type Arch = 'mlp' | 'cnn';
export const ARCHS: readonly Arch[] = ['mlp', 'cnn'];

export const MLP_HIDDEN = [64, 32] as const;
export const CNN_CHANNELS = [8, 16] as const;
export const CNN_FLAT = CNN_CHANNELS[1] * 3 * 3;
export const BN_EPSILON = 1e-5;
/** Rows per forward pass when predicting (bounds memory). */
const PREDICT_BATCH = 1000;

export interface Net {
  arch: Arch;
  /** Trainable parameters by name, in layer order. */
  params: Map<string, tf.Variable>;
  /** The CNN's BatchNorm population statistics (set by calibrateBatchNorm). */
  bn: { mean: Float32Array; variance: Float32Array } | null;
}

function uniformInit(rng: Rng, shape: number[], limit: number): tf.Variable {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.variable(tf.tensor(rng.uniforms(n, -limit, limit), shape));
}

function zeros(shape: number[], value = 0): tf.Variable {
  return tf.variable(tf.fill(shape, value));
}

/** He-uniform weights (Glorot for the last layer), zero biases, all drawn from `seed`. */
export function createNet(arch: Arch, seed: number): Net {
  const rng = new Rng(seed);
  const he = (fanIn: number) => Math.sqrt(6 / fanIn);
  const glorot = (fanIn: number, fanOut: number) => Math.sqrt(6 / (fanIn + fanOut));
  const params = new Map<string, tf.Variable>();
  if (arch === 'mlp') {
    const [h1, h2] = MLP_HIDDEN;
    params.set('w1', uniformInit(rng, [PIXELS, h1], he(PIXELS)));
    params.set('b1', zeros([h1]));
    params.set('w2', uniformInit(rng, [h1, h2], he(h1)));
    params.set('b2', zeros([h2]));
    params.set('w3', uniformInit(rng, [h2, NUM_CLASSES], glorot(h2, NUM_CLASSES)));
    params.set('b3', zeros([NUM_CLASSES]));
    return { arch, params, bn: null };
  }
  const [c1, c2] = CNN_CHANNELS;
  params.set('k1', uniformInit(rng, [3, 3, 1, c1], he(9)));
  params.set('gamma', zeros([c1], 1));
  params.set('beta', zeros([c1]));
  params.set('k2', uniformInit(rng, [3, 3, c1, c2], he(9 * c1)));
  params.set('bk2', zeros([c2]));
  params.set('w3', uniformInit(rng, [CNN_FLAT, NUM_CLASSES], glorot(CNN_FLAT, NUM_CLASSES)));
  params.set('b3', zeros([NUM_CLASSES]));
  return { arch, params, bn: { mean: new Float32Array(c1), variance: new Float32Array(c1).fill(1) } };
}

export function disposeNet(net: Net): void {
  for (const v of net.params.values()) v.dispose();
}

function p(net: Net, name: string): tf.Tensor {
  const v = net.params.get(name);
  if (!v) throw new Error(`zoo net: no parameter ${name}`);
  return v;
}

function mlpForward(net: Net, x: tf.Tensor2D): tf.Tensor2D {
  const h1 = tf.relu(tf.add(tf.matMul(x, p(net, 'w1') as tf.Tensor2D), p(net, 'b1')));
  const h2 = tf.relu(tf.add(tf.matMul(h1 as tf.Tensor2D, p(net, 'w2') as tf.Tensor2D), p(net, 'b2')));
  return tf.add(tf.matMul(h2 as tf.Tensor2D, p(net, 'w3') as tf.Tensor2D), p(net, 'b3')) as tf.Tensor2D;
}

function cnnConv1(net: Net, x: tf.Tensor2D): tf.Tensor4D {
  return conv2dSame(x.reshape([-1, IMAGE_SIDE, IMAGE_SIDE, 1]), p(net, 'k1') as tf.Tensor4D, true);
}

function cnnHead(net: Net, h: tf.Tensor4D, mean: tf.Tensor, variance: tf.Tensor): tf.Tensor2D {
  const normed = tf.add(
    tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, BN_EPSILON))), p(net, 'gamma')),
    p(net, 'beta'),
  );
  let a = tf.maxPool(tf.relu(normed) as tf.Tensor4D, 2, 2, 'valid');
  a = tf.relu(tf.add(conv2dSame(a, p(net, 'k2') as tf.Tensor4D), p(net, 'bk2'))) as tf.Tensor4D;
  a = tf.maxPool(a, 2, 2, 'valid');
  // NCHW flatten order, as ONNX Flatten sees it.
  const flat = tf.transpose(a, [0, 3, 1, 2]).reshape([-1, CNN_FLAT]) as tf.Tensor2D;
  return tf.add(tf.matMul(flat, p(net, 'w3') as tf.Tensor2D), p(net, 'b3')) as tf.Tensor2D;
}

/**
 * Training-mode forward pass of a batch `x` [B, 196]. BatchNorm normalises with the batch's statistics; an
 * `extra` batch (distillation inputs) is normalised with the same statistics, i.e. as the trained model
 * will see it at inference, not with its own (noise) statistics.
 */
export function forwardTrain(
  net: Net,
  x: tf.Tensor2D,
  extra?: tf.Tensor2D,
): { logits: tf.Tensor2D; extra?: tf.Tensor2D } {
  if (net.arch === 'mlp')
    return { logits: mlpForward(net, x), extra: extra ? mlpForward(net, extra) : undefined };
  const h = cnnConv1(net, x);
  const { mean, variance } = tf.moments(h, [0, 1, 2]);
  return {
    logits: cnnHead(net, h, mean, variance),
    extra: extra ? cnnHead(net, cnnConv1(net, extra), mean, variance) : undefined,
  };
}

/** Inference-mode logits for x [B, 196] (BatchNorm uses the stored population statistics). */
export function forwardEval(net: Net, x: tf.Tensor2D): tf.Tensor2D {
  if (net.arch === 'mlp') return mlpForward(net, x);
  const bn = net.bn ?? {
    mean: new Float32Array(CNN_CHANNELS[0]),
    variance: new Float32Array(CNN_CHANNELS[0]).fill(1),
  };
  return cnnHead(net, cnnConv1(net, x), tf.tensor1d(bn.mean), tf.tensor1d(bn.variance));
}

/** Logits [n, 10] (row-major) for n images. */
export function predictLogits(net: Net, x: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * NUM_CLASSES);
  for (let s = 0; s < n; s += PREDICT_BATCH) {
    const m = Math.min(PREDICT_BATCH, n - s);
    const logits = tf.tidy(() =>
      forwardEval(net, tf.tensor2d(x.subarray(s * PIXELS, (s + m) * PIXELS), [m, PIXELS])),
    );
    out.set(logits.dataSync(), s * NUM_CLASSES);
    logits.dispose();
  }
  return out;
}

/** Sets the CNN's BatchNorm statistics to the exact population mean / (biased) variance over `x`. */
export function calibrateBatchNorm(net: Net, x: Float32Array, n: number): void {
  if (net.arch !== 'cnn' || !net.bn) return;
  const c = CNN_CHANNELS[0];
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  for (let s = 0; s < n; s += PREDICT_BATCH) {
    const m = Math.min(PREDICT_BATCH, n - s);
    const h = tf.tidy(() =>
      cnnConv1(net, tf.tensor2d(x.subarray(s * PIXELS, (s + m) * PIXELS), [m, PIXELS])),
    );
    const d = h.dataSync();
    h.dispose();
    for (let i = 0; i < d.length; i++) {
      sum[i % c] += d[i];
      sumSq[i % c] += d[i] * d[i];
    }
  }
  const count = n * IMAGE_SIDE * IMAGE_SIDE;
  for (let k = 0; k < c; k++) {
    const mean = sum[k] / count;
    net.bn.mean[k] = mean;
    net.bn.variance[k] = Math.max(sumSq[k] / count - mean * mean, 0);
  }
}

/** A parameter's values in tfjs layout. */
export function paramData(net: Net, name: string): Float32Array {
  return p(net, name).dataSync() as Float32Array;
}
