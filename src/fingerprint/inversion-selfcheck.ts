/**
 * Trigger inversion by gradient as a reference-free self-check of a scan without a baseline (opt-in:
 * `scan --inversion`): the inversion the `invert` command runs (inversion-check.ts, on trigger probing's
 * inputs, within its share of the scan budget), scored by the gap between the smallest and the second
 * smallest class mask (src/selfcheck/inversion-stats.ts inversionP: a backdoor's target class needs a much
 * smaller mask than any other class). Its p-value joins trigger probing's and the final layer's in the
 * no-baseline verdict (src/score/no-baseline.ts).
 *
 * It runs on the user's samples only (INVERSION_NEEDS_SAMPLES). A model it applies to (one float image input,
 * 3+ classes) but cannot invert (an operator without a gradient
 * rule, a budget too small, a channels-last input) gets a self-check without a p-value whose detail says
 * "not assessed: <why>", so the report says it; the verdict then rests on the other checks, never on a
 * silent "nothing found". Runs only when asked and only without a baseline, so baselines and their
 * fingerprints are unchanged (no FEATURES_VERSION bump).
 */
import type { OnnxModel } from '../model/types.js';
import type { ProbeSet } from '../probes/types.js';
import { triggerBaseInputs } from '../selfcheck/base-inputs.js';
import { inversionP } from '../selfcheck/inversion-stats.js';
import type { ScanBudget } from './budget.js';
import { inversionForProbes } from './inversion-check.js';
import { triggerApplies } from './trigger-check.js';
import type { SelfCheck } from './types.js';

/**
 * Why it does not run without the user's samples: on inputs mined from generated probes the mask gap did not
 * separate on the dev zoo (zoo3 ResNet-18, AUROC 0.44, 5 of 14 clean models medium; bench/realsize/findings.md).
 */
export const INVERSION_NEEDS_SAMPLES =
  'not assessed: trigger inversion needs in-distribution samples (--probe-samples DIR); on generated inputs it did not separate backdoored from clean models';

/** The inversion's self-check for one model: null when it does not apply, no p-value when not assessed. */
export async function inversionSelfCheck(
  model: OnnxModel,
  probes: ProbeSet,
  classes: number,
  opts: { threads?: number; budget?: ScanBudget } = {},
): Promise<SelfCheck | null> {
  if (!triggerApplies(model, probes, classes)) return null;
  if (triggerBaseInputs(probes)?.kind !== 'samples') return { score: 0, detail: INVERSION_NEEDS_SAMPLES };
  const r = await inversionForProbes(model, probes, classes, opts);
  if (r === null) return null;
  if (!r.assessed || !r.costs) return { score: 0, detail: r.detail };
  const p = inversionP(r.costs);
  // what the budget bought, as every check's report line says it
  const spent = r.budget ? `; ${r.stepsPerClass} steps a class, ${r.budget}` : '';
  return {
    score: -Math.log10(p),
    pValue: p,
    ...(r.targetClass !== undefined ? { targetClass: r.targetClass } : {}),
    detail: r.detail + spent,
  };
}
