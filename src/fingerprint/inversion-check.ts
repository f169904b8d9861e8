/**
 * Glue between the fingerprint and trigger inversion by optimisation (src/selfcheck/trigger-inversion.ts):
 * runs it on the inputs trigger probing stamped its triggers on (the user's samples, or the base mined per
 * model), with a step budget cut so that the inversion costs at most its share of the scan budget
 * (`--budget`; gradient-budget.ts: a step = a batch's forward pass plus a backward pass of
 * INVERSION_BACKWARD_FACTOR forward passes). Like trigger probing's, the budget is a function of the model
 * and the setting alone, never the clock.
 *
 * Opt-in (`invert`, `scan --inversion`: inversion-selfcheck.ts): bench/results/inversion.md and
 * realsize-inversion.md measured whether it adds to the menu search; the scan runs it only when asked and
 * only without a baseline. It is no fingerprint block, so baselines and FEATURES_VERSION are unchanged.
 */
import { ModelRunner } from '../model/session.js';
import type { OnnxModel } from '../model/types.js';
import type { ProbeSet } from '../probes/types.js';
import {
  INVERSION_BACKWARD_FACTOR,
  INVERSION_BATCH,
  INVERSION_MAC_BUDGET,
  INVERSION_STEPS_PER_CLASS,
} from '../limits.js';
import {
  MINE_BASE_WITHOUT_SAMPLES,
  triggerBaseInputs,
  type TriggerBaseKind,
} from '../selfcheck/base-inputs.js';
import { mineTriggerBase } from '../selfcheck/mine-base.js';
import { invertTriggers, type InversionResult } from '../selfcheck/trigger-inversion.js';
import type { ValueRange } from '../selfcheck/triggers.js';
import { MIN_TRIGGER_BUDGET } from '../selfcheck/trigger-probe.js';
import { triggerApplies } from './trigger-check.js';
import { DEFAULT_SCAN_BUDGET, planBudget, type ScanBudget } from './budget.js';
import { gradientAllowance } from './gradient-budget.js';

/** Fewest steps per class that mean anything (the warm-up alone is a third of them). */
export const MIN_INVERSION_STEPS_PER_CLASS = 6;

/**
 * What the inversion found, or why it was not assessed. The statistic bench:inversion measured as the
 * informative one is the smallest mask's L1 (`maskL1`, smaller = more suspicious); Neural Cleanse's anomaly
 * index (`anomaly`) measured near chance on the zoo and is kept for reading, not for deciding.
 */
export interface InversionCheck {
  assessed: boolean;
  targetClass?: number;
  /** L1 of the smallest mask that flipped the target share of inputs (pixels' worth of mask). */
  maskL1?: number;
  /** Neural Cleanse's anomaly index of that class against the others (median/MAD of the mask costs). */
  anomaly?: number;
  /** Share of the held-out inputs (outside the class, not optimised on) the suspected trigger flips. */
  flipRate?: number;
  /** Per class its cost (mask L1 that reached the flip target, else penalised; NaN: not a candidate). */
  costs?: number[];
  /** Gradient steps run in all. */
  steps?: number;
  /** One line for the report: the mask's size and place and its flip rate, or "not assessed: <why>". */
  detail: string;
  basis?: TriggerBaseKind;
  stepsPerClass?: number;
  /** The allowance the steps were cut to ("inversion budget 3e12 multiply-accumulates (--budget default)"). */
  budget?: string;
}

/** Steps per class the MAC budget affords for a model of `macsPerInput` (capped at the default), or null. */
export function inversionStepsFor(
  macsPerInput: number,
  classes: number,
  macBudget = INVERSION_MAC_BUDGET,
): number | null {
  const perStep = macsPerInput * INVERSION_BATCH * (1 + INVERSION_BACKWARD_FACTOR);
  const steps = Math.floor(macBudget / (perStep * Math.max(1, classes)));
  if (steps < MIN_INVERSION_STEPS_PER_CLASS) return null;
  return Math.min(INVERSION_STEPS_PER_CLASS, steps);
}

/** Bounding box of the mask's pixels at >= half of its largest value, "rows a-b, cols c-d". */
export function maskBox(mask: Float32Array, h: number, w: number): string {
  let max = 0;
  for (const v of mask) max = Math.max(max, v);
  let r0 = h;
  let r1 = -1;
  let c0 = w;
  let c1 = -1;
  for (let r = 0; r < h; r++)
    for (let c = 0; c < w; c++)
      if (mask[r * w + c] >= max / 2 && max > 0) {
        r0 = Math.min(r0, r);
        r1 = Math.max(r1, r);
        c0 = Math.min(c0, c);
        c1 = Math.max(c1, c);
      }
  return r1 < 0 ? 'nowhere' : `rows ${r0}-${r1}, cols ${c0}-${c1}`;
}

export function describeInversion(
  r: InversionResult,
  shape: number[],
  basis: TriggerBaseKind,
  stepsPerClass: number,
): InversionCheck {
  if (!r.assessed) return { assessed: false, detail: r.reason, basis };
  const [h, w] = shape.slice(-2);
  const l1 = r.perClass[r.targetClass].cost;
  return {
    assessed: true,
    targetClass: r.targetClass,
    maskL1: l1,
    anomaly: r.score,
    flipRate: r.flipRate,
    costs: r.perClass.map((c) => c.cost),
    steps: r.steps,
    detail:
      `smallest inverted mask: class ${r.targetClass}, L1 ${l1.toFixed(1)} px ` +
      `(${((100 * l1) / (h * w)).toFixed(1)}% of the image) at ${maskBox(r.mask, h, w)}, ` +
      `flips ${(100 * r.flipRate).toFixed(0)}% of held-out inputs; anomaly index ${r.score.toFixed(2)}`,
    basis,
    stepsPerClass,
  };
}

/**
 * Trigger inversion on `base` (the trigger check's inputs), or "not assessed" with the reason. Never throws
 * for a model it cannot handle; ONNX Runtime failures propagate as InputError like the rest of the scan.
 */
export async function runInversionCheck(
  model: OnnxModel,
  base: { data: Float32Array; shape: number[]; kind: TriggerBaseKind },
  classes: number,
  opts: {
    seed?: number;
    range?: ValueRange;
    normalize?: { mean: number[]; std: number[] };
    threads?: number;
    /** The scan budget (default: the default setting); the legacy plan keeps the fixed allowance. */
    budget?: ScanBudget;
  },
): Promise<InversionCheck> {
  const allowance = gradientAllowance('inversion', model, base.shape, opts.budget ?? DEFAULT_SCAN_BUDGET);
  const steps = inversionStepsFor(allowance.macsPerPass, classes, allowance.macs);
  if (steps === null)
    return {
      assessed: false,
      detail: `not assessed: the model is too large for the ${allowance.label}; a larger --budget would assess it`,
      basis: base.kind,
      budget: allowance.label,
    };
  const r = await invertTriggers(model, base.data, base.shape, {
    classes,
    stepsPerClass: steps,
    seed: opts.seed ?? 0,
    ...(opts.range ? { range: opts.range } : {}),
    ...(opts.normalize ? { normalize: opts.normalize } : {}),
    ...(opts.threads ? { threads: opts.threads } : {}),
    file: model.path,
  });
  return { ...describeInversion(r, base.shape, base.kind, steps), budget: allowance.label };
}

/**
 * Trigger inversion on a model's probe set, on the inputs trigger probing would use: the user's samples, or
 * (no samples) a base mined per model with the trigger check's own recipe and budget (mine-base.ts). Null
 * when the check does not apply (several inputs, integer inputs, fewer than 3 classes), as trigger probing.
 */
export async function inversionForProbes(
  model: OnnxModel,
  probes: ProbeSet,
  classes: number,
  opts: { threads?: number; budget?: ScanBudget } = {},
): Promise<InversionCheck | null> {
  if (!triggerApplies(model, probes, classes)) return null;
  const base = triggerBaseInputs(probes);
  if (!base) return null;
  const input = probes.inputs[0];
  const [h, w] = base.shape.slice(-2);
  const norm = input.normalize;
  if (norm && norm.channels > 1 && norm.inner !== h * w)
    return {
      assessed: false,
      detail: 'not assessed: a channels-last input (the inversion masks [C, H, W] images)',
      basis: base.kind,
    };
  const range = { lo: probes.range[0], hi: probes.range[1] };
  let data = base.base;
  let kind: TriggerBaseKind = base.kind;
  // Mining gets the forward passes trigger probing's plan affords under the same setting (mine-base.ts
  // takes its share), so the inversion starts from the base the scan's trigger probing would use.
  const scanBudget = opts.budget ?? DEFAULT_SCAN_BUDGET;
  const budget = planBudget(model, probes, scanBudget).triggerPasses ?? 0;
  if (base.kind === 'probes' && MINE_BASE_WITHOUT_SAMPLES && budget >= MIN_TRIGGER_BUDGET) {
    const runner = await ModelRunner.open(model, { threads: opts.threads });
    try {
      const run = runner.logitsFunction(base.shape, norm ? { normalize: norm } : {});
      const mined = await mineTriggerBase(run, base.shape, {
        classes,
        budget,
        seed: probes.seed,
        range,
        file: model.path,
      });
      if (mined) {
        data = mined.base;
        kind = 'mined';
      }
    } finally {
      await runner.release();
    }
  }
  // (x - mean) / std = x * scale + shift
  const normalize = norm
    ? { mean: norm.shift.map((s, c) => -s / norm.scale[c]), std: norm.scale.map((s) => 1 / s) }
    : undefined;
  return runInversionCheck(model, { data, shape: base.shape, kind }, classes, {
    seed: probes.seed,
    range,
    ...(normalize ? { normalize } : {}),
    ...(opts.threads ? { threads: opts.threads } : {}),
    budget: scanBudget,
  });
}
