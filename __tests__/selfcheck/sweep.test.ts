/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * The dense patch sweep: every position of every patch size (a stride on large inputs), the fills dropped
 * when the budget is short, and, on a real MLP poisoned with an interior patch (where the corner and random
 * candidates do not reach), the trigger's own window is among the positions promoted for its target class.
 */
import { BudgetedRunner } from '../../src/selfcheck/budgeted-runner.js';
import { summarise } from '../../src/selfcheck/logit-stats.js';
import {
  MAP_INPUTS,
  MAX_SWEEP_STEPS,
  patchMap,
  patchSweep,
  sweepFills,
  sweepPatches,
  SWEEP_FILLS,
  SWEEP_INPUTS,
  SWEEP_KEEP,
  sweepPositions,
} from '../../src/selfcheck/sweep.js';
import { patchSizes, type ImageGeometry, type Trigger } from '../../src/selfcheck/triggers.js';
import { mnist14, ortRunner, squareStamp, trainMlp, D } from './fixtures.js';

const G14: ImageGeometry = { c: 1, h: 14, w: 14 };
const RANGE = { lo: 0, hi: 1 };

describe('sweepPatches', () => {
  it('covers every position of every patch size on a small image', () => {
    const expected = patchSizes(G14).reduce((a, s) => a + (15 - s) ** 2, 0);
    expect(sweepPatches(G14, RANGE, 1)).toHaveLength(expected);
    expect(sweepPatches(G14, RANGE, 3)).toHaveLength(3 * expected);
    const at = sweepPatches(G14, RANGE, 1).filter((t) => t.kind === 'patch' && t.patch?.size === 3);
    expect(at.some((t) => t.kind === 'patch' && t.patch?.top === 11 && t.patch.left === 11)).toBe(true);
  });

  it('strides large images to at most MAX_SWEEP_STEPS positions per axis, flush with the border', () => {
    const g: ImageGeometry = { c: 3, h: 64, w: 64 };
    const sizes = patchSizes(g);
    const ps = sweepPatches(g, RANGE, 1);
    expect(ps.length).toBeLessThanOrEqual(sizes.length * MAX_SWEEP_STEPS ** 2);
    const big = sizes[sizes.length - 1];
    expect(ps.some((t) => t.kind === 'patch' && t.patch?.top === 64 - big && t.patch.left === 64 - big)).toBe(
      true,
    );
  });

  it('drops fills when the budget is short, and sweeps nothing below one fill', () => {
    const perFill = sweepPatches(G14, RANGE, 1).length * SWEEP_INPUTS;
    expect(sweepFills(G14, SWEEP_INPUTS, 10 * perFill)).toBe(SWEEP_FILLS.length);
    expect(sweepFills(G14, SWEEP_INPUTS, 2 * perFill)).toBe(2);
    expect(sweepFills(G14, SWEEP_INPUTS, perFill - 1)).toBe(0);
  });
});

describe('patchSweep without inputs', () => {
  it('returns an empty map (no "trigger-map" block then)', async () => {
    const runner = new BudgetedRunner(async () => new Float32Array(0), 1000, D, 10);
    const clean = summarise(new Float32Array(0), 0, 10);
    const sweep = await patchSweep(runner, new Float32Array(0), G14, RANGE, [], clean, 10, 1);
    expect(sweep.map).toHaveLength(0);
    expect(sweep.triggers).toHaveLength(0);
  });
});

describe('patchSweep on a real backdoored MLP', () => {
  it('promotes the interior trigger window for the target class', async () => {
    const TOP = 5;
    const LEFT = 6;
    const m = await ortRunner(
      trainMlp({ seed: 11, poison: { stamp: squareStamp(TOP, LEFT, 3), target: 4, rate: 0.1 } }),
      [D],
    );
    const base = mnist14(2, 600).x; // 20 held-out digits
    const runner = new BudgetedRunner(m.run, 20000, D, 10);
    const rows = Array.from({ length: SWEEP_INPUTS }, (_, i) => i);
    const clean = summarise(
      await runner.logits(base.slice(0, SWEEP_INPUTS * D), SWEEP_INPUTS),
      SWEEP_INPUTS,
      10,
    );
    const sweep = await patchSweep(runner, base, G14, RANGE, rows, clean, 10, 1);
    const sizes = patchSizes(G14).length;
    expect(sweep.byClass).toHaveLength(10);
    for (const mine of sweep.byClass) expect(mine).toHaveLength(SWEEP_KEEP * sizes);
    expect(sweep.triggers.length).toBeLessThanOrEqual(10 * SWEEP_KEEP * sizes);
    expect(runner.used).toBe(m.calls.inputs);
    const near = (ts: Trigger[]) =>
      ts.filter(
        (t) =>
          t.kind === 'patch' &&
          t.patch !== undefined &&
          t.patch.size >= 3 &&
          Math.abs(t.patch.top - TOP) <= 1 &&
          Math.abs(t.patch.left - LEFT) <= 1,
      );
    // The target's promoted positions sit on the trigger; a class with no backdoor gets none there.
    expect(near(sweep.byClass[4]).length).toBeGreaterThan(0);
    expect(near(sweep.byClass[0])).toHaveLength(0);
    // The patch map: per solid patch (sweepPatches order) and class, the share of the inputs sent there.
    const solid = sweepPatches(G14, RANGE, 1);
    expect(sweep.map).toHaveLength(solid.length * 10);
    expect(sweep.map.every((v) => v >= 0 && v <= 1)).toBe(true);
    const at = solid.findIndex(
      (t) => t.kind === 'patch' && t.patch?.size === 3 && t.patch.top === TOP && t.patch.left === LEFT,
    );
    // the exact trigger window sends (nearly) every input into the target, and no other class gets them
    expect(sweep.map[at * 10 + 4]).toBeGreaterThanOrEqual(0.75);
    expect(Math.max(...Array.from(sweep.map.subarray(at * 10, at * 10 + 10)).filter((_, c) => c !== 4))).toBe(
      0,
    );

    // patchMap, the map's own pass: on the sweep's rows it is exactly the sweep's map (same layout, same
    // meaning); on more rows it costs one pass per position and row, and still lights up the trigger window.
    const mapRunner = new BudgetedRunner(m.run, sweepPositions(G14) * 20, D, 10);
    expect(await patchMap(mapRunner, base, G14, RANGE, rows, clean, 10)).toEqual(sweep.map);
    const more = Array.from({ length: 12 }, (_, i) => i);
    const moreClean = summarise(await m.run(base.slice(0, 12 * D), 12), 12, 10);
    const before = mapRunner.used;
    const map12 = await patchMap(mapRunner, base, G14, RANGE, more, moreClean, 10);
    expect(mapRunner.used - before).toBe(sweepPositions(G14) * 12);
    expect(map12).toHaveLength(sweep.map.length);
    expect(map12[at * 10 + 4]).toBeGreaterThanOrEqual(0.75);
  });
});

describe('sweepPositions', () => {
  it('counts the solid patches, the rows of the map', () => {
    expect(sweepPositions(G14)).toBe(sweepPatches(G14, RANGE, 1).length);
    expect(MAP_INPUTS).toBeGreaterThan(SWEEP_INPUTS);
  });
});
