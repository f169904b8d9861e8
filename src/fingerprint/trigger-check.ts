/**
 * Glue between the fingerprint and reference-free trigger probing (src/selfcheck): runs it on the probe
 * inputs of a single-float-input classifier, with the forward passes the scan budget plans for the model
 * (src/fingerprint/budget.ts: a big model gets fewer candidates, never a slow scan; a model too big for even
 * the minimum is not probed). On the user's samples or a mined base, the patch map's own pass gets the
 * inputs the plan leaves for it. The plan depends on the model and the setting alone (not on the clock), so
 * results are the same on every machine. A text model (one token-id input read by an embedding) gets the
 * token family instead (token-trigger-check.ts). Models it does not apply to (several inputs, other integer
 * inputs, fewer than 3 classes) get no trigger check; the report says why (triggerSkipReason).
 */
import type { OnnxModel } from '../model/types.js';
import { ModelRunner } from '../model/session.js';
import type { ProbeSet } from '../probes/types.js';
import {
  DEFAULT_TRIGGER_BUDGET,
  probeTriggers,
  type TriggerProbeResult,
} from '../selfcheck/trigger-probe.js';
import { decisiveTriggerScore } from '../selfcheck/decisive.js';
import {
  MINE_BASE_WITHOUT_SAMPLES,
  triggerBaseInputs,
  type TriggerBaseKind,
} from '../selfcheck/base-inputs.js';
import { mineTriggerBase, miningPasses } from '../selfcheck/mine-base.js';
import { synthesiseTriggerBase } from './synth-base.js';
import { SWEEP_INPUTS } from '../selfcheck/sweep.js';
import type { SelfCheck } from './types.js';
import type { InversionSeam } from '../selfcheck/token-probe.js';
import type { TriggerEvidence } from '../selfcheck/evidence.js';
import { DEFAULT_SCAN_BUDGET, planBudget, type BudgetPlan } from './budget.js';
import { runTokenTriggerCheck, tokenTriggerTarget, type TokenTriggerCheck } from './token-trigger-check.js';
import { withDeadline } from './trigger-deadline.js';

/** Fewest classes trigger probing can contrast. */
export const MIN_TRIGGER_CLASSES = 3;

export interface TriggerCheck {
  selfCheck: SelfCheck;
  block: Float32Array;
  /** The per-tier "trigger-tiers" block (TriggerProbeResult.tierBlock). */
  tierBlock: Float32Array;
  /** The position-aligned "trigger-map" block (TriggerProbeResult.mapBlock); empty without a sweep. */
  mapBlock: Float32Array;
  /** A text model's token gain map ("trigger-gain-map", TokenProbeResult.gainMap); absent or empty otherwise. */
  gainMapBlock?: Float32Array;
  /** What the report's pictures show (TriggerProbeResult.evidence), with what the triggers were stamped on. */
  evidence: TriggerEvidence | null;
  forwardPasses: number;
  /** Of forwardPasses: the patch map's own pass. */
  mapPasses: number;
  /** Candidate triggers screened, of those generated (fewer: the budget cut the search short). */
  candidatesScreened: number;
  candidatesTotal: number;
  /** Whether refinement stopped early on decisive evidence (TriggerProbeOptions.decisiveScore). */
  stoppedEarly: boolean;
}

/** Image trigger probing's result, with what its class-anomaly score read (for the benchmarks). */
export interface ImageTriggerCheck extends TriggerCheck {
  /** The per-class tables and the candidate evidence of the probing. */
  probe: Pick<
    TriggerProbeResult,
    'families' | 'candidateStats' | 'logitScale' | 'classScores' | 'shownCandidates'
  >;
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

/** Why trigger probing does not apply to a model, in the report's terms; null when it applies. */
export function triggerSkipReason(
  model: OnnxModel,
  probes: ProbeSet,
  classes: number,
): 'input-kind' | 'classes' | null {
  // a text model's token probing applies too (then only the budget can have stopped it)
  if (triggerApplies(model, probes, classes) || tokenTriggerTarget(model, probes, classes)) return null;
  return classes < MIN_TRIGGER_CLASSES &&
    model.inputs.length === 1 &&
    probes.inputs.length === 1 &&
    probes.inputs[0].dtype === 'float32'
    ? 'classes'
    : 'input-kind';
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

/** Options of trigger probing, images and tokens alike. */
export interface TriggerCheckOptions {
  threads?: number;
  deadline?: number;
  limitMs?: number;
  /** A session of this model without captured layers, opened (and released) by the caller. */
  runner?: ModelRunner;
  /** The budget's plan for this model (default: the default setting's). */
  plan?: BudgetPlan;
  /** false: no patch-map pass of its own (nothing reads the block). */
  map?: boolean;
  /**
   * A scan whose verdict is the reference-free trigger test (no baseline): when the budget cut the probing
   * short, stop refining once that verdict is final (src/selfcheck/decisive.ts).
   */
  earlyStop?: boolean;
  /** A text model's vocabulary file: names the trigger words (src/probes/vocab.ts). */
  vocabFile?: string;
  /**
   * No samples: synthesise the base from the model (synth-base.ts) instead of mining it; a model it cannot
   * handle is mined as before, and the detail says why. Opt-in (--synthesise-base; bench/results/synth.md).
   */
  synthesise?: boolean;
  /**
   * Text models: gradient-based trigger inversion through the embedding as a further candidate source of
   * the token search (src/selfcheck/token-invert.ts; --token-inversion). Opt-in; the object form plugs in
   * the benchmarks' variants (bench/text/invert.ts).
   */
  tokenInversion?: boolean | InversionSeam;
}

export async function runTriggerCheck(
  model: OnnxModel,
  probes: ProbeSet,
  classes: number,
  opts: TriggerCheckOptions = {},
): Promise<ImageTriggerCheck | TokenTriggerCheck | null> {
  // A text model (one token-id input read by an embedding): the token family (token-trigger-check.ts).
  if (tokenTriggerTarget(model, probes, classes)) return runTokenTriggerCheck(model, probes, classes, opts);
  if (!triggerApplies(model, probes, classes)) return null;
  // The user's samples when there are enough (real inputs: the check's power comes from them), else all probes.
  // The budget first: a model too large to probe copies no base inputs.
  const plan = opts.plan ?? planBudget(model, probes, DEFAULT_SCAN_BUDGET);
  const budget = plan.triggerPasses;
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
    const run = withDeadline(logits, model.path, opts.deadline, opts.limitMs);
    // No samples: the base is mined per model from a generated pool (selfcheck/mine-base.ts), its forward
    // passes taken from the same budget; the plain probe set only when the budget is too small to mine.
    const range = { lo: probes.range[0], hi: probes.range[1] };
    const synth =
      base.kind === 'probes' && opts.synthesise
        ? await synthesiseTriggerBase(model, base.shape, classes, {
            seed: probes.seed,
            range,
            ...(normalize ? { normalize } : {}),
            ...(opts.threads ? { threads: opts.threads } : {}),
            budget: plan.budget,
          })
        : null;
    const synthesised = synth?.base
      ? {
          base: synth.base,
          // Probing gets what mining would have left it (the synthesised null was fitted so).
          probeBudget: budget - miningPasses(budget, synth.base.length / synth.count),
        }
      : null;
    const mined =
      base.kind === 'probes' && MINE_BASE_WITHOUT_SAMPLES && !synthesised
        ? await mineTriggerBase(run, base.shape, {
            classes,
            budget,
            seed: probes.seed,
            range,
            file: model.path,
          })
        : null;
    const made = synthesised ?? mined;
    const basis: TriggerBaseKind = synthesised ? 'synthesised' : mined ? 'mined' : base.kind;
    // The patch map on more inputs (up to MAP_INPUTS), where keptMap keeps it: the samples or the mined base.
    const mapInputs = opts.map === false ? 0 : plan.mapInputs;
    const r = await probeTriggers(run, made ? made.base : base.base, base.shape, {
      classes,
      budget: made ? made.probeBudget : budget,
      seed: probes.seed,
      range,
      file: model.path,
      ...(basis !== 'probes' ? { mapInputs } : {}),
      ...(opts.earlyStop && budget < DEFAULT_TRIGGER_BUDGET
        ? { decisiveScore: decisiveTriggerScore(classes, basis) }
        : {}),
    });
    return {
      selfCheck: {
        ...r.selfCheck,
        basis,
        // asked to synthesise and could not: why the inputs were mined instead (the report's notes say it)
        ...(synth && synth.base === null ? { notSynthesised: synth.reason } : {}),
      },
      block: r.block,
      tierBlock: r.tierBlock,
      mapBlock: keptMap(basis, mapInputs, r.mapBlock),
      evidence: r.evidence && { ...r.evidence, basis },
      forwardPasses: r.forwardPasses + (mined?.forwardPasses ?? 0),
      mapPasses: r.mapPasses,
      candidatesScreened: r.candidatesScreened,
      candidatesTotal: r.candidatesTotal,
      stoppedEarly: r.stoppedEarly,
      probe: {
        families: r.families,
        candidateStats: r.candidateStats,
        logitScale: r.logitScale,
        classScores: r.classScores,
        shownCandidates: r.shownCandidates,
      },
    };
  } finally {
    if (!opts.runner) await runner.release();
  }
}
