/**
 * fingerprintModel: probes -> one ORT session (graph outputs + chosen layers) -> feature blocks + weight
 * statistics + reference-free self-checks. The result depends only on the model bytes and the probe spec.
 *
 * 'auto' layer rule (documented in docs/format.md): the last AUTO_LAYER_COUNT activation outputs (Relu,
 * Gelu, Sigmoid, Tanh, ...; see ACTIVATION_OPS) that come before the final linear layer in topological order;
 * when the final linear layer cannot be found, the last activations before the producer of the first output;
 * when there are no activations, the final linear layer's input if a node produces it.
 */
import { inferVocabSize } from '../model/graph.js';
import { ModelRunner, runProbes } from '../model/session.js';
import type { OnnxModel } from '../model/types.js';
import { signatureOf } from '../model/types.js';
import { generateProbes } from '../probes/generate.js';
import type { ProbeSet, ProbeSpec } from '../probes/types.js';
import { InputError } from '../errors.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { findFinalLinear } from './final-layer.js';
import { runTriggerCheck, triggerSkipReason, type TriggerCheck } from './trigger-check.js';
import { inversionSelfCheck } from './inversion-selfcheck.js';
import {
  DEFAULT_SCAN_BUDGET,
  planBudget,
  timeLimitFor,
  triggerTimeFor,
  type BudgetPlan,
  type ScanBudget,
} from './budget.js';
import { SWEEP_INPUTS } from '../selfcheck/sweep.js';
import { EMBEDDING_BLOCK, embeddingSelfCheck, embeddingStats, findEmbedding } from './embedding-stats.js';
import { TOKEN_GAIN_MAP_BLOCK, TOKEN_MAP_MAX_TOKENS } from '../selfcheck/token-probe.js';
import { RAW_BLOCK_MAX_FEATURES, gramBlock, softmaxStats, sortedBlock } from './representations.js';
import {
  FEATURES_VERSION,
  FINGERPRINT_FORMAT_VERSION,
  type BudgetRecord,
  type CheckRecord,
  type Fingerprint,
  type SelfCheck,
} from './types.js';
import { finalWeightStats, type LayerWeightStats } from './weights.js';
import { layerWeightStatsOffloaded } from './weights-offload.js';
import { ACTIVATION_OPS } from '../model/activation-ops.js';

export const AUTO_LAYER_COUNT = 2;
export { ACTIVATION_OPS };

export interface FingerprintOptions {
  probes: ProbeSpec;
  layers?: string[] | 'auto';
  batchSize?: number;
  /** Per-model time limit (ms); default: timeLimitFor the budget's plan (src/fingerprint/budget.ts). */
  timeLimitMs?: number;
  /**
   * The fixed part of that default limit (ms; MODEL_TIME_LIMIT_MS unless given): what a slow or busy machine
   * raises (--time-limit). The budget's planned work is still added on top.
   */
  timeAllowanceMs?: number;
  threads?: number;
  /** The scan budget (default: the default setting). */
  budget?: ScanBudget;
  /**
   * The verdict will be the reference-free trigger test (a scan without a baseline): trigger probing may stop
   * refining once it is final (src/selfcheck/decisive.ts).
   */
  earlyStop?: boolean;
  /** false skips reference-free trigger probing (the reader fuzz tests, which exercise reading, not probing). */
  trigger?: boolean;
  /**
   * Trigger inversion by gradient beside trigger probing (`scan --inversion`, no baseline; opt-in:
   * inversion-selfcheck.ts), as selfChecks.inversion.
   */
  inversion?: boolean;
  /**
   * The blocks the caller will read, as ensemble block names or prefixes ("logits", "gram:L-1", "self:trigger",
   * see src/scan/blocks.ts); absent = every block (baseline builds and `fingerprint` keep everything). A scan
   * against a baseline passes the representations of the baseline's channels, so it skips what nothing
   * reads: hidden-layer capture (and its blocks) when no channel uses a layer block, and weights:layers.
   * The class outputs, the weights:final statistics and the self-checks are always computed (cheap, and
   * the verdict and the report read them).
   */
  blocks?: string[];
  /** Keep what trigger probing found for the report's pictures (Fingerprint.evidence). */
  evidence?: boolean;
}

/** Hidden-layer block kinds (src/fingerprint/representations.ts), named "<kind>:<layer>". */
const LAYER_BLOCK_KINDS = ['gram', 'sorted', 'raw'];

/** Whether a block of this name (or, for layer blocks, this kind) is read by the caller. */
function reads(blocks: string[] | undefined, name: string): boolean {
  return !blocks || blocks.some((b) => b === name || b.startsWith(name) || name.startsWith(b));
}

/** The layers the 'auto' rule picks (see the file header). */
export function autoLayers(model: OnnxModel): string[] {
  const fl = findFinalLinear(model);
  const outName = model.outputs[0]?.name;
  const stopTensor = fl ? (fl.node.output ?? [])[0] : outName;
  const stop = model.layers.findIndex((l) => l.name === stopTensor);
  const before = stop >= 0 ? model.layers.slice(0, stop) : model.layers;
  const acts = before.filter((l) => ACTIVATION_OPS.has(l.op) && l.name !== outName);
  if (acts.length) return acts.slice(-AUTO_LAYER_COUNT).map((l) => l.name);
  if (fl && model.layers.some((l) => l.name === fl.input)) return [fl.input];
  return [];
}

export async function fingerprintModel(model: OnnxModel, opts: FingerprintOptions): Promise<Fingerprint> {
  const started = Date.now();
  const vocabByInput: Record<string, number> = {};
  for (const inp of model.inputs) {
    const v = inferVocabSize(model, inp.name);
    if (v) vocabByInput[inp.name] = v;
  }
  const probes = generateProbes(model.inputs, opts.probes, { file: model.path, vocabByInput });
  const plan = planBudget(model, probes, opts.budget ?? DEFAULT_SCAN_BUDGET);
  // One time limit for the whole fingerprint: probing (session.ts), the weight statistics, and trigger probing
  // (which extends it by its planned work when it runs).
  const limitMs = opts.timeLimitMs ?? timeLimitFor(plan, probes.count, opts.timeAllowanceMs);
  const deadline = started + limitMs;

  const known = new Set(model.layers.map((l) => l.name));
  const requested = opts.layers === undefined || opts.layers === 'auto' ? autoLayers(model) : opts.layers;
  for (const l of requested) {
    if (!known.has(l)) {
      throw new InputError(
        'bad-argument',
        `${model.path}: no layer named "${l}"; run \`model-fingerprint inspect\` to list the layers`,
        model.path,
      );
    }
  }
  const outputNames = new Set(model.outputs.map((o) => o.name));
  const readsLayers = LAYER_BLOCK_KINDS.some((k) => reads(opts.blocks, `${k}:`));
  const layers = readsLayers ? requested.filter((l) => !outputNames.has(l)) : [];

  // The layer weight statistics need no inference: a worker thread computes them during the probe pass.
  // (Handled at once so an early failure is never an unhandled rejection; fingerprintWith awaits it.)
  const layerWeights = reads(opts.blocks, 'weights:layers')
    ? layerWeightStatsOffloaded(model, { deadline, limitMs })
    : null;
  layerWeights?.catch(() => undefined);

  // With no layer captured, the probe pass and trigger probing need the very same session: open it once.
  const shared =
    layers.length === 0 && opts.trigger !== false
      ? await ModelRunner.open(model, { threads: opts.threads })
      : undefined;
  try {
    return await fingerprintWith(model, opts, probes, layers, shared, layerWeights, deadline, limitMs, plan);
  } finally {
    await shared?.release();
  }
}

async function fingerprintWith(
  model: OnnxModel,
  opts: FingerprintOptions,
  probes: ProbeSet,
  layers: string[],
  shared: ModelRunner | undefined,
  layerWeights: Promise<LayerWeightStats> | null,
  deadline: number,
  limitMs: number,
  plan: BudgetPlan,
): Promise<Fingerprint> {
  const run = shared
    ? await shared.run(probes, { batchSize: opts.batchSize, timeLimitMs: Math.max(0, deadline - Date.now()) })
    : await runProbes(model, probes, {
        layers,
        batchSize: opts.batchSize,
        timeLimitMs: opts.timeLimitMs,
        threads: opts.threads,
      });

  const n = probes.count;
  const blocks: Record<string, Float32Array> = {};
  const selfChecks: Record<string, SelfCheck> = {};
  const out = run.tensors.get(model.outputs[0].name);
  if (!out || !out.perProbe) {
    throw new InputError(
      'unsupported-input',
      `${model.path}: the first output "${model.outputs[0].name}" is not a numeric per-probe tensor; fingerprinting needs class scores`,
      model.path,
    );
  }
  const classes = out.data.length / n;
  blocks.logits = out.data;
  blocks['softmax-stats'] = softmaxStats(out.data, n, classes);

  const captured: string[] = [];
  for (const name of layers) {
    const t = run.tensors.get(name);
    if (!t || !t.perProbe || t.data.length === 0) continue;
    const f = t.data.length / n;
    captured.push(name);
    blocks[`gram:${name}`] = gramBlock(t.data, n, f);
    blocks[`sorted:${name}`] = sortedBlock(t.data, n, f);
    if (f <= RAW_BLOCK_MAX_FEATURES) blocks[`raw:${name}`] = t.data;
  }

  // Trigger probing contrasts classes: an output with more than one non-unit axis per probe (a segmentation
  // map, a sequence of scores) is not one score per class, and probing it would treat every cell as a class.
  const scoresPerClass = out.shape.slice(1).filter((d) => d > 1).length <= 1;
  // The budget's planned work extends the limit when trigger probing runs (an explicit limit stays as given).
  const extraMs = opts.timeLimitMs === undefined ? triggerTimeFor(plan) : 0;
  const trig =
    opts.trigger === false || !scoresPerClass
      ? null
      : await runTriggerCheck(model, probes, classes, {
          threads: opts.threads,
          deadline: deadline + extraMs,
          limitMs: limitMs + extraMs,
          ...(shared ? { runner: shared } : {}),
          plan,
          map: reads(opts.blocks, 'trigger-map'),
          ...(opts.earlyStop ? { earlyStop: true } : {}),
          ...(opts.probes.vocabFile ? { vocabFile: opts.probes.vocabFile } : {}),
          ...(opts.probes.synthesiseBase ? { synthesise: true } : {}),
          ...(opts.probes.tokenInversion ? { tokenInversion: true } : {}),
        });
  if (trig) {
    blocks.trigger = trig.block;
    blocks['trigger-tiers'] = trig.tierBlock;
    // Empty unless the map is a feature (trigger-check.ts keptMap decides: samples, or a mined base's own pass).
    if (trig.mapBlock.length > 0) blocks['trigger-map'] = trig.mapBlock;
    // A text model's token gain map: token-aligned like the token map, on the same texts (token-probe.ts).
    if (trig.gainMapBlock && trig.gainMapBlock.length > 0) blocks[TOKEN_GAIN_MAP_BLOCK] = trig.gainMapBlock;
    selfChecks.trigger = trig.selfCheck;
    if (opts.inversion) {
      const inv = await inversionSelfCheck(model, probes, classes, {
        threads: opts.threads,
        budget: plan.budget,
      });
      if (inv) selfChecks.inversion = inv;
    }
  }
  const evidence = opts.evidence && trig?.evidence ? { evidence: trig.evidence } : {};

  // A text model's embedding: per-token norms (token-aligned across models of one vocabulary) and the
  // most outlying row (embedding-stats.ts).
  const table = model.inputs.length === 1 ? findEmbedding(model, model.inputs[0].name) : null;
  if (table) {
    const es = embeddingStats(table);
    if (table.vocab <= TOKEN_MAP_MAX_TOKENS && reads(opts.blocks, EMBEDDING_BLOCK))
      blocks[EMBEDDING_BLOCK] = es.norms;
    selfChecks['embedding-outlier'] = embeddingSelfCheck(es);
  }

  const fl = findFinalLinear(model);
  if (fl) {
    const fw = finalWeightStats(fl);
    blocks['weights:final'] = fw.block;
    selfChecks['weight-outlier'] = fw.selfCheck;
  }
  if (layerWeights) {
    const lw = await layerWeights;
    if (lw.block.length) blocks['weights:layers'] = lw.block;
  }

  return {
    header: {
      formatVersion: FINGERPRINT_FORMAT_VERSION,
      tool: { name: TOOL_NAME, version: TOOL_VERSION },
      model: {
        path: model.path,
        sha256: model.sha256,
        signature: signatureOf(model.inputs, model.outputs),
        classes,
      },
      probes: { hash: probes.hash, count: n, seed: probes.seed, kinds: probes.kinds },
      layers: captured,
      createdAt: new Date().toISOString(),
      features: FEATURES_VERSION,
      budget: budgetRecord(plan, probes, trig, {
        triggerSkip:
          opts.trigger === false
            ? 'disabled'
            : !scoresPerClass
              ? 'output-kind'
              : triggerSkipReason(model, probes, classes),
        mapRead: reads(opts.blocks, 'trigger-map'),
        finalLayer: Boolean(fl),
      }),
    },
    blocks,
    selfChecks,
    ...evidence,
  };
}

/** What each check got under the plan (the report's per-check passes and reasons). */
function budgetRecord(
  plan: BudgetPlan,
  probes: ProbeSet,
  trig: TriggerCheck | null,
  why: { triggerSkip: CheckRecord['skipped'] | null; mapRead: boolean; finalLayer: boolean },
): BudgetRecord {
  const triggerSkip = why.triggerSkip ?? (plan.triggerPasses === null ? 'budget' : 'input-kind');
  const mapSkip: CheckRecord['skipped'] = !trig
    ? triggerSkip
    : !why.mapRead
      ? 'not-read'
      : trig.selfCheck.basis === 'probes'
        ? 'base'
        : plan.mapInputs <= SWEEP_INPUTS
          ? 'budget'
          : undefined;
  const checks: Record<string, CheckRecord> = {
    probes: { passes: probes.count },
    'trigger-probe': trig
      ? { passes: trig.forwardPasses - trig.mapPasses }
      : { passes: 0, skipped: triggerSkip },
    'patch-map':
      trig && trig.mapPasses > 0 ? { passes: trig.mapPasses } : { passes: 0, skipped: mapSkip ?? 'budget' },
    'final-layer-weights': why.finalLayer ? { passes: 0 } : { passes: 0, skipped: 'no-final-layer' },
  };
  return {
    setting: plan.budget.setting,
    macs: plan.budget.macs,
    macsPerPass: plan.macsPerPass,
    checks,
    ...(trig
      ? { triggerCandidates: { screened: trig.candidatesScreened, total: trig.candidatesTotal } }
      : {}),
    ...(trig?.stoppedEarly ? { stoppedEarly: true } : {}),
  };
}
