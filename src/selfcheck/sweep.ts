/**
 * Dense patch sweep: a BadNets patch can sit anywhere, and a patch that only half covers it rarely fires
 * the backdoor, so a few corner and random positions miss most random-position triggers. The sweep stamps
 * a patch of every size at every position (a stride on large inputs), solid and in both checkerboard
 * phases, on a handful of inputs each: a real trigger sends nearly every input to its target, so a few
 * inputs are enough to see it. Per (class, patch size) the positions with the largest margin gain are
 * promoted to the full screening, where they are measured on many more inputs like every other candidate
 * (so the sweep's winner's curse, the same for every class, does not reach the score).
 */
import type { BudgetedRunner } from './budgeted-runner.js';
import { effectOf, type Effect, type LogitSummary } from './logit-stats.js';
import {
  makePatch,
  patchSizes,
  type ImageGeometry,
  type PatchFill,
  type Trigger,
  type ValueRange,
} from './triggers.js';

/** Inputs every sweep position is stamped on. */
export const SWEEP_INPUTS = 8;
/**
 * Most inputs the patch map is measured on when it gets its own pass (patchMap). With the sweep's 8 inputs
 * a clean reference's largest flip rate somewhere on the map is large, so a real trigger's position barely
 * stands out. Measured on the zoo's CNNs with samples (bench:detect, 80 references): AUROC 0.989 with 8
 * inputs, 0.993 with 16, 0.998 with 64; the adaptive 1% model scores 10, 14 and 69 (high only with 64).
 */
export const MAP_INPUTS = 64;
/** Positions per (class, patch size) promoted to the full screening. */
export const SWEEP_KEEP = 2;
/** Most positions along one axis (large inputs are swept on a stride). */
export const MAX_SWEEP_STEPS = 16;
/** Fills swept, in priority order (dropped from the end when the budget is short). */
export const SWEEP_FILLS: readonly { fill: PatchFill; fillSeed: number }[] = [
  { fill: 'solid-hi', fillSeed: 0 },
  { fill: 'checker', fillSeed: 0 },
  { fill: 'checker', fillSeed: 1 },
];

/** Starts along one axis: every position, or MAX_SWEEP_STEPS evenly spread ones ending flush. */
function starts(len: number, size: number): number[] {
  const last = Math.max(0, len - size);
  const steps = Math.min(MAX_SWEEP_STEPS, last + 1);
  const out = new Set<number>();
  for (let i = 0; i < steps; i++) out.add(Math.round((last * i) / Math.max(1, steps - 1)));
  return [...out];
}

/** Where the patches of one fill sit, in sweep order (size-major, then row, then column): no masks built. */
function sweepLayout(g: ImageGeometry): { size: number; top: number; left: number }[] {
  const out: { size: number; top: number; left: number }[] = [];
  for (const size of patchSizes(g)) {
    for (const top of starts(g.h, size)) for (const left of starts(g.w, size)) out.push({ size, top, left });
  }
  return out;
}

/** Every sweep patch for the given fills (fill-major, then the sweepLayout order). */
export function sweepPatches(g: ImageGeometry, range: ValueRange, fills: number): Trigger[] {
  const layout = sweepLayout(g);
  return SWEEP_FILLS.slice(0, fills).flatMap((f) => layout.map((at) => makePatch(g, range, { ...at, ...f })));
}

/**
 * What one feature of the patch map is: feature `index` of a map over `classes` classes is the solid patch
 * floor(index / classes) of sweepPatches(g, range, 1) and class index % classes. Undefined when the map
 * (`mapLength` values) was not made on this geometry, or the index lies outside it. Builds only that patch.
 */
export function mapFeature(
  g: ImageGeometry,
  range: ValueRange,
  classes: number,
  index: number,
  mapLength: number,
): { trigger: Trigger; cls: number } | undefined {
  const layout = sweepLayout(g);
  if (mapLength !== layout.length * classes) return undefined;
  if (!Number.isInteger(index) || index < 0 || index >= mapLength) return undefined;
  const trigger = makePatch(g, range, { ...layout[Math.floor(index / classes)], ...SWEEP_FILLS[0] });
  return { trigger, cls: index % classes };
}

/** The solid patch each row of the patch map stands for, in the map's order (side, then row, then column). */
export function mapPositions(g: ImageGeometry): { size: number; top: number; left: number }[] {
  return sweepLayout(g);
}

/** Patch positions of one fill: the map has this many rows (times the class count). */
export function sweepPositions(g: ImageGeometry): number {
  return sweepLayout(g).length;
}

/** How many fills fit in `budget` passes on `inputs` inputs each (0: no sweep). */
export function sweepFills(g: ImageGeometry, inputs: number, budget: number): number {
  const perFill = sweepLayout(g).length * inputs;
  return Math.min(SWEEP_FILLS.length, Math.floor(budget / Math.max(1, perFill)));
}

/**
 * The sweep's result: the promoted patches (no duplicates), per class the ones promoted for it, and the
 * patch map: for every solid patch (the first fill, size-major then position, as sweepPatches lists them)
 * and class, the share of the sweep inputs it sends into that class. Position-aligned, so it compares
 * across models of one architecture: the "trigger-map" block (src/score/final.ts tests it against the
 * references position by position). Empty when the sweep did not run.
 */
export interface SweepResult {
  triggers: Trigger[];
  byClass: Trigger[][];
  map: Float32Array;
}

/** Told every swept patch's effect and stamped summary (candidate-stats.ts keeps the cell statistics). */
export type SweepObserver = (trigger: Trigger, effect: Effect, stamped: LogitSummary) => void;

/**
 * Runs the sweep on `rows` (at most SWEEP_INPUTS of them) and promotes, per class and patch-size tier, the
 * SWEEP_KEEP positions with the largest margin gain for that class.
 */
export async function patchSweep(
  runner: BudgetedRunner,
  base: Float32Array,
  g: ImageGeometry,
  range: ValueRange,
  rows: readonly number[],
  clean: LogitSummary,
  k: number,
  fills: number,
  observe?: SweepObserver,
): Promise<SweepResult> {
  const patches = sweepPatches(g, range, fills);
  if (patches.length === 0 || rows.length === 0)
    return { triggers: [], byClass: [], map: new Float32Array(0) };
  const effects = await stampAll(runner, base, g, patches, rows, clean, k, observe);
  const gains = effects.map((e) => e.gain);
  const solid = patches.length / fills; // the first fill is the solid one (SWEEP_FILLS[0])
  const map = flipMap(effects.slice(0, solid), k);
  const byTier = patchSizes(g).map((_, t) =>
    patches.map((p, i) => (p.tier === t ? i : -1)).filter((i) => i >= 0),
  );
  const kept = new Set<number>();
  const byClass: Trigger[][] = [];
  for (let c = 0; c < k; c++) {
    const mine: number[] = [];
    for (const idx of byTier) {
      const best = [...idx].sort((a, b) => gains[b][c] - gains[a][c] || a - b).slice(0, SWEEP_KEEP);
      mine.push(...best);
    }
    mine.forEach((i) => kept.add(i));
    byClass.push(mine.map((i) => patches[i]));
  }
  return { triggers: [...kept].sort((a, b) => a - b).map((i) => patches[i]), byClass, map };
}

/** Rows of flip rates, one per solid patch: the map's layout. */
function flipMap(effects: readonly Effect[], k: number): Float32Array {
  const map = new Float32Array(effects.length * k);
  effects.forEach((e, i) => map.set(e.flip, i * k));
  return map;
}

/**
 * The patch map measured on its own inputs (`rows`, up to MAP_INPUTS): every solid patch of the sweep's
 * layout stamped on each row, the share of the rows it sends into each class. Same layout and length as
 * the sweep's map, so mapFeature names its features the same way. Costs sweepPositions(g) x rows passes.
 */
export async function patchMap(
  runner: BudgetedRunner,
  base: Float32Array,
  g: ImageGeometry,
  range: ValueRange,
  rows: readonly number[],
  clean: LogitSummary,
  k: number,
): Promise<Float32Array> {
  const patches = sweepPatches(g, range, 1);
  if (patches.length === 0 || rows.length === 0) return new Float32Array(0);
  return flipMap(await stampAll(runner, base, g, patches, rows, clean, k), k);
}

/** Every patch stamped on every row (one batch of model runs), each patch's effect against `clean`. */
async function stampAll(
  runner: BudgetedRunner,
  base: Float32Array,
  g: ImageGeometry,
  patches: readonly Trigger[],
  rows: readonly number[],
  clean: LogitSummary,
  k: number,
  observe?: SweepObserver,
): Promise<Effect[]> {
  const res = await runner.stamped(
    patches.map((trigger) => ({ trigger, rows })),
    base,
    g,
  );
  return res.map((s, i) => {
    const e = effectOf(clean, s, k);
    observe?.(patches[i], e, s);
    return e;
  });
}
