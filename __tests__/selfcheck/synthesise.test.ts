/**
 * Inputs synthesised from the model without data (src/selfcheck/synthesise.ts) on real ONNX models through
 * real ONNX Runtime gradient sessions: the example clean MNIST MLP (examples/models/clean), a small
 * Conv -> BatchNormalization model written here (DeepInversion's BN term), graphs with an operator that has
 * no gradient rule and an input that is no image (the fallback), and the jitter's roll and the step budget.
 */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { readModel, parseModel } from '../../src/model/read.js';
import { GraphBuilder, attr } from '../../src/model/write.js';
import { Rng } from '../../src/probes/rng.js';
import {
  rollImages,
  synthesiseInputs,
  synthStepsFor,
  type Synthesised,
} from '../../src/selfcheck/synthesise.js';
import {
  SYNTH_MAC_BUDGET,
  SYNTH_MIN_STEPS,
  SYNTH_STEPS,
  INVERSION_BACKWARD_FACTOR,
} from '../../src/limits.js';
import { noGradientModel, flatInputModel, SIDE } from './fixtures.js';

const CLEAN = path.resolve('examples/models/clean/clean-01.onnx');
const SHAPE = [1, SIDE, SIDE];

function ok(r: Awaited<ReturnType<typeof synthesiseInputs>>): Synthesised {
  if (!r.synthesised) throw new Error(r.reason);
  return r;
}

/** The model's classes for `x` through a plain ONNX Runtime session (not the gradient graph). */
async function classify(file: string, x: Float32Array, n: number): Promise<number[]> {
  const s = await ort.InferenceSession.create(file);
  try {
    const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [n, ...SHAPE]) });
    const logits = out[s.outputNames[0]].data as Float32Array;
    const k = logits.length / n;
    return Array.from({ length: n }, (_, i) => {
      let best = 0;
      for (let c = 1; c < k; c++) if (logits[i * k + c] > logits[i * k + best]) best = c;
      return best;
    });
  } finally {
    await s.release();
  }
}

describe('synthesiseInputs on the example clean MNIST MLP', () => {
  let first: Synthesised;
  beforeAll(async () => {
    first = ok(await synthesiseInputs(await readModel(CLEAN), SHAPE, { classes: 10, seed: 3, steps: 60 }));
  }, 60_000);

  test('every synthesised input is classified as its class by the model (a plain session, not the gradient graph)', async () => {
    expect(first.count).toBe(130);
    expect(Array.from(first.targetOf.slice(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    const got = await classify(CLEAN, first.base, first.count);
    const hits = got.filter((c, i) => c === first.targetOf[i]).length;
    expect(hits / first.count).toBeGreaterThanOrEqual(0.95);
    // Every class is represented, and the result's own bookkeeping agrees with the plain session.
    expect(first.perClass.every((n) => n >= 10)).toBe(true);
    expect(Array.from(first.classOf)).toEqual(got);
    expect(first.reached).toBeCloseTo(hits / first.count, 6);
  });

  test('inputs stay in the probe range, and are not blank or saturated', () => {
    let lo = Infinity;
    let hi = -Infinity;
    let sum = 0;
    for (const v of first.base) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      sum += v;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    const mean = sum / first.base.length;
    expect(mean).toBeGreaterThan(0.02);
    expect(mean).toBeLessThan(0.8);
  });

  test('deterministic: the same model and seed give the same inputs bit for bit; another seed other inputs', async () => {
    const model = await readModel(CLEAN);
    const again = ok(await synthesiseInputs(model, SHAPE, { classes: 10, seed: 3, steps: 60 }));
    expect(Buffer.from(again.base.buffer).equals(Buffer.from(first.base.buffer))).toBe(true);
    expect(Array.from(again.classOf)).toEqual(Array.from(first.classOf));
    const other = ok(await synthesiseInputs(model, SHAPE, { classes: 10, seed: 4, steps: 60 }));
    expect(Buffer.from(other.base.buffer).equals(Buffer.from(first.base.buffer))).toBe(false);
  }, 60_000);

  test('the step count is the budget: one gradient run per step plus the final check', () => {
    expect(first.steps).toBe(60);
    expect(first.runs).toBe(61);
    expect(first.bnNodes).toEqual([]);
  });

  test('a range other than [0, 1]: inputs in that range, still classified as their class', async () => {
    // The same MLP fed x in [-1, 1] through --input-mean 0.5/--input-std 0.5 style normalisation is x/2+0.5... here the
    // probe range is [-1, 1] and the model expects (x - (-1)) / 2, i.e. normalisation mean -1, std 2.
    const r = ok(
      await synthesiseInputs(await readModel(CLEAN), SHAPE, {
        classes: 10,
        seed: 1,
        steps: 60,
        range: { lo: -1, hi: 1 },
        normalize: { mean: [-1], std: [2] },
      }),
    );
    expect(Math.min(...r.base)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...r.base)).toBeLessThanOrEqual(1);
    expect(Math.min(...r.base)).toBeLessThan(-0.5);
    expect(r.reached).toBeGreaterThanOrEqual(0.95);
  }, 60_000);
});

describe('DeepInversion: BatchNormalization statistics', () => {
  /** The model; with `exposeConv`, bn1's input as a second output (for measuring its statistics). */
  function cnnBytes(exposeConv = false): Uint8Array {
    const rng = new Rng('synth-bn');
    const g = new GraphBuilder({ opset: 13 });
    g.addInput('x', 'float32', ['N', 1, SIDE, SIDE]);
    g.addInitializer('w', 'float32', [4, 1, 3, 3], rng.normals(36, 0, 0.5));
    g.addNode('Conv', ['x', 'w'], ['c'], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]) });
    g.addInitializer('scale', 'float32', [4], rng.uniforms(4, 0.5, 1.5));
    g.addInitializer('bias', 'float32', [4], rng.uniforms(4, -0.2, 0.2));
    g.addInitializer('mean', 'float32', [4], rng.uniforms(4, -0.3, 0.3));
    g.addInitializer('var', 'float32', [4], rng.uniforms(4, 0.2, 0.6));
    g.addNode('BatchNormalization', ['c', 'scale', 'bias', 'mean', 'var'], ['n'], {}, { name: 'bn1' });
    g.addNode('Relu', ['n'], ['r']);
    g.addNode('Flatten', ['r'], ['f']);
    g.addInitializer('fc', 'float32', [5, 144], rng.normals(720, 0, 0.3));
    g.addNode('Gemm', ['f', 'fc'], ['logits'], { transB: attr.int(1) });
    g.addOutput('logits', 'float32', ['N', 5]);
    if (exposeConv) g.addOutput('c', 'float32', ['N', 4, 6, 6]);
    return g.toBytes();
  }
  const cnn = () => parseModel(cnnBytes(), 'bn.onnx');

  /** |batch mean - running mean| + |batch var - running var| at bn1's input, summed over channels. */
  async function bnGap(x: Float32Array, n: number): Promise<number> {
    const s = await ort.InferenceSession.create(cnnBytes(true));
    const c = (await s.run({ x: new ort.Tensor('float32', x, [n, ...SHAPE]) })).c;
    await s.release();
    const d = c.data as Float32Array;
    const [, ch, h, w] = c.dims;
    const rng = new Rng('synth-bn');
    rng.normals(36, 0, 0.5);
    rng.uniforms(4, 0.5, 1.5);
    rng.uniforms(4, -0.2, 0.2);
    const runMean = rng.uniforms(4, -0.3, 0.3);
    const runVar = rng.uniforms(4, 0.2, 0.6);
    let gap = 0;
    for (let k = 0; k < ch; k++) {
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++)
        for (let p = 0; p < h * w; p++) {
          const v = d[(i * ch + k) * h * w + p];
          s1 += v;
          s2 += v * v;
        }
      const mu = s1 / (n * h * w);
      gap += Math.abs(mu - runMean[k]) + Math.abs(s2 / (n * h * w) - mu * mu - runVar[k]);
    }
    return gap;
  }

  test('the BN layer is matched: its input statistics end closer to the running ones than without the term', async () => {
    const model = cnn();
    const opts = { classes: 5, seed: 1, steps: 80, count: 40 };
    const withBn = ok(await synthesiseInputs(model, SHAPE, { ...opts, bn: 3 }));
    const without = ok(await synthesiseInputs(model, SHAPE, { ...opts, bn: 0 }));
    expect(withBn.bnNodes).toEqual(['bn1']);
    expect(without.bnNodes).toEqual([]);
    const a = await bnGap(withBn.base, withBn.count);
    const b = await bnGap(without.base, without.count);
    // Measured 2.00 against 3.03 (seeded, so fixed): the term moves the statistics a third of the way.
    expect(a).toBeLessThan(0.75 * b);
    expect(withBn.reached).toBeGreaterThanOrEqual(0.9);
  }, 60_000);
});

describe('falls back cleanly (callers use the mined base)', () => {
  test('an operator without a gradient rule on the path: not synthesised, the operator named', async () => {
    const r = await synthesiseInputs(noGradientModel(), SHAPE, { classes: 10 });
    expect(r).toEqual({ synthesised: false, reason: 'LRN has no gradient rule (1 node)' });
  });

  test('an input that is no image, or a model too large for the budget: not synthesised, said so', async () => {
    const m = flatInputModel();
    const flat = await synthesiseInputs(m, [SIDE * SIDE], { classes: 10 });
    expect(flat).toEqual({ synthesised: false, reason: 'the input is [196], not an image [C, H, W]' });
    const big = await synthesiseInputs(await readModel(CLEAN), SHAPE, { classes: 10, macsPerInput: 1e12 });
    expect(big.synthesised).toBe(false);
    expect(!big.synthesised && big.reason).toMatch(/too large for the synthesis budget/);
  });
});

describe('jitter and budget', () => {
  test.each([
    [1, -2, false],
    [0, 3, true],
    [-1, 1, true],
  ])(
    'roll (%i, %i, flip %s): the inverse undoes it, and is its adjoint (the gradient rolls back)',
    (dy, dx, flip) => {
      const shape = [2, 3, 5];
      const n = 2;
      const len = n * 30;
      const rng = new Rng(`roll:${dy}:${dx}`);
      const a = rng.normals(len);
      const b = rng.normals(len);
      const ra = new Float32Array(len);
      const back = new Float32Array(len);
      rollImages(a, ra, n, shape, dy, dx, flip);
      rollImages(ra, back, n, shape, dy, dx, flip, true);
      expect(Array.from(back)).toEqual(Array.from(a));
      const rib = new Float32Array(len);
      rollImages(b, rib, n, shape, dy, dx, flip, true);
      let lhs = 0;
      let rhs = 0;
      for (let i = 0; i < len; i++) {
        lhs += ra[i] * b[i];
        rhs += a[i] * rib[i];
      }
      expect(lhs).toBeCloseTo(rhs, 4);
      // A real move: something changed place.
      expect(Array.from(ra)).not.toEqual(Array.from(a));
    },
  );

  test('synthStepsFor: at most SYNTH_STEPS, within the MAC budget, null below the minimum', () => {
    expect(synthStepsFor(1e4, 130)).toBe(SYNTH_STEPS);
    const macs = 1e6;
    const steps = synthStepsFor(macs, 130) as number;
    expect(steps).toBeLessThan(SYNTH_STEPS);
    expect(steps * macs * 130 * (1 + INVERSION_BACKWARD_FACTOR)).toBeLessThanOrEqual(SYNTH_MAC_BUDGET);
    expect(
      synthStepsFor(SYNTH_MAC_BUDGET / (130 * (1 + INVERSION_BACKWARD_FACTOR) * (SYNTH_MIN_STEPS - 1)), 130),
    ).toBeNull();
  });
});
