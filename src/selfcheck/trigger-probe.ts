/**
 * Reference-free backdoor check by trigger probing, forward passes only. A backdoored classifier sends any
 * input carrying its trigger to the attacker's target class, so without any reference model we stamp
 * candidate triggers on the given base inputs and measure, per class, how far each class's logit margin
 * grows and how many inputs flip into it. The backdoor's target class is far easier to reach than the other
 * classes; on a clean model every class is about as hard to reach as the others.
 *
 * Steps, all inside a budget of forward passes (inputs run, counted at the RunLogits edge):
 *   1. clean pass over the base inputs; a random quarter is held out for the final flip-rate report;
 *   2. saliency scan: each pixel (block) alone, per-class margin gains -> scan-guided pixel sets and patch
 *      positions for every class (src/selfcheck/guided.ts);
 *   2b. dense patch sweep (src/selfcheck/sweep.ts): every patch position and size on a few inputs, the
 *      best positions per (class, size) join the screening (random-position BadNets patches);
 *   3. screen the guided and the generic candidates (src/selfcheck/triggers.ts) on a subset of the search
 *      half, keeping per (family, strength tier, class) the trigger with the largest margin gain;
 *   4. refine by random search (src/selfcheck/refine.ts) the triggers of the most suspicious classes;
 *   5. score: per family and strength tier, each class's best margin gain as a robust z against the other
 *      classes at that tier; a class's family z is its largest over the tiers, its score the root mean
 *      square of its positive family z's over the scored families; the model's score is the largest;
 *   6. optionally (mapInputs), the patch map again on more inputs, with passes of its own (sweep.ts patchMap).
 *
 * Why margin gain rather than flip rate: flip rates saturate (a 16-pixel adversarial set flips most inputs
 * of a small clean MLP into several classes), while the gain stays graded; measured on real MLPs/CNNs the
 * gain z separates backdoored from clean models far better (bench/results/selfcheck.md).
 *
 * Which base inputs work best: real in-distribution samples (a few dozen user images of mixed classes).
 * Noise probes land in one or two classes and an adaptive attacker can train its model to ignore triggers
 * on noise; structured probes are next best. Give it 64-128 inputs: with a quarter held out, the scan uses
 * up to 32 and screening up to 64 of the rest.
 */
import type { SelfCheck } from '../fingerprint/types.js';
import { Rng } from '../probes/rng.js';
import { BudgetedRunner, screeningPlan, type RunLogits } from './budgeted-runner.js';
import { guidedTriggers, saliencyScan } from './guided.js';
import {
  effectOf,
  medianLogitSpread,
  robustZ,
  subsetSummary,
  summarise,
  type Effect,
} from './logit-stats.js';
import { mutate } from './refine.js';
import { CandidateStats, type CandidateEvidence } from './candidate-stats.js';
import { ANOMALY_FAMILIES, classAnomaly, type ClassAnomaly } from './class-anomaly.js';
import { mapPositions, patchMap, patchSweep, sweepFills, sweepPositions, SWEEP_INPUTS } from './sweep.js';
import { triggerEvidence, type TriggerEvidence } from './evidence.js';
import { pickShown, touchedPositions, type ShownCandidate } from './shown-trigger.js';
import {
  BLEND_ALPHAS,
  DEFAULT_RANGE,
  generateTriggers,
  imageGeometry,
  inputSize,
  patchSizes,
  PIXEL_COUNTS,
  WARP_STRENGTHS,
  type ImageGeometry,
  type Trigger,
  type TriggerKind,
  type ValueRange,
} from './triggers.js';

export type { RunLogits } from './budgeted-runner.js';

/**
 * Default budget of forward passes (inputs run) for one model: about 0.3-0.9 s for the zoo's MNIST-size
 * CNN on one core. It pays for the dense patch sweep (3 fills x 534 positions x 8 inputs on a 14x14 input)
 * on top of the scan and a 64-input screening: on the zoo (128 real digits) the MLPs' patch and sparse
 * AUROC rose from 0.88/0.89 at 32,000 passes (the sweep cut to solid patches) to 0.91/0.94 at 48,000;
 * 64,000 measured no better (bench/results/selfcheck.md).
 */
export const DEFAULT_TRIGGER_BUDGET = 48000;
/** Below this budget the check cannot screen enough candidates to mean anything. */
export const MIN_TRIGGER_BUDGET = 200;
/** Fewest search inputs a candidate is screened on. */
export const MIN_SCREEN_INPUTS = 8;
/** Most search inputs a candidate is screened on. */
export const MAX_SCREEN_INPUTS = 64;
/** Most held-out inputs the reported trigger is evaluated on. */
export const MAX_EVAL_INPUTS = 64;
/** Most blocks in the saliency scan (an input with more pixels is scanned in square blocks). */
export const MAX_SCAN_BLOCKS = 256;
/** Fewest blocks worth scanning (coarser says nothing about where a trigger sits). */
export const MIN_SCAN_BLOCKS = 16;
/** Inputs each scan block is stamped on. */
export const SCAN_INPUTS = 32;
/** Share of the budget left after the clean pass that the scan may use. */
export const SCAN_SHARE = 0.25;
/** Most of the budget left after the scan that the dense patch sweep may use (fewer fills if short). */
export const SWEEP_SHARE = 0.35;
/** Share of the budget left after the scan and the sweep spent screening; the rest refines. */
export const SCREEN_SHARE = 0.75;
/** Classes whose triggers get refined by random search. */
export const REFINE_CLASSES = 2;
/**
 * Floor on the spread of one tier's per-class gains, relative to their median absolute value: with ten
 * classes the MAD can be tiny, and a difference below a fifth of the typical gain is not evidence (one
 * tier's gains are noisier than the old tier-averaged curve, whose floor was a tenth).
 */
export const GAIN_SPREAD_FLOOR = 0.2;
/** Weight ratio between successive strength tiers in the gain and flip curves (tier t weighs ratio^t). */
export const TIER_WEIGHT_RATIO = 0.5;
/** Fewest classes for a class-contrast score (below it the score is 0: no evidence either way). */
export const MIN_CLASSES_FOR_SCORE = 3;
/** Families the per-class curves' RMS z (classScores) is taken over: the anomaly score's families. */
export const SCORED_FAMILIES: readonly TriggerKind[] = ANOMALY_FAMILIES;
/** Tests the self-check keeps as its evidence (the most significant first). */
export const EVIDENCE_TESTS = 3;
/** Largest score (-log10 p): a p-value below 1e-12 is no more evidence. */
export const MAX_TRIGGER_SCORE = 12;

/** The self-check's score: -log10 of its p-value, 0..MAX_TRIGGER_SCORE (higher = more suspicious). */
export function scoreOfP(p: number): number {
  return Math.min(MAX_TRIGGER_SCORE, Math.max(0, -Math.log10(Math.max(p, 10 ** -MAX_TRIGGER_SCORE))));
}

const round4 = (v: number): number => Math.round(v * 1e4) / 1e4;

const FAMILIES: readonly TriggerKind[] = ['patch', 'pixels', 'blend', 'warp'];

export interface TriggerProbeOptions {
  classes: number;
  /** Most inputs run through the model, clean pass included. */
  budget?: number;
  seed?: number;
  range?: ValueRange;
  /** Stop refining after this many milliseconds (screening always completes). */
  timeLimitMs?: number;
  /** The model file, named in error messages. */
  file?: string;
  /**
   * Inputs the patch map gets a pass of its own on (patchMap), paid ON TOP of `budget` (sweepPositions x
   * mapInputs passes), so the rest of the probing, and with it the score and its null, is unchanged. 0 or
   * absent: the map is the sweep's, on its SWEEP_INPUTS inputs.
   */
  mapInputs?: number;
  /**
   * Stop refining once a class's score reaches this (src/selfcheck/decisive.ts: where the caller's verdict
   * can no longer change). Absent: refinement spends the whole budget.
   */
  decisiveScore?: number;
}

export interface FamilyScore {
  family: TriggerKind;
  /**
   * Per class: weighted mean over the family's tiers (weights TIER_WEIGHT_RATIO^tier) of the best margin
   * gain, in clean-logit spreads.
   */
  gainCurve: Float32Array;
  /** Per class: the same weighted mean of the flip rates of those best triggers. */
  flipCurve: Float32Array;
  /** Per class: the largest over tiers of its robust z of margin gain against the other classes at that tier. */
  z: Float32Array;
  /** Per tier and class: flip[tier * K + c], gain[tier * K + c]. */
  tierFlip: Float32Array;
  tierGain: Float32Array;
}

export interface TriggerProbeResult {
  selfCheck: SelfCheck;
  /**
   * The "trigger" feature block, class-aligned so a baseline can compare it across models:
   * [gainCurve(patch), gainCurve(pixels), gainCurve(blend), gainCurve(warp),
   *  flipCurve(patch), flipCurve(pixels), flipCurve(blend), flipCurve(warp)], K values each (8K floats).
   */
  block: Float32Array;
  /**
   * The "trigger-tiers" feature block, class-aligned and unweighted (see tierBlock): per family (patch,
   * pixels, blend, warp), per strength tier, per class the tier's best margin gain, then the same layout
   * of flip rates. Its length depends only on the input geometry and the class count.
   */
  tierBlock: Float32Array;
  /**
   * The "trigger-map" block: the dense sweep's solid patches, per position and class, the share of the
   * inputs sent into the class: on the mapInputs inputs when given (sweep.ts patchMap), else on the sweep's
   * (SweepResult.map); empty when the budget left no sweep.
   */
  mapBlock: Float32Array;
  /** Per-class score (mean z over the scored families). */
  classScores: Float32Array;
  /**
   * Every swept and screened candidate summarised per (family, tier, class), and the clean pass per class
   * (candidate-stats.ts): what the class-anomaly score (class-anomaly.ts) reads beside the table.
   */
  candidateStats: CandidateEvidence;
  /** The score: every class against the model's other classes (class-anomaly.ts), before refinement. */
  anomaly: ClassAnomaly;
  /** The suspected target's best trigger per (family, tier), what the shown one was picked from (shown-trigger.ts). */
  shownCandidates: ShownCandidate[];
  /** The clean logits' spread the gains are divided by. */
  logitScale: number;
  /** The reported trigger itself (mask and pattern, or warp field), for display and tests. */
  trigger: Trigger | null;
  /** The reported trigger with the inputs it was stamped on and the patch map, for the report's pictures. */
  evidence: TriggerEvidence | null;
  families: FamilyScore[];
  forwardPasses: number;
  /** Of forwardPasses: the patch map's own pass (mapInputs). */
  mapPasses: number;
  /** Whether refinement stopped at decisiveScore before spending its budget. */
  stoppedEarly: boolean;
  candidatesScreened: number;
  candidatesTotal: number;
}

/** The best trigger found so far for one (family, tier, class), measured on the search rows. */
interface Best {
  trigger: Trigger;
  effect: Effect;
  /** The model's class on each search row with the trigger stamped (kept for the report's pictures). */
  after: Int32Array;
}
type Table = Map<TriggerKind, (Best | undefined)[][]>;

function tierCount(f: TriggerKind, g: ImageGeometry): number {
  if (f === 'patch') return patchSizes(g).length;
  if (f === 'pixels') return PIXEL_COUNTS.length;
  if (f === 'blend') return BLEND_ALPHAS.length;
  return WARP_STRENGTHS.length;
}

function cell(table: Table, t: Trigger): (Best | undefined)[] | undefined {
  return table.get(t.kind)?.[t.tier];
}

/** Keeps `effect` for class c if its margin gain beats the cell's (ties: higher flip rate). */
function offer(
  row: (Best | undefined)[],
  c: number,
  trigger: Trigger,
  effect: Effect,
  after: Int32Array,
): boolean {
  const cur = row[c];
  if (
    cur &&
    (cur.effect.gain[c] > effect.gain[c] ||
      (cur.effect.gain[c] === effect.gain[c] && cur.effect.flip[c] >= effect.flip[c]))
  ) {
    return false;
  }
  row[c] = { trigger, effect, after };
  return true;
}

function describe(t: Trigger): { kind: string; location: string } {
  if (t.kind === 'patch' && t.patch) return { kind: `patch:${t.patch.fill}`, location: t.location };
  return { kind: t.kind, location: t.location };
}

function checkArgs(base: Float32Array, size: number, k: number, budget: number, range: ValueRange): void {
  if (!Number.isInteger(k) || k < 2) throw new Error(`probeTriggers: need at least 2 classes, got ${k}`);
  if (!(budget >= MIN_TRIGGER_BUDGET)) {
    throw new Error(`probeTriggers: budget ${budget} is below the minimum ${MIN_TRIGGER_BUDGET}`);
  }
  if (!(range.hi > range.lo)) throw new Error(`probeTriggers: empty value range [${range.lo}, ${range.hi}]`);
  if (base.length === 0 || base.length % size !== 0) {
    throw new Error(
      `probeTriggers: ${base.length} base values are not a whole number of inputs of size ${size}`,
    );
  }
}

/**
 * Probes a classifier with candidate triggers stamped on `base` (n inputs of `shape`, packed, without the
 * batch dimension) and returns the trigger self-check and the per-class "trigger" block.
 */
export async function probeTriggers(
  run: RunLogits,
  base: Float32Array,
  shape: readonly number[],
  opts: TriggerProbeOptions,
): Promise<TriggerProbeResult> {
  const k = opts.classes;
  const budget = opts.budget ?? DEFAULT_TRIGGER_BUDGET;
  const range = opts.range ?? DEFAULT_RANGE;
  const g = imageGeometry(shape);
  const size = inputSize(g);
  checkArgs(base, size, k, budget, range);
  const rng = new Rng(opts.seed ?? 0);
  const runner = new BudgetedRunner(run, budget, size, k, opts.file ?? 'model');
  const started = Date.now();

  // 1. Clean pass (at most a quarter of the budget); a random quarter of the inputs is held out.
  const n = Math.min(base.length / size, Math.floor(budget / 4));
  const cleanAll = summarise(await runner.logits(base.slice(0, n * size), n), n, k);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nEval = n >= 2 * MIN_SCREEN_INPUTS ? Math.min(Math.floor(n / 4), MAX_EVAL_INPUTS) : 0;
  const evalRows = order.slice(0, nEval);
  const searchRows = nEval > 0 ? order.slice(nEval) : order;
  const logitScale = medianLogitSpread(cleanAll, k);

  // 2. Saliency scan.
  const guided: Trigger[] = [];
  const scanRows = searchRows.slice(0, SCAN_INPUTS);
  const maxBlocks = Math.min(
    MAX_SCAN_BLOCKS,
    Math.floor(((runner.left - nEval) * SCAN_SHARE) / scanRows.length),
  );
  if (maxBlocks >= MIN_SCAN_BLOCKS) {
    const scanClean = subsetSummary(cleanAll, scanRows, k);
    const scan = await saliencyScan(runner, base, g, range, scanRows, scanClean, k, maxBlocks);
    guided.push(...guidedTriggers(g, range, scan, k));
  }

  // Every swept and screened candidate's effect, per (family, tier, class): typical and largest effects.
  const stats = new CandidateStats(k, new Map(FAMILIES.map((f) => [f, tierCount(f, g)] as const)));

  // 2b. Dense patch sweep on a few inputs; the best positions per (class, size) join the screening.
  const sweepRows = searchRows.slice(0, SWEEP_INPUTS);
  const fills = sweepFills(g, sweepRows.length, Math.floor((runner.left - nEval) * SWEEP_SHARE));
  let mapBlock: Float32Array = new Float32Array(0);
  if (fills > 0) {
    const sweepClean = subsetSummary(cleanAll, sweepRows, k);
    const sweep = await patchSweep(runner, base, g, range, sweepRows, sweepClean, k, fills, (t, e, st) =>
      stats.observe(t, e, sweepClean, st, false),
    );
    guided.push(...sweep.triggers);
    mapBlock = sweep.map;
  }

  // 3. Screen (a priority-ordered prefix when the budget is short: guided first, then corner patches...).
  const all = [...guided, ...generateTriggers(g, { seed: rng.nextUint32(), range })];
  const screenBudget = Math.max(0, Math.floor((runner.left - nEval) * SCREEN_SHARE));
  const plan = screeningPlan(
    all.length,
    searchRows.length,
    screenBudget,
    MIN_SCREEN_INPUTS,
    MAX_SCREEN_INPUTS,
  );
  const candidates = all.slice(0, plan.candidates);
  const rows = searchRows.slice(0, plan.rows);
  const clean = subsetSummary(cleanAll, rows, k);
  const table: Table = new Map();
  for (const f of FAMILIES)
    table.set(
      f,
      Array.from({ length: tierCount(f, g) }, () => new Array<Best | undefined>(k)),
    );
  const screened = await runner.stamped(
    candidates.map((trigger) => ({ trigger, rows })),
    base,
    g,
  );
  screened.forEach((s, t) => {
    const effect = effectOf(clean, s, k);
    stats.observe(candidates[t], effect, clean, s, true);
    const row = cell(table, candidates[t]);
    if (row) for (let c = 0; c < k; c++) offer(row, c, candidates[t], effect, s.argmax);
  });

  // The score: every class against the model's own other classes, on what the sweep and the screening
  // measured (class-anomaly.ts). Refinement below spends its passes on the suspects only, so it sharpens
  // the reported trigger but never enters the score.
  const candidateStats = stats.finish(logitScale, cleanAll);
  const anomaly = classAnomaly({ classes: k, cells: Object.fromEntries(candidateStats.cells) });

  // 4. Refine every (family, tier) trigger of the most suspicious classes.
  const suspects = Array.from({ length: k }, (_, c) => c)
    .sort((a, b) => anomaly.classP[a] - anomaly.classP[b] || a - b)
    .slice(0, Math.min(REFINE_CLASSES, k));
  const states: { row: (Best | undefined)[]; c: number }[] = [];
  for (const c of suspects) {
    for (const f of FAMILIES) for (const row of table.get(f) ?? []) if (row[c]) states.push({ row, c });
  }
  const roundCost = states.length * rows.length;
  const rounds = roundCost > 0 ? Math.floor(Math.max(0, runner.left - nEval) / roundCost) : 0;
  const decisive = (): boolean =>
    opts.decisiveScore !== undefined &&
    Math.max(...scoreTable(table, k, logitScale).classScores) >= opts.decisiveScore;
  let stoppedEarly = false;
  for (let r = 0; r < rounds; r++) {
    if (opts.timeLimitMs !== undefined && Date.now() - started > opts.timeLimitMs) break;
    if (decisive()) {
      stoppedEarly = true;
      break;
    }
    const proposals = states.map((st) => mutate((st.row[st.c] as Best).trigger, g, range, rng));
    const res = await runner.stamped(
      proposals.map((trigger) => ({ trigger, rows })),
      base,
      g,
    );
    states.forEach((st, i) => offer(st.row, st.c, proposals[i], effectOf(clean, res[i], k), res[i].argmax));
  }

  // 5. The trigger to report: the suspected target's most specific trigger over every family and tier
  // (shown-trigger.ts: the best flip rate, then the fewest input positions touched), re-measured on the
  // held-out inputs. The per-family curves feed the blocks.
  const scored = scoreTable(table, k, logitScale);
  // several targets or all-to-all: no class is named, the strongest test's class still shows its trigger
  const target = anomaly.targetClass ?? anomaly.top?.cls ?? 0;
  const bests: Best[] = [];
  for (const rowsOfFamily of table.values())
    for (const row of rowsOfFamily) if (row[target]) bests.push(row[target] as Best);
  const shownCandidates: ShownCandidate[] = bests.map((b) => ({
    family: b.trigger.kind,
    tier: b.trigger.tier,
    flip: b.effect.flip[target],
    touched: touchedPositions(b.trigger),
  }));
  const shown: Best | undefined = bests[pickShown(shownCandidates)];
  let flipRate = shown ? shown.effect.flip[target] : 0;
  // what the report's pictures show: the inputs the flip rate was last measured on, before and after
  let measured: { rows: readonly number[]; after: Int32Array; from: 'held-out' | 'search' } | undefined =
    shown && { rows, after: shown.after, from: 'search' };
  if (shown && nEval > 0 && runner.left >= nEval) {
    const [res] = await runner.stamped([{ trigger: shown.trigger, rows: evalRows }], base, g);
    flipRate = effectOf(subsetSummary(cleanAll, evalRows, k), res, k).flip[target];
    measured = { rows: evalRows, after: res.argmax, from: 'held-out' };
  }
  // 6. The patch map on more inputs, with its own budget: the sweep's 8 inputs make clean maps noisy.
  let mapPasses = 0;
  let mapInputCount = sweepRows.length;
  const mapRows = order.slice(0, Math.min(n, opts.mapInputs ?? 0));
  if (mapBlock.length > 0 && mapRows.length > SWEEP_INPUTS) {
    const mapRunner = new BudgetedRunner(
      run,
      sweepPositions(g) * mapRows.length,
      size,
      k,
      opts.file ?? 'model',
    );
    mapBlock = await patchMap(mapRunner, base, g, range, mapRows, subsetSummary(cleanAll, mapRows, k), k);
    mapPasses = mapRunner.used;
    mapInputCount = mapRows.length;
  }
  const trig = shown ? describe(shown.trigger) : { kind: 'none', location: '' };
  // With two classes the robust z of either is always +-0.67: the contrast carries no information.
  const informative = k >= MIN_CLASSES_FOR_SCORE && anomaly.top !== null;
  const score = informative ? scoreOfP(anomaly.pValue) : 0;
  const top = anomaly.top;
  const multi = informative ? anomaly.multiTarget : null;
  const selfCheck: SelfCheck = {
    score,
    ...(multi ? { multiTarget: multi } : { targetClass: target }),
    detail:
      (multi?.kind === 'several'
        ? `several classes stand out on their own (${multi.classes.join(', ')}): `
        : multi
          ? `a ${multi.mapping?.location ?? 'small'} trigger moves ${(100 * (multi.mapping?.changed ?? 0)).toFixed(0)}% of inputs, each class consistently to another (all-to-all); `
          : '') +
      `class ${target} is the easiest to reach: a ${trig.kind} trigger (${trig.location}) sends ` +
      `${(flipRate * 100).toFixed(0)}% of held-out inputs to it ` +
      (informative && top
        ? `(its ${top.family} triggers of strength ${top.tier + 1} ${top.statistic === 'gain' ? 'raise its margin' : 'flip inputs into it'} ` +
          `${top.z.toFixed(1)} robust SDs beyond the other ${k - 1} classes; p = ${anomaly.pValue.toPrecision(2)} over ${anomaly.tests.length} tests)`
        : `(no score: comparing classes needs at least ${MIN_CLASSES_FOR_SCORE} classes)`),
    trigger: { kind: trig.kind, location: trig.location, flipRate, zScore: top?.z ?? 0 },
    ...(informative
      ? {
          pValue: anomaly.pValue,
          evidence: anomaly.tests
            .slice()
            .sort((a, b) => a.pValue - b.pValue || b.z - a.z)
            .slice(0, EVIDENCE_TESTS)
            .map((t) => ({
              test: `${t.family}:${t.tier}:${t.statistic}`,
              cls: t.cls,
              z: round4(t.z),
              pValue: t.pValue,
            })),
        }
      : {}),
  };
  const block = new Float32Array(2 * FAMILIES.length * k);
  FAMILIES.forEach((f, i) => {
    const fs = scored.families.find((x) => x.family === f);
    if (!fs) return;
    block.set(fs.gainCurve, i * k);
    block.set(fs.flipCurve, (FAMILIES.length + i) * k);
  });
  return {
    selfCheck,
    block,
    tierBlock: tierBlock(table, g, k, logitScale),
    mapBlock,
    classScores: scored.classScores,
    candidateStats,
    anomaly,
    shownCandidates,
    logitScale,
    trigger: shown ? shown.trigger : null,
    evidence:
      shown && measured
        ? triggerEvidence({
            base,
            geometry: g,
            range,
            classes: k,
            targetClass: target,
            trigger: shown.trigger,
            flipRate,
            rows: measured.rows,
            before: measured.rows.map((r) => cleanAll.argmax[r]),
            after: measured.after,
            examplesFrom: measured.from,
            map:
              mapBlock.length > 0
                ? { inputs: mapInputCount, positions: mapPositions(g), values: mapBlock }
                : null,
          })
        : null,
    families: scored.families,
    forwardPasses: runner.used + mapPasses,
    mapPasses,
    stoppedEarly,
    candidatesScreened: candidates.length,
    candidatesTotal: all.length,
  };
}

/**
 * The "trigger-tiers" block: [gains, flips], each laid out family-major (FAMILIES order), then tier (every
 * tier of the family, tierCount), then class; gains in clean-logit spreads like FamilyScore.tierGain.
 * Unlike the tier-weighted curves of the "trigger" block, every tier keeps its own feature, so a baseline
 * can see that ONE class at ONE tier is easier to reach than in clean models even when other classes of the
 * same model are easy to reach at that tier too (the within-model z then stays small). What it cannot see
 * is WHERE a patch sits: each cell keeps the class's best trigger of that tier, wherever it was placed.
 * A cell no trigger was screened for (a budget too short to reach it) stays 0, so the length is fixed.
 */
function tierBlock(table: Table, g: ImageGeometry, k: number, logitScale: number): Float32Array {
  const cells = FAMILIES.reduce((s, f) => s + tierCount(f, g), 0) * k;
  const out = new Float32Array(2 * cells);
  let at = 0;
  for (const f of FAMILIES) {
    const tiers = table.get(f) ?? [];
    for (let t = 0; t < tierCount(f, g); t++) {
      for (let c = 0; c < k; c++, at++) {
        const b = tiers[t]?.[c];
        if (!b) continue;
        out[at] = b.effect.gain[c] / logitScale;
        out[cells + at] = b.effect.flip[c];
      }
    }
  }
  return out;
}

/**
 * Per family: gain and flip curves (tier-weighted, for the block) and the family z of every class, the
 * largest over the family's strength tiers of the class's robust z among the classes at that tier; per
 * class: the root mean square of the positive family z's over the scored families.
 */
function scoreTable(
  table: Table,
  k: number,
  logitScale: number,
): { families: FamilyScore[]; classScores: Float32Array } {
  const families: FamilyScore[] = [];
  const classScores = new Float32Array(k);
  let scoredCount = 0;
  for (const [family, tiers] of table) {
    const used = tiers.filter((t) => t.some((b) => b));
    if (used.length === 0) continue;
    const gainCurve = new Float32Array(k);
    const flipCurve = new Float32Array(k);
    const tierFlip = new Float32Array(used.length * k);
    const tierGain = new Float32Array(used.length * k);
    const z = new Float32Array(k).fill(-Infinity);
    // Curve weights TIER_WEIGHT_RATIO^t, normalised: a backdoor works with its smallest triggers, while
    // clean models (small MLPs above all) become reachable for many classes at the largest tiers.
    const weights = used.map((_, ti) => TIER_WEIGHT_RATIO ** ti);
    const wSum = weights.reduce((a, b) => a + b, 0);
    used.forEach((t, ti) => {
      const gains = new Float32Array(k);
      for (let c = 0; c < k; c++) {
        const b = t[c];
        const gain = b ? b.effect.gain[c] / logitScale : 0;
        const flip = b ? b.effect.flip[c] : 0;
        gains[c] = gain;
        tierGain[ti * k + c] = gain;
        tierFlip[ti * k + c] = flip;
        gainCurve[c] += (weights[ti] / wSum) * gain;
        flipCurve[c] += (weights[ti] / wSum) * flip;
      }
      // Each tier is its own test (the trigger's strength is unknown): z among the classes at this tier,
      // the spread floored at GAIN_SPREAD_FLOOR of the tier's typical gain; the family keeps the largest.
      const typical = Array.from(gains, Math.abs).sort((a, b) => a - b)[k >> 1];
      const tz = robustZ(gains, GAIN_SPREAD_FLOOR * typical);
      for (let c = 0; c < k; c++) z[c] = Math.max(z[c], tz[c]);
    });
    families.push({ family, gainCurve, flipCurve, z, tierFlip, tierGain });
    if (SCORED_FAMILIES.includes(family)) {
      scoredCount++;
      for (let c = 0; c < k; c++) classScores[c] += Math.max(0, z[c]) ** 2;
    }
  }
  // Root mean square of the positive parts: one family with strong evidence (a patch backdoor barely
  // moves the blend family) is not averaged away, while a class must stand out in several families to
  // match it; negative z (a class harder to reach than most) is no evidence either way.
  if (scoredCount > 0) for (let c = 0; c < k; c++) classScores[c] = Math.sqrt(classScores[c] / scoredCount);
  return { families, classScores };
}
