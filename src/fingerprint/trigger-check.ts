/**
 * Glue between the fingerprint and reference-free trigger probing (src/selfcheck): runs it on the probe
 * inputs of a single-float-input classifier. The forward-pass budget is cut so that the probing costs at
 * most TRIGGER_MAC_BUDGET estimated multiply-accumulates: a big model gets fewer candidates, never a slow
 * scan; a model too big for even the minimum budget is not probed. On the user's samples or a mined base,
 * the patch map's own pass has a budget of its own (MAP_MAC_BUDGET) on top. The estimates depend on the
 * model alone (not on the clock), so results are the same on every machine. Models it does not apply to
 * (several inputs, integer inputs, fewer than 3 classes) get no trigger check; the report says so.
 */
import type { OnnxModel } from '../model/types.js';
import { ModelRunner } from '../model/session.js';
import type { ProbeSet } from '../probes/types.js';
import {
  DEFAULT_TRIGGER_BUDGET,
  MIN_TRIGGER_BUDGET,
  probeTriggers,
  type TriggerProbeResult,
} from '../selfcheck/trigger-probe.js';
import {
  MINE_BASE_WITHOUT_SAMPLES,
  triggerBaseInputs,
  type TriggerBaseKind,
} from '../selfcheck/base-inputs.js';
import { mineTriggerBase } from '../selfcheck/mine-base.js';
import { MAP_INPUTS, SWEEP_INPUTS, sweepPositions } from '../selfcheck/sweep.js';
import { imageGeometry } from '../selfcheck/triggers.js';
import { MAP_MAC_BUDGET, TRIGGER_MAC_BUDGET } from '../limits.js';
import type { SelfCheck } from './types.js';
import { InputError } from '../errors.js';

/** Fewest classes trigger probing can contrast. */
export const MIN_TRIGGER_CLASSES = 3;
/** Average spatial downsampling assumed for a convolution's output (a stride or pool of 2 per layer). */
const CONV_SPATIAL_SHARE = 0.25;

export interface TriggerCheck {
  selfCheck: SelfCheck;
  block: Float32Array;
  /** The per-tier "trigger-tiers" block (TriggerProbeResult.tierBlock). */
  tierBlock: Float32Array;
  /** The position-aligned "trigger-map" block (TriggerProbeResult.mapBlock); empty without a sweep. */
  mapBlock: Float32Array;
  forwardPasses: number;
  /** What the class-anomaly score reads: the per-class tables and the candidate evidence of the probing. */
  probe: Pick<TriggerProbeResult, 'families' | 'evidence' | 'logitScale' | 'classScores'>;
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

/**
 * Multiply-accumulates of one forward pass, estimated from the weights: a dense weight counts once, a
 * convolution weight once per output position (the input's spatial size times CONV_SPATIAL_SHARE).
 */
export function estimateMacs(model: OnnxModel, sampleShape: number[]): number {
  const spatial =
    sampleShape.length >= 2 ? sampleShape[sampleShape.length - 1] * sampleShape[sampleShape.length - 2] : 1;
  const convWeights = new Set<string>();
  for (const node of model.proto.graph?.node ?? []) {
    if (node.opType === 'Conv' && node.input && node.input[1]) convWeights.add(node.input[1]);
  }
  let macs = 0;
  for (const init of model.initializers) {
    const elems = init.dims.reduce((a, b) => a * b, 1);
    macs += convWeights.has(init.name) ? elems * Math.max(1, spatial * CONV_SPATIAL_SHARE) : elems;
  }
  return Math.max(1, macs);
}

/**
 * Inputs the patch map gets its own pass on (probeTriggers' mapInputs): MAP_INPUTS, or as many as
 * MAP_MAC_BUDGET affords at sweepPositions passes per input. Its own budget, so the probing's passes (and
 * with them the trigger score and its null) are the same whatever the map costs. Like the probing budget, a
 * function of the model alone: every model of one architecture gets the same count.
 */
export function mapInputsFor(macsPerInput: number, positions: number, macBudget = MAP_MAC_BUDGET): number {
  const passes = Math.floor(macBudget / macsPerInput);
  return Math.max(0, Math.min(MAP_INPUTS, Math.floor(passes / Math.max(1, positions))));
}

/**
 * Forward passes the compute budget affords, or null when it cannot afford the minimum that means anything:
 * then the check is not run (the report says so) rather than run over budget.
 */
export function triggerBudget(macsPerInput: number, macBudget = TRIGGER_MAC_BUDGET): number | null {
  const affordable = Math.floor(macBudget / macsPerInput);
  if (affordable < MIN_TRIGGER_BUDGET) return null;
  return Math.min(DEFAULT_TRIGGER_BUDGET, affordable);
}

/**
 * The patch map the fingerprint keeps as its "trigger-map" block (the one place that decides it). The
 * user's samples: always, even the sweep's 8-input map (every model saw the same inputs). A base mined per
 * model: only from a pass of its own (more than the sweep's SWEEP_INPUTS inputs). Mined inputs differ from
 * model to model, but every mined base is the same recipe (the most confident inputs of one seeded pool,
 * classes round-robin), so positions compare; on the sweep's 8 mined inputs the map measured as noise (CNN
 * 20-reference AUROC 0.964 -> 0.956), on 64 it catches the adaptive attacker without samples (bench:detect,
 * generated probes: CNN AUROC 0.960 -> 0.993, adaptive 0.825 -> 1.000, 1% poisoning 0.708 -> 1.000). The
 * plain probe set (a budget too small to mine): never.
 */
export function keptMap(basis: TriggerBaseKind, mapInputs: number, map: Float32Array): Float32Array {
  const kept = basis === 'samples' || (basis === 'mined' && mapInputs > SWEEP_INPUTS);
  return kept ? map : new Float32Array(0);
}

export async function runTriggerCheck(
  model: OnnxModel,
  probes: ProbeSet,
  classes: number,
  opts: {
    threads?: number;
    deadline?: number;
    limitMs?: number;
    /** A session of this model without captured layers, opened (and released) by the caller. */
    runner?: ModelRunner;
  } = {},
): Promise<TriggerCheck | null> {
  if (!triggerApplies(model, probes, classes)) return null;
  // The user's samples when there are enough (real inputs: the check's power comes from them), else all probes.
  // The budget first: a model too large to probe (the speed benchmark's ResNet) copies no base inputs.
  const macs = estimateMacs(model, probes.inputs[0].sampleShape);
  const budget = triggerBudget(macs);
  if (budget === null) return null;
  const base = triggerBaseInputs(probes);
  if (!base) return null;
  const runner = opts.runner ?? (await ModelRunner.open(model, { threads: opts.threads }));
  try {
    // Stamped and mined inputs are made in probe space, like the probes: the session normalises them the
    // same way it normalises the probes (--input-mean/--input-std), so the model sees what it expects.
    const normalize = probes.inputs[0].normalize;
    const logits = runner.logitsFunction(base.shape, {
      ...(opts.deadline !== undefined ? { timeLimitMs: Math.max(1, opts.deadline - Date.now()) } : {}),
      ...(normalize ? { normalize } : {}),
    });
    // The model's one time limit covers trigger probing too: checked before every batch of stamped inputs.
    const run = async (inputs: Float32Array, count: number): Promise<Float32Array> => {
      if (opts.deadline !== undefined && Date.now() > opts.deadline) {
        const secs = ((opts.limitMs ?? 0) / 1000).toFixed(1).replace(/\.0$/, '');
        throw new InputError(
          'timeout',
          `${model.path}: fingerprinting took longer than the ${secs} s limit (trigger probing)`,
          model.path,
        );
      }
      return logits(inputs, count);
    };
    // No samples: the base is mined per model from a generated pool (selfcheck/mine-base.ts), its forward
    // passes taken from the same budget; the plain probe set only when the budget is too small to mine.
    const range = { lo: probes.range[0], hi: probes.range[1] };
    const mined =
      base.kind === 'probes' && MINE_BASE_WITHOUT_SAMPLES
        ? await mineTriggerBase(run, base.shape, {
            classes,
            budget,
            seed: probes.seed,
            range,
            file: model.path,
          })
        : null;
    const basis: TriggerBaseKind = mined ? 'mined' : base.kind;
    // The patch map on more inputs (up to MAP_INPUTS), where keptMap keeps it: the samples or the mined base.
    const mapInputs = mapInputsFor(macs, sweepPositions(imageGeometry(base.shape)));
    const r = await probeTriggers(run, mined ? mined.base : base.base, base.shape, {
      classes,
      budget: mined ? mined.probeBudget : budget,
      seed: probes.seed,
      range,
      file: model.path,
      ...(basis !== 'probes' ? { mapInputs } : {}),
    });
    return {
      selfCheck: { ...r.selfCheck, basis },
      block: r.block,
      tierBlock: r.tierBlock,
      mapBlock: keptMap(basis, mapInputs, r.mapBlock),
      forwardPasses: r.forwardPasses + (mined?.forwardPasses ?? 0),
      probe: {
        families: r.families,
        evidence: r.evidence,
        logitScale: r.logitScale,
        classScores: r.classScores,
      },
    };
  } finally {
    if (!opts.runner) await runner.release();
  }
}
