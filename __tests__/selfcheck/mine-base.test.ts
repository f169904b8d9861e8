/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * Class-mined base inputs (src/selfcheck/mine-base.ts) on real models in real onnxruntime-node: an MLP
 * trained here on MNIST digits gets a base that covers every class in near-equal shares, each kept input is
 * classified as the class it was kept for, the same model and seed give the same bytes, the forward passes
 * stay within the budget (mining plus probing), and a model that only ever predicts one class still gets a
 * full base of that class's most confident inputs.
 */
import {
  MIN_MINED_COUNT,
  MINE_BUDGET_SHARE,
  MINE_POOL,
  MINED_BASE_COUNT,
  mineBase,
  mineTriggerBase,
  type MinedBase,
} from '../../src/selfcheck/mine-base.js';
import { probeTriggers } from '../../src/selfcheck/trigger-probe.js';
import { writeSequentialModel } from '../../src/model/write.js';
import { ortRunner, trainMlp, D, SIDE } from './fixtures.js';

const SHAPE = [D];
/** A trigger budget (the default is 48000; a smaller one keeps the test fast, the split is the same). */
const BUDGET = 16000;
/** Pool of the main mineBase call: the product's. */
const POOL = MINE_POOL;
const CLASSES = 10;

function argmax(row: Float32Array): number {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c;
  return best;
}

let mlp: Awaited<ReturnType<typeof ortRunner>>;
let mined: MinedBase;

beforeAll(async () => {
  mlp = await ortRunner(trainMlp({ seed: 1 }), SHAPE);
  const before = mlp.calls.inputs;
  mined = (await mineBase(mlp.run, SHAPE, { classes: CLASSES, budget: POOL, seed: 3 })) as MinedBase;
  expect(mlp.calls.inputs - before).toBe(mined.forwardPasses);
});

describe('mineBase on a trained MNIST MLP', () => {
  it('keeps MINED_BASE_COUNT inputs, balanced over the classes the model predicts', () => {
    expect(mined.count).toBe(MINED_BASE_COUNT);
    expect(mined.base.length).toBe(MINED_BASE_COUNT * D);
    expect(mined.perClass.reduce((a, b) => a + b, 0)).toBe(MINED_BASE_COUNT);
    // A trained digit classifier is reachable in every class from strokes, rings and blobs.
    const covered = mined.perClass.filter((n) => n > 0).length;
    expect(covered).toBeGreaterThanOrEqual(8);
    // Round-robin: classes with enough candidates differ by at most one input.
    const full = mined.perClass.filter((n) => n >= Math.floor(MINED_BASE_COUNT / covered));
    expect(Math.max(...full) - Math.min(...full)).toBeLessThanOrEqual(1);
  });

  it('each kept input is classified as the class it was kept for, with a positive margin', async () => {
    const logits = await mlp.run(mined.base, mined.count);
    for (let i = 0; i < mined.count; i++) {
      const row = logits.subarray(i * CLASSES, (i + 1) * CLASSES);
      expect(argmax(row)).toBe(mined.classOf[i]);
      expect(mined.margin[i]).toBeGreaterThan(0);
    }
  });

  it('values stay within the value range', async () => {
    const range = { lo: -1, hi: 2 };
    const r = (await mineBase(mlp.run, SHAPE, {
      classes: CLASSES,
      budget: 256,
      seed: 3,
      range,
    })) as MinedBase;
    expect(Math.min(...r.base)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...r.base)).toBeLessThanOrEqual(2);
    expect(Math.max(...r.base)).toBeGreaterThan(1); // the range is used, not [0, 1]
  });

  it('is deterministic: the same model and seed give the same bytes, another seed another base', async () => {
    const opts = { classes: CLASSES, budget: 256 };
    const a = (await mineBase(mlp.run, SHAPE, { ...opts, seed: 3 })) as MinedBase;
    const again = (await mineBase(mlp.run, SHAPE, { ...opts, seed: 3 })) as MinedBase;
    expect(Buffer.from(again.base.buffer).equals(Buffer.from(a.base.buffer))).toBe(true);
    expect(Array.from(again.classOf)).toEqual(Array.from(a.classOf));
    const other = (await mineBase(mlp.run, SHAPE, { ...opts, seed: 4 })) as MinedBase;
    expect(Buffer.from(other.base.buffer).equals(Buffer.from(a.base.buffer))).toBe(false);
  });

  it('works on an image-shaped input [1,14,14] the same way', async () => {
    const img = await ortRunner(trainMlp({ seed: 2, imageInput: true, epochs: 3 }), [1, SIDE, SIDE]);
    const r = (await mineBase(img.run, [1, SIDE, SIDE], {
      classes: CLASSES,
      budget: 256,
      seed: 0,
    })) as MinedBase;
    expect(r.count).toBe(MINED_BASE_COUNT);
    expect(r.perClass.filter((n) => n > 0).length).toBeGreaterThanOrEqual(6);
    expect(img.calls.inputs).toBe(256);
  });
});

describe('the forward-pass budget', () => {
  it('mining plus probing stay within the trigger budget, mining takes MINE_BUDGET_SHARE', async () => {
    const before = mlp.calls.inputs;
    const m = await mineTriggerBase(mlp.run, SHAPE, { classes: CLASSES, budget: BUDGET, seed: 1 });
    expect(m).not.toBeNull();
    if (!m) return;
    expect(m.forwardPasses).toBeLessThanOrEqual(Math.floor(BUDGET * MINE_BUDGET_SHARE));
    expect(m.forwardPasses + m.probeBudget).toBe(BUDGET);
    const r = await probeTriggers(mlp.run, m.base, SHAPE, {
      classes: CLASSES,
      budget: m.probeBudget,
      seed: 1,
    });
    expect(mlp.calls.inputs - before).toBe(m.forwardPasses + r.forwardPasses);
    expect(mlp.calls.inputs - before).toBeLessThanOrEqual(BUDGET);
  });

  it('a small budget mines a smaller base, and a tiny one does not mine at all', async () => {
    const small = await mineTriggerBase(mlp.run, SHAPE, { classes: CLASSES, budget: 1000, seed: 1 });
    expect(small).not.toBeNull();
    if (small) {
      expect(small.forwardPasses + small.probeBudget).toBe(1000);
      expect(small.probeBudget).toBeGreaterThanOrEqual(200);
    }
    const tight = await mineBase(mlp.run, SHAPE, { classes: CLASSES, budget: 40, seed: 1 });
    expect(tight?.count).toBe(20); // each kept input chosen from two candidates
    const before = mlp.calls.inputs;
    expect(await mineBase(mlp.run, SHAPE, { classes: CLASSES, budget: 2 * MIN_MINED_COUNT - 1 })).toBeNull();
    expect(await mineTriggerBase(mlp.run, SHAPE, { classes: CLASSES, budget: 220, seed: 1 })).toBeNull();
    expect(mlp.calls.inputs).toBe(before); // nothing was run
  });
});

describe('a model that predicts one class only', () => {
  it('still gets a full base: that class, most confident first', async () => {
    // Logits = bias + tiny input weights: class 3 always wins, margins still differ by input.
    const weight = new Float32Array(CLASSES * D);
    for (let i = 0; i < D; i++) weight[3 * D + i] = 0.01 * ((i % 7) - 3);
    const bias = new Float32Array(CLASSES);
    bias[3] = 100;
    const bytes = writeSequentialModel({
      inputShape: ['N', D],
      layers: [{ kind: 'dense', inFeatures: D, outFeatures: CLASSES, weight, bias }],
    });
    const one = await ortRunner(bytes, SHAPE);
    const r = (await mineBase(one.run, SHAPE, { classes: CLASSES, budget: 256, seed: 0 })) as MinedBase;
    expect(r.count).toBe(MINED_BASE_COUNT);
    expect(r.perClass[3]).toBe(MINED_BASE_COUNT);
    expect(new Set(r.classOf)).toEqual(new Set([3]));
    for (let i = 1; i < r.count; i++) expect(r.margin[i]).toBeLessThanOrEqual(r.margin[i - 1]);
    // Distinct inputs, not one repeated.
    const first = Buffer.from(r.base.buffer, 0, D * 4);
    const second = Buffer.from(r.base.buffer, D * 4, D * 4);
    expect(first.equals(second)).toBe(false);
  });
});
