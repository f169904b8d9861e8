/**
 * Glue between trigger probing and inputs synthesised from the model (src/selfcheck/synthesise.ts): with no
 * samples and `--synthesise-base`, the inputs triggers are stamped on are optimised from the model itself
 * instead of mined from a generated pool. The step count comes from the synthesis share of the scan budget
 * (gradient-budget.ts; the legacy plan: SYNTH_MAC_BUDGET over the weight-based estimate), so it is a function
 * of the model and the setting, never the clock.
 * When the model cannot be differentiated (an operator without a gradient rule), its input is no [C, H, W]
 * image or channels-last, or it is too large for the budget, the caller falls back to the mined base and
 * the reason is kept for the report.
 *
 * Opt-in: bench/results/synth.md measured each backdoor's own trigger reaching far more of the synthesised
 * inputs than of the mined ones, but the trigger check's AUROC without samples better on one architecture and
 * worse on the other; the default stays the mined base.
 */
import type { OnnxModel } from '../model/types.js';
import type { InputNormalization } from '../probes/types.js';
import { synthesiseInputs } from '../selfcheck/synthesise.js';
import type { ValueRange } from '../selfcheck/triggers.js';
import { DEFAULT_SCAN_BUDGET, type ScanBudget } from './budget.js';
import { gradientAllowance } from './gradient-budget.js';

export type SynthBase = { base: Float32Array; count: number } | { base: null; reason: string };

/** (x - mean) / std = x * scale + shift, back to mean and std; null for a channels-last normalisation. */
function meanStd(
  norm: InputNormalization | undefined,
  plane: number,
): { mean: number[]; std: number[] } | null | undefined {
  if (!norm) return undefined;
  if (norm.channels > 1 && norm.inner !== plane) return null;
  return { mean: norm.shift.map((s, c) => -s / norm.scale[c]), std: norm.scale.map((s) => 1 / s) };
}

export async function synthesiseTriggerBase(
  model: OnnxModel,
  shape: number[],
  classes: number,
  opts: {
    seed: number;
    range: ValueRange;
    normalize?: InputNormalization;
    threads?: number;
    budget?: ScanBudget;
  },
): Promise<SynthBase> {
  const plane = shape.slice(-2).reduce((a, b) => a * b, 1);
  const normalize = meanStd(opts.normalize, plane);
  if (normalize === null)
    return { base: null, reason: 'a channels-last input (synthesis optimises [C, H, W] images)' };
  const allowance = gradientAllowance('synthesis', model, shape, opts.budget ?? DEFAULT_SCAN_BUDGET);
  const r = await synthesiseInputs(model, shape, {
    classes,
    seed: opts.seed,
    range: opts.range,
    macsPerInput: allowance.macsPerPass,
    macBudget: allowance.macs,
    ...(normalize ? { normalize } : {}),
    ...(opts.threads ? { threads: opts.threads } : {}),
    file: model.path,
  });
  return r.synthesised ? { base: r.base, count: r.count } : { base: null, reason: r.reason };
}
