/**
 * Reference-free trigger inversion by optimisation (Neural Cleanse, Wang et al., S&P 2019), with a
 * K-Arm-style schedule (Shen et al., ICML 2021) over the candidate classes. For a candidate target class c it
 * optimises a mask m = sigmoid(a) (one value per pixel, [1,1,H,W]) and a pattern p = sigmoid(b) ([1,C,H,W])
 * so that x' = (1 - m) x + m p sends the base inputs to c, minimising
 *
 *     cross-entropy(model(x'), c) + lambda * |m|_1
 *
 * by Adam (adam.ts) on the logits a and b, through one gradient session of the model (src/model/grad: the
 * objective and its gradient in one ONNX Runtime run). lambda follows the Neural Cleanse rule: raised while
 * the batch flips into c at the target rate, lowered while it does not, so the mask shrinks as far as it can
 * while still flipping. A backdoor's target class is reached with a mask the size of its trigger; every
 * other class needs a mask large enough to draw that class's features, so the target's mask L1 is a
 * small-side outlier among the model's classes.
 *
 * Schedule (successive halving, K-Arm's idea of spending steps on the arms that look promising): every
 * class gets a short warm-up; then, round after round, the classes are ranked by their cost (the smallest
 * mask L1 that reached the flip rate, or, not yet reached, the current L1 plus a penalty for the share not
 * flipped) and only the better half keeps optimising. The total is INVERSION_STEPS_PER_CLASS x classes
 * steps (or what the caller's MAC budget affords), a function of the model and the inputs, never the clock.
 *
 * Score: each class's cost, as a robust z against the model's other classes (median and MAD, MAD floored),
 * on the small side: the anomaly index of Neural Cleanse. The model's score is the largest index; the class
 * with the smallest cost is the suspected target. Measured on the zoo (bench/results/inversion.md), the
 * smallest cost itself (perClass[targetClass].cost) separates backdoored from clean models better than the
 * index, which was near chance there: read both.
 *
 * Deterministic: seeded initial parameters, a fixed input order, single-threaded ONNX Runtime by default.
 * A graph the gradient builder cannot differentiate is not assessed, with the operators named.
 */
import type { OnnxModel } from '../model/types.js';
import {
  buildGradientGraph,
  GradientSession,
  GradientSpecError,
  GradientUnsupported,
  type GradientResult,
} from '../model/grad/index.js';
import { Rng } from '../probes/rng.js';
import { INVERSION_BATCH, INVERSION_MAX_CLASSES, INVERSION_STEPS_PER_CLASS } from '../limits.js';
import { Adam } from './adam.js';
import { median } from '../util/robust-stats.js';
import { robustZ } from './logit-stats.js';
import type { ValueRange } from './triggers.js';

/** Share of a class's batch the mask must flip into the class to count as reaching it (tuned on the dev half, bench/inversion.ts). */
export const INVERSION_FLIP_TARGET = 0.9;
/** Starting weight of the mask's L1 term (Neural Cleanse's lambda, on the mask's sum). */
export const INVERSION_LAMBDA = 0.01;
/** Factor lambda moves by at every step (up while the target rate is met, down while it is not). */
export const LAMBDA_FACTOR = 1.2;
/** Adam's step size on the mask and pattern logits. */
export const INVERSION_LR = 0.2;
/** Share of the steps per class every class gets before any is dropped. */
export const WARMUP_SHARE = 1 / 3;
/** The MAD is floored at this share of the median cost (a model whose classes all cost the same is no outlier). */
export const MAD_FLOOR_SHARE = 0.05;
/** Fewest inputs outside a class that make its batch (fewer: the class is not a candidate). */
export const MIN_INVERSION_INPUTS = 4;
/** Mask logit that reads as "no mask" (sigmoid(-40) ~ 4e-18: x' equals x in float32). */
const NO_MASK_LOGIT = -40;

export interface InversionOptions {
  classes: number;
  seed?: number;
  /** The base inputs' value range (probe space); the pattern spans it. Default [0, 1]. */
  range?: ValueRange;
  /** Per-channel normalisation the model expects after the probe space (--input-mean/--input-std). */
  normalize?: { mean: number[]; std: number[] };
  /** Gradient steps per class on average (default INVERSION_STEPS_PER_CLASS). */
  stepsPerClass?: number;
  batch?: number;
  lambda?: number;
  flipTarget?: number;
  /** Adam's step size (default INVERSION_LR). */
  lr?: number;
  /**
   * 'k-arm' (default): successive halving over the classes after the warm-up; 'flat': every class the same
   * steps (Neural Cleanse as published; the costs compare at equal effort).
   */
  schedule?: 'k-arm' | 'flat';
  /** ONNX Runtime threads (default 1: bit-reproducible). */
  threads?: number;
  /** The file named in messages. */
  file?: string;
}

export interface ClassInversion {
  /** The class's cost: the smallest mask L1 that flipped the target share, else a penalised current L1. */
  cost: number;
  /** Whether any step reached the flip target. */
  reached: boolean;
  /** Gradient steps spent on the class. */
  steps: number;
  /** The cost after the warm-up (every class the same steps so far). */
  warmupCost: number;
  /** Inputs in its batch (base inputs the model does not already put in the class). */
  inputs: number;
}

export interface InversionAssessed {
  assessed: true;
  /** The largest small-side anomaly index (Neural Cleanse's), 0 when no class stands out. */
  score: number;
  targetClass: number;
  /** Per class: small-side anomaly index (positive: smaller mask than the median class). */
  anomaly: Float32Array;
  perClass: ClassInversion[];
  /** The suspected class's best mask ([H*W], in [0, 1]) and pattern ([C*H*W], probe space). */
  mask: Float32Array;
  pattern: Float32Array;
  /** Share of the base inputs outside the optimisation batch (or, with none, of the batch) that the suspected trigger flips. */
  flipRate: number;
  /** Gradient-session runs (forward+backward of a batch), clean pass and evaluation included. */
  runs: number;
  /** Gradient steps in all (<= stepsPerClass x classes). */
  steps: number;
}

export interface InversionNotAssessed {
  assessed: false;
  /** "not assessed: ..." with the reason (an operator without a gradient rule, an input that is no image). */
  reason: string;
}

export type InversionResult = InversionAssessed | InversionNotAssessed;

/** Per-class optimisation state. */
interface Arm {
  cls: number;
  batch: Float32Array;
  count: number;
  maskLogits: Float32Array;
  patternLogits: Float32Array;
  maskOpt: Adam;
  patternOpt: Adam;
  lambda: number;
  best: number;
  bestMask: Float32Array | null;
  bestPattern: Float32Array | null;
  last: number;
  steps: number;
  warmupCost: number;
}

function argmaxRows(logits: Float32Array, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (logits[i * k + c] > logits[i * k + best]) best = c;
    out[i] = best;
  }
  return out;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * Steps of each halving round after the warm-up: the classes are halved every round (K-Arm keeps the
 * promising arms), and the remaining budget is split evenly over the rounds, evenly over a round's classes.
 */
export function haltingSchedule(
  classes: number,
  total: number,
  warmup: number,
): { keep: number; steps: number }[] {
  const rounds: { keep: number; steps: number }[] = [];
  let left = total - warmup * classes;
  let keep = classes;
  const plan: number[] = [];
  while (keep > 1) {
    keep = Math.ceil(keep / 2);
    plan.push(keep);
    if (keep <= 2) break;
  }
  for (let r = 0; r < plan.length; r++) {
    const share = Math.floor(left / (plan.length - r));
    const steps = Math.floor(share / plan[r]);
    rounds.push({ keep: plan[r], steps });
    left -= steps * plan[r];
  }
  return rounds;
}

/**
 * Runs trigger inversion on `base` (count x prod(shape) inputs in probe space, shape [C,H,W]) for every
 * class of `model`. Returns "not assessed" (never throws) when the model cannot be differentiated or its
 * input is no image; ONNX Runtime failures (InputError) propagate as everywhere else.
 */
export async function invertTriggers(
  model: OnnxModel,
  base: Float32Array,
  shape: number[],
  opts: InversionOptions,
): Promise<InversionResult> {
  const k = opts.classes;
  const file = opts.file ?? model.path;
  if (k > INVERSION_MAX_CLASSES)
    return {
      assessed: false,
      reason: `not assessed: ${k} classes, over the ${INVERSION_MAX_CLASSES} inverted`,
    };
  if (shape.length !== 3)
    return {
      assessed: false,
      reason: `not assessed: the input is [${shape.join(', ')}], not an image [C, H, W]`,
    };
  const [ch, h, w] = shape;
  const size = ch * h * w;
  const n = Math.floor(base.length / size);
  const range = opts.range ?? { lo: 0, hi: 1 };
  const span = range.hi - range.lo;
  if (!(span > 0)) return { assessed: false, reason: 'not assessed: an empty value range' };
  // The prelude works in [0, 1]: the base is mapped there, and the way back to probe space (and on into the
  // model's normalisation) is one per-channel normalisation: ((u span + lo) - mean) / std.
  const mean = opts.normalize?.mean ?? [0];
  const std = opts.normalize?.std ?? [1];
  const channels = Math.max(mean.length, std.length);
  const at = (v: number[], c: number) => v[v.length === 1 ? 0 : c];
  const normalize = {
    mean: Array.from({ length: channels }, (_, c) => (at(mean, c) - range.lo) / span),
    std: Array.from({ length: channels }, (_, c) => at(std, c) / span),
  };
  let graph;
  try {
    graph = buildGradientGraph(model, {
      prelude: { kind: 'patch', clamp: [0, 1], normalize },
      terms: [
        { kind: 'crossEntropy', target: { feed: 'targets' } },
        { kind: 'l1', of: { prelude: 'mask' }, weight: { feed: 'lambda' } },
      ],
    });
  } catch (e) {
    if (e instanceof GradientUnsupported)
      return {
        assessed: false,
        reason: `not assessed: ${e.ops.join(', ')} has no gradient rule (${e.items.length} node${e.items.length === 1 ? '' : 's'})`,
      };
    if (e instanceof GradientSpecError) return { assessed: false, reason: `not assessed: ${e.message}` };
    throw e;
  }
  const batchDim = graph.feeds.data?.shape[0];
  if (typeof batchDim === 'number')
    return { assessed: false, reason: `not assessed: the model's batch size is fixed at ${batchDim}` };
  const session = await GradientSession.open(graph, { threads: opts.threads ?? 1, file });
  try {
    return await invert(session, base, n, [ch, h, w], k, opts);
  } finally {
    await session.release();
  }
}

async function invert(
  session: GradientSession,
  base: Float32Array,
  n: number,
  [ch, h, w]: number[],
  k: number,
  opts: InversionOptions,
): Promise<InversionResult> {
  const size = ch * h * w;
  const range = opts.range ?? { lo: 0, hi: 1 };
  const span = range.hi - range.lo;
  const batchMax = opts.batch ?? INVERSION_BATCH;
  const flipTarget = opts.flipTarget ?? INVERSION_FLIP_TARGET;
  const lambda0 = opts.lambda ?? INVERSION_LAMBDA;
  const seed = opts.seed ?? 0;
  const unit = Float32Array.from(base.subarray(0, n * size), (v) => (v - range.lo) / span);
  let runs = 0;
  const run = async (
    data: Float32Array,
    count: number,
    maskLogits: Float32Array,
    patternLogits: Float32Array,
    cls: number,
    lambda: number,
  ): Promise<GradientResult> => {
    runs++;
    return session.run({
      data: { data, dims: [count, ch, h, w] },
      maskLogits: { data: maskLogits, dims: [1, 1, h, w] },
      patternLogits: { data: patternLogits, dims: [1, ch, h, w] },
      targets: new Array<number>(count).fill(cls),
      lambda,
    });
  };
  const logitsOf = (r: GradientResult) => Object.values(r.outputs)[0].data;

  // Clean pass (the mask at "nothing"): which class the model gives each input.
  const none = new Float32Array(h * w).fill(NO_MASK_LOGIT);
  const clean = argmaxRows(logitsOf(await run(unit, n, none, new Float32Array(size), 0, 0)), n, k);
  // A fixed seeded order of the inputs; each class's batch is the first inputs outside it.
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(`inversion:${seed}`);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const outside = (c: number) => order.filter((i) => clean[i] !== c);
  const arms: Arm[] = [];
  for (let c = 0; c < k; c++) {
    const rows = outside(c).slice(0, batchMax);
    if (rows.length < MIN_INVERSION_INPUTS) continue;
    const batch = new Float32Array(rows.length * size);
    rows.forEach((r, i) => batch.set(unit.subarray(r * size, (r + 1) * size), i * size));
    const init = new Rng(`inversion:${seed}:${c}`);
    arms.push({
      cls: c,
      batch,
      count: rows.length,
      // Neural Cleanse starts from a random mask and pattern; a mask near 0.27 flips most inputs early, then shrinks.
      maskLogits: init.uniforms(h * w, -1.5, -0.5),
      patternLogits: init.uniforms(size, -2, 2),
      maskOpt: new Adam(h * w, { lr: opts.lr ?? INVERSION_LR }),
      patternOpt: new Adam(size, { lr: opts.lr ?? INVERSION_LR }),
      lambda: lambda0,
      best: Infinity,
      bestMask: null,
      bestPattern: null,
      last: Infinity,
      steps: 0,
      warmupCost: NaN,
    });
  }
  if (arms.length < 3)
    return {
      assessed: false,
      reason: `not assessed: only ${arms.length} classes have ${MIN_INVERSION_INPUTS}+ base inputs outside them`,
    };

  const step = async (a: Arm): Promise<void> => {
    const r = await run(a.batch, a.count, a.maskLogits, a.patternLogits, a.cls, a.lambda);
    const pred = argmaxRows(logitsOf(r), a.count, k);
    let hit = 0;
    for (const p of pred) if (p === a.cls) hit++;
    const flip = hit / a.count;
    const l1 = r.terms[1];
    if (flip >= flipTarget && l1 < a.best) {
      a.best = l1;
      a.bestMask = Float32Array.from(a.maskLogits, sigmoid);
      a.bestPattern = Float32Array.from(a.patternLogits, sigmoid);
    }
    // Not reached yet: the current mask plus a penalty for the share not flipped (every pixel's worth).
    a.last = flip >= flipTarget ? l1 : l1 + (flipTarget - flip) * h * w;
    a.maskOpt.step(a.maskLogits, r.grads.maskLogits.data);
    a.patternOpt.step(a.patternLogits, r.grads.patternLogits.data);
    a.lambda *= flip >= flipTarget ? LAMBDA_FACTOR : 1 / LAMBDA_FACTOR;
    a.steps++;
  };
  const cost = (a: Arm) => (Number.isFinite(a.best) ? a.best : a.last);

  const perClass = opts.stepsPerClass ?? INVERSION_STEPS_PER_CLASS;
  const total = Math.max(arms.length, Math.floor(perClass * arms.length));
  const flat = opts.schedule === 'flat';
  const warmup = flat ? Math.max(1, Math.floor(perClass)) : Math.max(1, Math.floor(perClass * WARMUP_SHARE));
  for (const a of arms) {
    for (let s = 0; s < warmup; s++) await step(a);
    a.warmupCost = cost(a);
  }
  let active = arms.slice();
  for (const round of flat ? [] : haltingSchedule(arms.length, total, warmup)) {
    // Stable ranking: ties keep class order, so the schedule is deterministic.
    active = active
      .map((a, i) => ({ a, i }))
      .sort((x, y) => cost(x.a) - cost(y.a) || x.i - y.i)
      .slice(0, round.keep)
      .map((x) => x.a);
    for (const a of active) for (let s = 0; s < round.steps; s++) await step(a);
  }

  const costs = arms.map(cost);
  const med = median(costs);
  const z = robustZ(costs, MAD_FLOOR_SHARE * Math.abs(med));
  const anomaly = new Float32Array(k);
  arms.forEach((a, i) => (anomaly[a.cls] = -z[i]));
  let top = 0;
  for (let i = 1; i < arms.length; i++) if (costs[i] < costs[top]) top = i;
  const suspect = arms[top];
  const mask = suspect.bestMask ?? Float32Array.from(suspect.maskLogits, sigmoid);
  const pattern = suspect.bestPattern ?? Float32Array.from(suspect.patternLogits, sigmoid);
  // The suspected trigger on the inputs it was not optimised on (all outside the class, past the batch).
  const held = outside(suspect.cls).slice(batchMax);
  let flipRate: number;
  const logit = (v: number) => Math.log(Math.max(v, 1e-7) / Math.max(1 - v, 1e-7));
  if (held.length > 0) {
    const data = new Float32Array(held.length * size);
    held.forEach((r, i) => data.set(unit.subarray(r * size, (r + 1) * size), i * size));
    const res = await run(
      data,
      held.length,
      Float32Array.from(mask, logit),
      Float32Array.from(pattern, logit),
      suspect.cls,
      0,
    );
    flipRate =
      argmaxRows(logitsOf(res), held.length, k).filter((p) => p === suspect.cls).length / held.length;
  } else {
    flipRate = Number.isFinite(suspect.best) ? flipTarget : 0;
  }
  const score = Math.max(0, ...Array.from(anomaly));
  return {
    assessed: true,
    score,
    targetClass: suspect.cls,
    anomaly,
    perClass: Array.from({ length: k }, (_, c) => {
      const a = arms.find((x) => x.cls === c);
      return a
        ? {
            cost: cost(a),
            reached: Number.isFinite(a.best),
            steps: a.steps,
            inputs: a.count,
            warmupCost: a.warmupCost,
          }
        : { cost: NaN, reached: false, steps: 0, inputs: 0, warmupCost: NaN };
    }),
    mask,
    pattern: Float32Array.from(pattern, (v) => range.lo + v * span),
    flipRate,
    runs,
    steps: arms.reduce((s, a) => s + a.steps, 0),
  };
}
