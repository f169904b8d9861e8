/**
 * The compute the gradient checks (trigger inversion, src/selfcheck/trigger-inversion.ts; input synthesis,
 * src/selfcheck/synthesise.ts) may spend on one model, under the scan budget (`--budget`, budget.ts).
 *
 * Under a named or numeric setting each check gets its share of the setting's multiply-accumulates
 * (INVERSION_BUDGET_SHARE, SYNTH_BUDGET_SHARE), counted with the scan planner's per-node estimate of one
 * forward pass (src/model/macs.ts), so `--budget thorough` buys a large model more steps and `fast` fewer,
 * like trigger probing's passes. Under the legacy plan (baselines built before budgets) the fixed allowances
 * the checks were measured with hold (INVERSION_MAC_BUDGET, SYNTH_MAC_BUDGET over the weight-based legacy
 * estimate). Either way a function of the model and the setting, never the clock.
 *
 * Small models are capped by their step counts (INVERSION_STEPS_PER_CLASS, SYNTH_STEPS) long before any
 * setting binds, so they run exactly the steps they ran under the fixed allowance (tested on the fixtures).
 */
import {
  INVERSION_BUDGET_SHARE,
  INVERSION_MAC_BUDGET,
  SYNTH_BUDGET_SHARE,
  SYNTH_MAC_BUDGET,
} from '../limits.js';
import { forwardMacs } from '../model/macs.js';
import type { OnnxModel } from '../model/types.js';
import { LEGACY_SCAN_BUDGET, formatMacs, legacyMacs, type ScanBudget } from './budget.js';

export type GradientCheck = 'inversion' | 'synthesis';

/** A gradient check's allowance for one model: its multiply-accumulates and the estimate of one forward pass. */
export interface GradientAllowance {
  /** Multiply-accumulates the check may spend (forward-pass equivalents; a backward pass counts as several). */
  macs: number;
  /** Estimated multiply-accumulates of one forward pass of one input. */
  macsPerPass: number;
  /** For messages: "inversion budget 3e12 multiply-accumulates (default)". */
  label: string;
}

const LEGACY = { inversion: INVERSION_MAC_BUDGET, synthesis: SYNTH_MAC_BUDGET } as const;
const SHARE = { inversion: INVERSION_BUDGET_SHARE, synthesis: SYNTH_BUDGET_SHARE } as const;

/** The allowance of `check` for `model` (input of `sampleShape`, one input without the batch) under `budget`. */
export function gradientAllowance(
  check: GradientCheck,
  model: OnnxModel,
  sampleShape: number[],
  budget: ScanBudget,
): GradientAllowance {
  if (budget.setting === LEGACY_SCAN_BUDGET.setting) {
    const macs = LEGACY[check];
    return {
      macs,
      macsPerPass: legacyMacs(model, sampleShape),
      label: `${check} budget ${formatMacs(macs)} multiply-accumulates (legacy)`,
    };
  }
  const name = model.inputs[0]?.name ?? '';
  const macs = budget.macs * SHARE[check];
  return {
    macs,
    macsPerPass: forwardMacs(model, new Map([[name, [1, ...sampleShape]]])).macs,
    label: `${check} budget ${formatMacs(macs)} multiply-accumulates (--budget ${budget.setting})`,
  };
}
