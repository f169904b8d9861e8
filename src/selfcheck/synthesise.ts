/**
 * Class-representative inputs synthesised from the model itself, without data (issue 19 section 3):
 * model inversion with image priors (Mahendran & Vedaldi 2015; DeepInversion, Yin et al., CVPR 2020).
 * Starting from seeded noise, a batch of inputs, an equal share per class, is optimised by Adam so that the
 * model puts each input in its class, under priors that keep it image-like:
 *
 *     crossEntropy(model(x), class) + tv * TV2(x) + l2 * |x|^2 + bn * sum_BN (|mu_B - mu_run| + |var_B - var_run|)
 *
 * - total variation (squared neighbour differences) on the image in probe space: smooth strokes, not
 *   adversarial speckle;
 * - an L2 penalty on the input as the model sees it (after --input-mean/--input-std: zero is the data's mean;
 *   on [0, 1] pixels without normalisation, a dark background) and clipping to the probe range after every
 *   step (projected gradient);
 * - jitter: every step the whole batch is rolled by a seeded offset of up to `jitter` pixels (and, with
 *   `flips`, mirrored left-right), the gradient rolled back: features that survive a shift, as real ones do;
 * - DeepInversion's feature-statistics term where the graph keeps inference BatchNormalization nodes: the
 *   batch's mean and variance at each BN input pulled to the layer's running statistics (the gradient
 *   builder's `bnStats` term; it reads the BN inputs the forward graph computes anyway, so it costs little).
 *   All classes share one batch, as the running statistics describe the mix of classes.
 *
 * Everything is deterministic: seeded initial noise and jitter offsets, a fixed step count (SYNTH_STEPS, cut
 * by SYNTH_MAC_BUDGET for a big model: a function of the model, never the clock) and single-threaded ONNX
 * Runtime by default; the same model and seed give the same inputs bit for bit.
 *
 * A graph the gradient builder cannot differentiate, or an input that is no image, is "not synthesised"
 * with the reason (the operators named); callers fall back to the mined base (mine-base.ts).
 */
import type { OnnxModel } from '../model/types.js';
import { GradientSession, type GradientSpec } from '../model/grad/index.js';
import { argmaxRows, buildOrWhy, unitNormalize } from './unit-space.js';
import { Rng } from '../probes/rng.js';
import {
  INVERSION_BACKWARD_FACTOR,
  INVERSION_MAX_CLASSES,
  SYNTH_INPUTS,
  SYNTH_MAC_BUDGET,
  SYNTH_MIN_STEPS,
  SYNTH_STEPS,
} from '../limits.js';
import { Adam } from './adam.js';
import type { ValueRange } from './triggers.js';

/** Weight of the squared total variation (probe space scaled to [0, 1]); chosen on the zoo's MLPs (bench/synth.ts; 0.2 measured the same). */
export const SYNTH_TV = 0.05;
/** Weight of the squared L2 norm of the model's input (0.002 -> 0.02: trigger reach 0.92 -> 0.96 on the dev MLPs, bench/synth.ts). */
export const SYNTH_L2 = 0.02;
/** Weight of DeepInversion's BatchNorm statistics term (only where the graph has BN nodes). */
export const SYNTH_BN = 0.1;
/** Adam's step size on the pixels (probe space scaled to [0, 1]). */
export const SYNTH_LR = 0.05;
/** Largest jitter, as a share of the image's smaller side (at least one pixel). */
export const SYNTH_JITTER_SHARE = 1 / 8;

export interface SynthesiseOptions {
  classes: number;
  seed?: number;
  /** Inputs in all (an equal share per class, rounded up). Default SYNTH_INPUTS. */
  count?: number;
  /** The probe space's value range; inputs are clipped to it. Default [0, 1]. */
  range?: ValueRange;
  /** Per-channel normalisation the model expects after the probe space (--input-mean/--input-std). */
  normalize?: { mean: number[]; std: number[] };
  /** Gradient steps (default: what the MAC budget affords, at most SYNTH_STEPS). */
  steps?: number;
  /** Estimated multiply-accumulates of one forward pass of one input (for the step budget). */
  macsPerInput?: number;
  /** Multiply-accumulates the steps may spend with macsPerInput (default SYNTH_MAC_BUDGET; the scan's: gradient-budget.ts). */
  macBudget?: number;
  lr?: number;
  tv?: number;
  l2?: number;
  /** DeepInversion's BN term weight (0: off). */
  bn?: number;
  /** Largest roll in pixels (default SYNTH_JITTER_SHARE of the smaller side, at least 1; 0: off). */
  jitter?: number;
  /** Mirror left-right at random steps (off by default: digits and text are not mirror-symmetric). */
  flips?: boolean;
  /** ONNX Runtime threads (default 1: bit-reproducible). */
  threads?: number;
  file?: string;
}

export interface Synthesised {
  synthesised: true;
  /** count x prod(shape) inputs in probe space. */
  base: Float32Array;
  count: number;
  /** The class each input was optimised for. */
  targetOf: Int32Array;
  /** The class the model gives each final input. */
  classOf: Int32Array;
  /** Share of the inputs the model classifies as their class. */
  reached: number;
  /** Per class, how many inputs the model classifies as their class. */
  perClass: number[];
  steps: number;
  /** BatchNormalization nodes whose statistics were matched (empty: none in the graph, or bn = 0). */
  bnNodes: string[];
  /** Gradient-session runs (forward + backward of the whole batch). */
  runs: number;
}

export interface NotSynthesised {
  synthesised: false;
  /** "<why>": an operator without a gradient rule, an input that is no image, a model too large. */
  reason: string;
}

export type SynthesisResult = Synthesised | NotSynthesised;

/** Steps the MAC budget affords for `count` inputs of `macsPerInput` (at most SYNTH_STEPS), or null below SYNTH_MIN_STEPS. */
export function synthStepsFor(
  macsPerInput: number,
  count: number,
  macBudget = SYNTH_MAC_BUDGET,
): number | null {
  const perStep = macsPerInput * count * (1 + INVERSION_BACKWARD_FACTOR);
  const steps = Math.floor(macBudget / Math.max(1, perStep));
  if (steps < SYNTH_MIN_STEPS) return null;
  return Math.min(SYNTH_STEPS, steps);
}

/**
 * Rolls every [C,H,W] image of `src` (n of them) by (dy, dx) with wrap-around, mirrored left-right first
 * when `flip`, into `dst`. `inverse` undoes it (roll back, then mirror), for the gradient.
 */
export function rollImages(
  src: Float32Array,
  dst: Float32Array,
  n: number,
  [ch, h, w]: number[],
  dy: number,
  dx: number,
  flip: boolean,
  inverse = false,
): void {
  const plane = h * w;
  const mod = (v: number, m: number) => ((v % m) + m) % m;
  for (let p = 0; p < n * ch; p++) {
    const at = p * plane;
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++) {
        // forward: dst[(r + dy, flip(c) + dx)] = src[r, c]; inverse maps back.
        const fc = flip ? w - 1 - c : c;
        const tr = mod(r + dy, h);
        const tc = mod(fc + dx, w);
        if (inverse) dst[at + r * w + c] = src[at + tr * w + tc];
        else dst[at + tr * w + tc] = src[at + r * w + c];
      }
  }
}

/** The gradient spec of the synthesis objective (exported for the tests). */
export function synthesisSpec(
  normalize: { mean: number[]; std: number[] },
  weights: { tv: number; l2: number; bn: number },
  withBn: boolean,
): GradientSpec {
  return {
    prelude: { kind: 'identity', normalize },
    terms: [
      { kind: 'crossEntropy', target: { feed: 'targets' } },
      { kind: 'tv', of: { prelude: 'data' }, p: 2, weight: weights.tv },
      { kind: 'l2', of: 'input', weight: weights.l2 },
      ...(withBn ? [{ kind: 'bnStats' as const, weight: weights.bn }] : []),
    ],
    wrt: [{ prelude: 'data' }],
  };
}

/**
 * Synthesises class-representative inputs for `model` (input `shape` [C,H,W] without the batch axis, in
 * probe space). Never throws for a model it cannot handle: returns { synthesised: false, reason }. ONNX
 * Runtime failures (InputError) propagate as everywhere else.
 */
export async function synthesiseInputs(
  model: OnnxModel,
  shape: number[],
  opts: SynthesiseOptions,
): Promise<SynthesisResult> {
  const k = opts.classes;
  const file = opts.file ?? model.path;
  if (k < 2 || k > INVERSION_MAX_CLASSES)
    return { synthesised: false, reason: `${k} classes (synthesis takes 2-${INVERSION_MAX_CLASSES})` };
  if (shape.length !== 3)
    return { synthesised: false, reason: `the input is [${shape.join(', ')}], not an image [C, H, W]` };
  const [ch, h, w] = shape;
  const size = ch * h * w;
  const range = opts.range ?? { lo: 0, hi: 1 };
  const span = range.hi - range.lo;
  if (!(span > 0)) return { synthesised: false, reason: 'an empty value range' };
  const perClass = Math.ceil((opts.count ?? SYNTH_INPUTS) / k);
  const n = perClass * k;
  const steps =
    opts.steps ??
    (opts.macsPerInput !== undefined ? synthStepsFor(opts.macsPerInput, n, opts.macBudget) : SYNTH_STEPS);
  if (steps === null)
    return {
      synthesised: false,
      reason: `the model is too large for the synthesis budget (${(opts.macBudget ?? SYNTH_MAC_BUDGET).toExponential(1)} MACs; a larger --budget affords it)`,
    };
  // The optimised pixels live in [0, 1] (u); the model sees ((u span + lo) - mean) / std, one normalisation.
  const weights = { tv: opts.tv ?? SYNTH_TV, l2: opts.l2 ?? SYNTH_L2, bn: opts.bn ?? SYNTH_BN };
  const graph = buildOrWhy(
    model,
    synthesisSpec(unitNormalize(range, opts.normalize), weights, weights.bn > 0),
  );
  if ('why' in graph) return { synthesised: false, reason: graph.why };
  const batchDim = graph.feeds.data?.shape[0];
  if (typeof batchDim === 'number' && batchDim !== n)
    return { synthesised: false, reason: `the model's batch size is fixed at ${batchDim}` };
  const session = await GradientSession.open(graph, { threads: opts.threads ?? 1, file });
  try {
    const seed = opts.seed ?? 0;
    const rng = new Rng(`synthesise:${seed}`);
    // Start from faint noise around a quarter of the range: a blank canvas the class features are drawn on.
    const x = rng.uniforms(n * size, 0, 0.5);
    const targets = Array.from({ length: n }, (_, i) => i % k);
    const adam = new Adam(n * size, { lr: opts.lr ?? SYNTH_LR });
    const jitter = opts.jitter ?? Math.max(1, Math.floor(Math.min(h, w) * SYNTH_JITTER_SHARE));
    const moved = new Float32Array(n * size);
    const back = new Float32Array(n * size);
    let runs = 0;
    for (let s = 0; s < steps; s++) {
      const dy = jitter > 0 ? rng.int(2 * jitter + 1) - jitter : 0;
      const dx = jitter > 0 ? rng.int(2 * jitter + 1) - jitter : 0;
      const flip = opts.flips === true && rng.next() < 0.5;
      rollImages(x, moved, n, shape, dy, dx, flip);
      const r = await session.run({ data: { data: moved, dims: [n, ch, h, w] }, targets });
      runs++;
      rollImages(r.grads.data.data, back, n, shape, dy, dx, flip, true);
      adam.step(x, back);
      for (let i = 0; i < x.length; i++) x[i] = x[i] < 0 ? 0 : x[i] > 1 ? 1 : x[i];
    }
    const final = await session.run({ data: { data: x, dims: [n, ch, h, w] }, targets });
    runs++;
    const classOf = argmaxRows(Object.values(final.outputs)[0].data, n, k);
    const hits = new Array<number>(k).fill(0);
    classOf.forEach((c, i) => {
      if (c === targets[i]) hits[c]++;
    });
    return {
      synthesised: true,
      base: Float32Array.from(x, (u) => range.lo + u * span),
      count: n,
      targetOf: Int32Array.from(targets),
      classOf,
      reached: hits.reduce((a, b) => a + b, 0) / n,
      perClass: hits,
      steps,
      bnNodes: weights.bn > 0 ? graph.bnNodes : [],
      runs,
    };
  } finally {
    await session.release();
  }
}
