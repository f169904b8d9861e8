/**
 * Trigger inversion by optimisation (src/selfcheck/trigger-inversion.ts) on real ONNX models through real
 * ONNX Runtime gradient sessions: the example backdoored MNIST MLP (a 3x3 square of 1.0 at rows/cols 11-13
 * turns any digit into a 7, examples/make.ts), graphs written here with the project's GraphBuilder for the
 * fallback paths, and the schedule's budget.
 */
import path from 'node:path';
import { readModel, parseModel } from '../../src/model/read.js';
import { GraphBuilder, attr } from '../../src/model/write.js';
import { Rng } from '../../src/probes/rng.js';
import { Adam } from '../../src/selfcheck/adam.js';
import {
  haltingSchedule,
  invertTriggers,
  type InversionAssessed,
} from '../../src/selfcheck/trigger-inversion.js';
import { INVERSION_STEPS_PER_CLASS } from '../../src/limits.js';
import { mnist14, SIDE } from './fixtures.js';

const EXAMPLES = path.resolve('examples/models/candidates');
/** 60 real digits (6 per class) the example models were not trained on. */
const base = mnist14(6, 900).x;
const SHAPE = [1, SIDE, SIDE];

function assessed(r: Awaited<ReturnType<typeof invertTriggers>>): InversionAssessed {
  if (!r.assessed) throw new Error(r.reason);
  return r;
}

/** Share of the mask's L1 inside rows/cols [from, SIDE). */
function shareInCorner(mask: Float32Array, from: number): number {
  let inside = 0;
  let all = 0;
  for (let r = 0; r < SIDE; r++)
    for (let c = 0; c < SIDE; c++) {
      all += mask[r * SIDE + c];
      if (r >= from && c >= from) inside += mask[r * SIDE + c];
    }
  return inside / all;
}

describe('invertTriggers on the example backdoored MLP', () => {
  let first: InversionAssessed;
  beforeAll(async () => {
    const model = await readModel(path.join(EXAMPLES, 'backdoored.onnx'));
    first = assessed(await invertTriggers(model, base, SHAPE, { classes: 10, seed: 2 }));
  }, 60_000);

  test('the suspected class is the backdoor target, and its mask sits on the trigger corner', () => {
    expect(first.targetClass).toBe(7);
    // The trigger is the 3x3 square at rows/cols 11-13: the bottom-right 5x5 is 13% of the image.
    expect(shareInCorner(first.mask, 9)).toBeGreaterThan(0.5);
    // The inverted trigger flips the digits it was not optimised on (those past the batch) too.
    expect(first.flipRate).toBeGreaterThanOrEqual(0.6);
    expect(first.perClass[7].reached).toBe(true);
    // The target's mask is the smallest of all classes.
    const costs = first.perClass.map((p) => p.cost);
    expect(Math.min(...costs)).toBe(costs[7]);
    expect(first.anomaly[7]).toBe(first.score);
  });

  test.each([0, 1, 3])(
    'seed %i: the same target and corner (not one lucky seed)',
    async (seed) => {
      const model = await readModel(path.join(EXAMPLES, 'backdoored.onnx'));
      const r = assessed(await invertTriggers(model, base, SHAPE, { classes: 10, seed }));
      expect(r.targetClass).toBe(7);
      expect(shareInCorner(r.mask, 9)).toBeGreaterThan(0.5);
    },
    60_000,
  );

  test('deterministic: the same model, inputs and seed give the same masks bit for bit', async () => {
    const model = await readModel(path.join(EXAMPLES, 'backdoored.onnx'));
    const again = assessed(await invertTriggers(model, base, SHAPE, { classes: 10, seed: 2 }));
    expect(Array.from(again.mask)).toEqual(Array.from(first.mask));
    expect(Array.from(again.pattern)).toEqual(Array.from(first.pattern));
    expect(again.perClass).toEqual(first.perClass);
    expect(again.score).toBe(first.score);
  }, 60_000);

  test('the budget holds: at most stepsPerClass x classes steps, and one run per step plus two', () => {
    expect(first.steps).toBeLessThanOrEqual(INVERSION_STEPS_PER_CLASS * 10);
    expect(first.runs).toBe(first.steps + 2);
    // K-Arm: the classes that looked promising got more steps than the warm-up, the rest were dropped.
    const steps = first.perClass.map((p) => p.steps);
    expect(steps[7]).toBeGreaterThan(Math.min(...steps));
    expect(Math.min(...steps)).toBeGreaterThan(0);
  });
});

describe('budget and schedule', () => {
  test('a small step budget is a hard bound, whatever the model', async () => {
    const model = await readModel(path.join(EXAMPLES, 'clean-candidate.onnx'));
    const r = assessed(await invertTriggers(model, base, SHAPE, { classes: 10, stepsPerClass: 6 }));
    expect(r.steps).toBeLessThanOrEqual(60);
    expect(r.runs).toBeLessThanOrEqual(62);
    expect(r.perClass.every((p) => p.steps >= 2)).toBe(true);
  }, 60_000);

  test("schedule 'flat' (Neural Cleanse as published): every class the same steps, costs at equal effort", async () => {
    const model = await readModel(path.join(EXAMPLES, 'backdoored.onnx'));
    const r = assessed(
      await invertTriggers(model, base, SHAPE, { classes: 10, stepsPerClass: 12, schedule: 'flat', seed: 2 }),
    );
    expect(r.perClass.map((p) => p.steps)).toEqual(new Array(10).fill(12));
    expect(r.perClass.map((p) => p.warmupCost)).toEqual(r.perClass.map((p) => p.cost));
    expect(r.steps).toBe(120);
  }, 60_000);

  test.each([
    [10, 300, 10],
    [10, 60, 2],
    [3, 90, 10],
    [100, 3000, 10],
    [37, 1110, 10],
  ])(
    'haltingSchedule(%i classes, %i steps, warm-up %i) spends at most the budget, halving',
    (k, total, warm) => {
      const rounds = haltingSchedule(k, total, warm);
      const spent = warm * k + rounds.reduce((s, r) => s + r.keep * r.steps, 0);
      expect(spent).toBeLessThanOrEqual(total);
      // Most of what is left after the warm-up is spent (rounding loses less than a step per class per round).
      expect(total - spent).toBeLessThan(k * (rounds.length + 1));
      let prev = k;
      for (const r of rounds) {
        expect(r.keep).toBeLessThan(prev);
        expect(r.keep).toBeGreaterThanOrEqual(Math.ceil(prev / 2));
        prev = r.keep;
      }
    },
  );
});

describe('falls back cleanly', () => {
  function model(build: (g: GraphBuilder) => void, input: (number | string)[]) {
    const g = new GraphBuilder({ opset: 13 });
    g.addInput('x', 'float32', input);
    build(g);
    return parseModel(g.toBytes(), 'odd.onnx');
  }

  test('an operator without a gradient rule on the path: not assessed, the operator named', async () => {
    const m = model(
      (g) => {
        g.addNode('LRN', ['x'], ['a'], { size: attr.int(3) }, { name: '/lrn' });
        g.addNode('Flatten', ['a'], ['f']);
        g.addInitializer('w', 'float32', [10, SIDE * SIDE], new Rng(1).normals(10 * SIDE * SIDE));
        g.addNode('Gemm', ['f', 'w'], ['logits'], { transB: attr.int(1) });
        g.addOutput('logits', 'float32', ['N', 10]);
      },
      ['N', 1, SIDE, SIDE],
    );
    const r = await invertTriggers(m, base, SHAPE, { classes: 10 });
    expect(r).toEqual({ assessed: false, reason: 'not assessed: LRN has no gradient rule (1 node)' });
  });

  test('an input that is no image: not assessed, said so', async () => {
    const m = model(
      (g) => {
        g.addInitializer('w', 'float32', [10, SIDE * SIDE], new Rng(1).normals(10 * SIDE * SIDE));
        g.addNode('Gemm', ['x', 'w'], ['logits'], { transB: attr.int(1) });
        g.addOutput('logits', 'float32', ['N', 10]);
      },
      ['N', SIDE * SIDE],
    );
    const r = await invertTriggers(m, base, [SIDE * SIDE], { classes: 10 });
    expect(r.assessed).toBe(false);
    expect(!r.assessed && r.reason).toMatch(/^not assessed: the input is \[196\], not an image/);
  });
});

describe('Adam', () => {
  test('minimises a badly scaled quadratic to its minimum', () => {
    const target = [3, -2, 0.5];
    const scale = [1, 100, 0.01];
    const p = new Float32Array(3);
    const opt = new Adam(3, { lr: 0.05 });
    for (let t = 0; t < 2000; t++)
      opt.step(
        p,
        Array.from(p, (v, i) => 2 * scale[i] * (v - target[i])),
      );
    p.forEach((v, i) => expect(v).toBeCloseTo(target[i], 2));
    expect(opt.steps).toBe(2000);
  });

  test('a NaN gradient leaves the parameters where they are', () => {
    const p = Float32Array.of(1, 2);
    new Adam(2).step(p, [NaN, NaN]);
    expect(Array.from(p)).toEqual([1, 2]);
  });
});
