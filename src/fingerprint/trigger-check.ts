/**
 * Glue between the fingerprint and reference-free trigger probing (src/selfcheck): runs it on the probe
 * inputs of a single-float-input classifier, with a forward-pass budget cut so that the probing costs at
 * most TRIGGER_TIME_BUDGET_MS at the model's measured speed (a big model gets fewer candidates, never a
 * slow scan). Models it does not apply to (several inputs, integer inputs, fewer than 3 classes) get no
 * trigger check; that is said in the report, not hidden.
 */
import type { OnnxModel } from '../model/types.js';
import { ModelRunner } from '../model/session.js';
import type { ProbeSet } from '../probes/types.js';
import { DEFAULT_TRIGGER_BUDGET, MIN_TRIGGER_BUDGET, probeTriggers } from '../selfcheck/trigger-probe.js';
import { TRIGGER_TIME_BUDGET_MS } from '../limits.js';
import type { SelfCheck } from './types.js';

/** Fewest classes trigger probing can contrast. */
export const MIN_TRIGGER_CLASSES = 3;

export interface TriggerCheck {
  selfCheck: SelfCheck;
  block: Float32Array;
  forwardPasses: number;
}

export function triggerApplies(model: OnnxModel, probes: ProbeSet, classes: number): boolean {
  return (
    model.inputs.length === 1 &&
    probes.inputs.length === 1 &&
    probes.inputs[0].dtype === 'float32' &&
    probes.inputs[0].data instanceof Float32Array &&
    classes >= MIN_TRIGGER_CLASSES
  );
}

/** Forward passes that fit the time budget at `msPerInput`, within the probing's own bounds. */
export function triggerBudget(msPerInput: number, timeBudgetMs = TRIGGER_TIME_BUDGET_MS): number {
  const fit = msPerInput > 0 ? Math.floor(timeBudgetMs / msPerInput) : DEFAULT_TRIGGER_BUDGET;
  return Math.min(DEFAULT_TRIGGER_BUDGET, Math.max(MIN_TRIGGER_BUDGET, fit));
}

export async function runTriggerCheck(
  model: OnnxModel,
  probes: ProbeSet,
  classes: number,
  msPerInput: number,
  opts: { threads?: number; timeLimitMs?: number } = {},
): Promise<TriggerCheck | null> {
  if (!triggerApplies(model, probes, classes)) return null;
  const input = probes.inputs[0];
  const runner = await ModelRunner.open(model, { threads: opts.threads });
  try {
    const run = runner.logitsFunction(input.sampleShape, { timeLimitMs: opts.timeLimitMs });
    const r = await probeTriggers(run, input.data as Float32Array, input.sampleShape, {
      classes,
      budget: triggerBudget(msPerInput),
      seed: probes.seed,
      range: { lo: probes.range[0], hi: probes.range[1] },
      timeLimitMs: TRIGGER_TIME_BUDGET_MS,
      file: model.path,
    });
    return { selfCheck: r.selfCheck, block: r.block, forwardPasses: r.forwardPasses };
  } finally {
    await runner.release();
  }
}
