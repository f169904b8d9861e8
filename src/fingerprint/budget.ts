/**
 * The scan budget: how much compute the checks that run the model many times (trigger probing and its patch
 * map) may spend on one model, and how that becomes forward passes per check. A setting is a name, `fast`,
 * `default` or `thorough` (BUDGET_MACS in src/limits.ts), or a number of multiply-accumulates (e.g. `2e13`).
 * The plan is a function of the model and the setting alone, never of the clock: the estimated
 * multiply-accumulates of one forward pass (src/model/macs.ts) divide the setting's allowance into passes;
 * trigger probing takes up to its full DEFAULT_TRIGGER_BUDGET passes first (a text model's token probing: up
 * to tokenPassesWanted for its vocabulary), and the patch map's own pass gets what is left, up to MAP_INPUTS inputs at sweepPositions passes each. A small model gets both in full
 * at any setting (the zoo's 14x14 models use a millionth of the default); a large one gets fewer passes, and
 * a model that cannot afford MIN_TRIGGER_BUDGET passes gets no trigger probing, which the report says, with
 * the setting that would afford it.
 *
 * The probe pass (the probe set through the model once) and the weight statistics (no forward pass) always
 * run and are not charged to the budget.
 *
 * Baselines record the setting their members were fingerprinted with (the trigger blocks of two models
 * compare only under the same plan). A baseline made before budgets existed has none: it is scanned with the
 * LEGACY plan that made it (the former fixed rule: TRIGGER_MAC_BUDGET and MAP_MAC_BUDGET over a rough
 * estimate from the weights), so its members and new scans still compare.
 */
import { InputError } from '../errors.js';
import {
  BUDGET_MACS,
  MAP_MAC_BUDGET,
  MIN_MACS_PER_SECOND,
  MODEL_TIME_LIMIT_MS,
  TRIGGER_MAC_BUDGET,
} from '../limits.js';
import { forwardMacs } from '../model/macs.js';
import type { OnnxModel } from '../model/types.js';
import type { ProbeSet } from '../probes/types.js';
import { DEFAULT_TRIGGER_BUDGET, MIN_TRIGGER_BUDGET } from '../selfcheck/trigger-probe.js';
import { MAP_INPUTS, sweepPositions } from '../selfcheck/sweep.js';
import { imageGeometry } from '../selfcheck/triggers.js';
import { tokenPassesWanted } from '../selfcheck/token-probe.js';
import { findEmbedding } from './embedding-stats.js';

export type BudgetName = keyof typeof BUDGET_MACS;
export const BUDGET_NAMES = Object.keys(BUDGET_MACS) as BudgetName[];

/** A budget setting: its name as the user gave it (or the number), and its allowance. */
export interface ScanBudget {
  /** 'fast' | 'default' | 'thorough', a number of multiply-accumulates as written, or 'legacy'. */
  setting: string;
  /** Multiply-accumulates the forward-pass checks may spend on one model. */
  macs: number;
}

export const DEFAULT_SCAN_BUDGET: ScanBudget = { setting: 'default', macs: BUDGET_MACS.default };

/** The plan of baselines built before budgets existed (see the file header). */
export const LEGACY_SCAN_BUDGET: ScanBudget = {
  setting: 'legacy',
  macs: TRIGGER_MAC_BUDGET + MAP_MAC_BUDGET,
};

/** Fewest and most multiply-accumulates a numeric setting may give (below: nothing runs; above: days). */
export const MIN_BUDGET_MACS = 1e6;
export const MAX_BUDGET_MACS = 1e17;

/** A --budget / `budget` value checked: a setting, or an InputError naming `where` and the accepted values. */
export function parseBudget(value: string, where = '--budget'): ScanBudget {
  const v = value.trim().toLowerCase();
  if ((BUDGET_NAMES as string[]).includes(v)) return { setting: v, macs: BUDGET_MACS[v as BudgetName] };
  const n = Number(v);
  if (/^[0-9.e+]+$/.test(v) && Number.isFinite(n) && n >= MIN_BUDGET_MACS && n <= MAX_BUDGET_MACS) {
    return { setting: v, macs: n };
  }
  throw new InputError(
    'bad-argument',
    `${where} ${value}: expected ${BUDGET_NAMES.join(', ')} or a number of multiply-accumulates per model between ${MIN_BUDGET_MACS.toExponential(0)} and ${MAX_BUDGET_MACS.toExponential(0)} (e.g. 2e13)`,
  );
}

/**
 * A budget recorded in a baseline manifest or partial, checked: absent means the legacy plan; a record that
 * is not one this version can plan with is null (the caller refuses the baseline).
 */
export function recordedBudget(record: unknown): ScanBudget | null {
  if (record === undefined) return LEGACY_SCAN_BUDGET;
  const r = record as Partial<ScanBudget> | null;
  if (!r || typeof r.setting !== 'string' || typeof r.macs !== 'number') return null;
  if (r.setting === LEGACY_SCAN_BUDGET.setting) return LEGACY_SCAN_BUDGET;
  try {
    const b = parseBudget(r.setting);
    return b.macs === r.macs ? b : null;
  } catch {
    return null;
  }
}

/** Whether two settings plan the same passes for every model. */
export function sameBudget(a: ScanBudget, b: ScanBudget): boolean {
  return a.setting === LEGACY_SCAN_BUDGET.setting || b.setting === LEGACY_SCAN_BUDGET.setting
    ? a.setting === b.setting
    : a.macs === b.macs;
}

/** A budget as people read it: "default (3e12 multiply-accumulates)". */
export function describeBudget(b: ScanBudget): string {
  if (b.setting === LEGACY_SCAN_BUDGET.setting)
    return 'legacy (the fixed rule of baselines built before --budget)';
  const macs = formatMacs(b.macs);
  return (BUDGET_NAMES as string[]).includes(b.setting)
    ? `${b.setting} (${macs} multiply-accumulates)`
    : `${macs} multiply-accumulates`;
}

/** 3e12 -> "3e12", 1.25e13 -> "1.25e13". */
export function formatMacs(x: number): string {
  return x
    .toExponential()
    .replace(/\.?0+e/, 'e')
    .replace('e+', 'e');
}

export interface BudgetPlan {
  budget: ScanBudget;
  /** Estimated multiply-accumulates of one forward pass of one input. */
  macsPerPass: number;
  /** Forward passes trigger probing may run (mining included); null: fewer than MIN_TRIGGER_BUDGET afforded. */
  triggerPasses: number | null;
  /** Inputs of the patch map's own pass (0: none; it runs with more than SWEEP_INPUTS). */
  mapInputs: number;
  /** Passes one map input costs (the sweep's positions; 0 when the input is not an image). */
  mapPositions: number;
}

/** The shapes of one input of every probe input, batch 1 (what forwardMacs follows). */
function oneInputShapes(probes: Pick<ProbeSet, 'inputs'>): Map<string, number[]> {
  return new Map(
    probes.inputs.map((i) => [i.name, i.batch === 'none' ? i.sampleShape.slice() : [1, ...i.sampleShape]]),
  );
}

/** The former estimate (legacy plans only): conv weights once per output at a quarter of the input's area. */
export function legacyMacs(model: OnnxModel, sampleShape: number[]): number {
  const spatial =
    sampleShape.length >= 2 ? sampleShape[sampleShape.length - 1] * sampleShape[sampleShape.length - 2] : 1;
  const convWeights = new Set<string>();
  for (const node of model.proto.graph?.node ?? []) {
    if (node.opType === 'Conv' && node.input && node.input[1]) convWeights.add(node.input[1]);
  }
  let macs = 0;
  for (const init of model.initializers) {
    const elems = init.dims.reduce((a, b) => a * b, 1);
    macs += convWeights.has(init.name) ? elems * Math.max(1, spatial * 0.25) : elems;
  }
  return Math.max(1, macs);
}

/**
 * Legacy plan: inputs the patch map gets its own pass on, MAP_INPUTS or as many as MAP_MAC_BUDGET affords at
 * `positions` passes per input (its own budget, beside the probing's).
 */
export function mapInputsFor(macsPerInput: number, positions: number, macBudget = MAP_MAC_BUDGET): number {
  const passes = Math.floor(macBudget / macsPerInput);
  return Math.max(0, Math.min(MAP_INPUTS, Math.floor(passes / Math.max(1, positions))));
}

/**
 * Legacy plan: forward passes TRIGGER_MAC_BUDGET affords trigger probing, or null below the minimum that
 * means anything (then the check is not run rather than run over budget).
 */
export function triggerBudget(
  macsPerInput: number,
  macBudget = TRIGGER_MAC_BUDGET,
  wanted = DEFAULT_TRIGGER_BUDGET,
): number | null {
  const affordable = Math.floor(macBudget / macsPerInput);
  if (affordable < MIN_TRIGGER_BUDGET) return null;
  return Math.min(wanted, affordable);
}

/** The sweep's positions on this input, or 0 when it is not an image the sweep can stamp. */
function positionsOf(sampleShape: number[]): number {
  try {
    return sweepPositions(imageGeometry(sampleShape));
  } catch {
    return 0;
  }
}

/**
 * The vocabulary of a text model's token-id input (one int input read by an embedding Gather), or null: its
 * trigger probing is the token family, which wants passes by vocabulary size and has no patch map.
 */
function tokenVocabulary(model: OnnxModel, probes: Pick<ProbeSet, 'inputs'>): number | null {
  const inp = probes.inputs.length === 1 ? probes.inputs[0] : undefined;
  if (!inp || (inp.dtype !== 'int64' && inp.dtype !== 'int32')) return null;
  return findEmbedding(model, inp.name)?.vocab ?? null;
}

/** The plan for one model under one setting (see the file header). */
export function planBudget(
  model: OnnxModel,
  probes: Pick<ProbeSet, 'inputs'>,
  budget: ScanBudget,
): BudgetPlan {
  const sampleShape = probes.inputs[0]?.sampleShape ?? [];
  const vocab = tokenVocabulary(model, probes);
  const mapPositions = probes.inputs.length === 1 && vocab === null ? positionsOf(sampleShape) : 0;
  const wanted = vocab === null ? DEFAULT_TRIGGER_BUDGET : tokenPassesWanted(vocab);
  if (budget.setting === LEGACY_SCAN_BUDGET.setting) {
    const macsPerPass = legacyMacs(model, sampleShape);
    const affordable = triggerBudget(macsPerPass, TRIGGER_MAC_BUDGET, wanted);
    return {
      budget,
      macsPerPass,
      triggerPasses: affordable,
      mapInputs: mapInputsFor(macsPerPass, mapPositions),
      mapPositions,
    };
  }
  const macsPerPass = forwardMacs(model, oneInputShapes(probes)).macs;
  const passes = Math.floor(budget.macs / macsPerPass);
  const trigger = Math.min(wanted, passes);
  if (trigger < MIN_TRIGGER_BUDGET)
    return { budget, macsPerPass, triggerPasses: null, mapInputs: 0, mapPositions };
  const mapInputs =
    mapPositions > 0 ? Math.max(0, Math.min(MAP_INPUTS, Math.floor((passes - trigger) / mapPositions))) : 0;
  return { budget, macsPerPass, triggerPasses: trigger, mapInputs, mapPositions };
}

/**
 * The setting that would afford trigger probing on a model of `macsPerPass` (the smallest named one, else
 * the number), for the report's fix.
 */
export function budgetAffording(macsPerPass: number, passes = MIN_TRIGGER_BUDGET): ScanBudget {
  const need = macsPerPass * passes;
  const named = BUDGET_NAMES.find((n) => BUDGET_MACS[n] >= need);
  if (named) return { setting: named, macs: BUDGET_MACS[named] };
  // two significant digits, rounded up
  const unit = 10 ** (Math.floor(Math.log10(need)) - 1);
  const macs = Math.ceil(need / unit) * unit;
  return { setting: formatMacs(macs), macs };
}

/** The next larger setting than `b` (a named one, else four times the allowance). */
export function largerBudget(b: ScanBudget): ScanBudget {
  const named = BUDGET_NAMES.find((n) => BUDGET_MACS[n] > b.macs);
  if (named && b.setting !== LEGACY_SCAN_BUDGET.setting) return { setting: named, macs: BUDGET_MACS[named] };
  return budgetAffording(b.macs * 4, 1);
}

/**
 * The per-model time limit: the fixed allowance (MODEL_TIME_LIMIT_MS unless --time-limit gave one) plus the probe pass at MIN_MACS_PER_SECOND, and, once trigger
 * probing is about to run, plus its planned passes (triggerTimeFor), so a large model the budget plans
 * minutes of work for is not cut off, while a model whose real cost is far beyond its estimate (a loop inside
 * the graph) still stops, and a model trigger probing does not apply to keeps the fixed limit. The limit
 * only turns a runaway scan into an error; it never changes a result.
 */
export function timeLimitFor(
  plan: BudgetPlan,
  probeCount: number,
  allowanceMs = MODEL_TIME_LIMIT_MS,
): number {
  return allowanceMs + msFor(probeCount * plan.macsPerPass);
}

/** What trigger probing and its patch map add to the time limit (see timeLimitFor). */
export function triggerTimeFor(plan: BudgetPlan): number {
  return msFor(((plan.triggerPasses ?? 0) + plan.mapInputs * plan.mapPositions) * plan.macsPerPass);
}

function msFor(macs: number): number {
  return Math.ceil((macs / MIN_MACS_PER_SECOND) * 1000);
}
