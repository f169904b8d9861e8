/**
 * Glue between the fingerprint and token trigger probing (src/selfcheck/token-probe.ts) for text models:
 * one int64/int32 token-id input [N, seq] read by an embedding Gather, class logits out. The sibling of
 * trigger-check.ts (images): the same budget rule (a compute budget in estimated multiply-accumulates, a
 * function of the model alone), the same result (TriggerCheck), the same bases:
 *   samples  the user's texts (ProbeSet.triggerTokens: .txt lines tokenised with the vocabulary, or .npy ids);
 *   mined    without samples, texts built from the model's own view of its vocabulary (token-mine.ts);
 *   probes   the generated token probes, when the budget is too small to mine.
 * The padding id is the vocabulary file's padding token, else the embedding's one all-zero row (PyTorch's
 * padding_idx), else 0. With a vocabulary file the reported trigger carries its words.
 */
import type { OnnxModel } from '../model/types.js';
import { ModelRunner } from '../model/session.js';
import type { ProbeSet } from '../probes/types.js';
import { readVocabularyCached, wordOf, type Vocabulary } from '../probes/vocab.js';
import { MIN_SAMPLE_BASE, type TriggerBaseKind } from '../selfcheck/base-inputs.js';
import { MIN_TRIGGER_BUDGET } from '../selfcheck/trigger-probe.js';
import { DEFAULT_TOKEN_BUDGET, probeTokenTriggers, type TokenProbeResult } from '../selfcheck/token-probe.js';
import { mineTokenTexts } from '../selfcheck/token-mine.js';
import { tokenCandidateOrder } from '../selfcheck/token-candidates.js';
import { TOKEN_MINE_BUDGET_SHARE, TOKEN_TRIGGER_MAC_BUDGET } from '../limits.js';
import {
  embeddingStats,
  findEmbedding,
  type EmbeddingStats,
  type EmbeddingTable,
} from './embedding-stats.js';
import type { TriggerCheck, TriggerCheckOptions } from './trigger-check.js';
import { withDeadline } from './trigger-deadline.js';

/** Fewest classes trigger probing can contrast (the same as for images). */
const MIN_CLASSES = 3;

/** The token-id input and its embedding, when token trigger probing applies to this model and probe set. */
export function tokenTriggerTarget(
  model: OnnxModel,
  probes: ProbeSet,
  classes: number,
): { table: EmbeddingTable; seq: number } | null {
  if (model.inputs.length !== 1 || probes.inputs.length !== 1 || classes < MIN_CLASSES) return null;
  const inp = probes.inputs[0];
  if (inp.dtype !== 'int64' && inp.dtype !== 'int32') return null;
  const seq = inp.sampleShape.reduce((a, b) => a * b, 1);
  if (seq < 1) return null;
  const table = findEmbedding(model, inp.name);
  return table ? { table, seq } : null;
}

/**
 * Multiply-accumulates of one text, estimated from the weights: an embedding table counts the rows one text
 * reads (seq x dim), every other weight once per token position (seq x its elements: a projection or a 1-D
 * convolution runs at every position; the classifier after pooling runs once, so this overcounts it).
 */
export function estimateTokenMacs(model: OnnxModel, table: EmbeddingTable, seq: number): number {
  const gathered = new Set<string>([table.name]);
  for (const n of model.proto.graph?.node ?? [])
    if (n.opType === 'Gather' && n.input?.[0]) gathered.add(n.input[0]);
  let macs = 0;
  for (const init of model.initializers) {
    const elems = init.dims.reduce((a, b) => a * b, 1);
    const rowLen = init.dims.length >= 2 ? elems / Math.max(1, init.dims[0]) : 1;
    macs += gathered.has(init.name) ? seq * rowLen : elems * seq;
  }
  return Math.max(1, macs);
}

/** Forward passes the compute budget affords, or null below the minimum that means anything. */
export function tokenTriggerBudget(macsPerText: number, macBudget = TOKEN_TRIGGER_MAC_BUDGET): number | null {
  const affordable = Math.floor(macBudget / macsPerText);
  if (affordable < MIN_TRIGGER_BUDGET) return null;
  return Math.min(DEFAULT_TOKEN_BUDGET, affordable);
}

function toInt32(data: ProbeSet['inputs'][number]['data']): Int32Array {
  if (data instanceof Int32Array) return data;
  return Int32Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
}

/** The token trigger check's result beside the embedding statistics it used. */
export interface TokenTriggerCheck extends TriggerCheck {
  embedding: EmbeddingStats;
  /** The search's whole result (its per-class statistics), for the benchmarks. */
  probe: TokenProbeResult;
}

export async function runTokenTriggerCheck(
  model: OnnxModel,
  probes: ProbeSet,
  classes: number,
  opts: TriggerCheckOptions = {},
): Promise<TokenTriggerCheck | null> {
  const target = tokenTriggerTarget(model, probes, classes);
  if (!target) return null;
  const { table, seq } = target;
  const budget = tokenTriggerBudget(estimateTokenMacs(model, table, seq));
  if (budget === null) return null;
  const stats = embeddingStats(table);
  const vocab: Vocabulary | undefined = opts.vocabFile ? readVocabularyCached(opts.vocabFile) : undefined;
  const pad = vocab?.pad ?? stats.zeroRow ?? 0;
  const order = tokenCandidateOrder(table.vocab, stats);
  const runner = opts.runner ?? (await ModelRunner.open(model, { threads: opts.threads }));
  try {
    const logits = runner.tokenLogitsFunction(probes.inputs[0].sampleShape, {
      ...(opts.deadline !== undefined ? { timeLimitMs: Math.max(1, opts.deadline - Date.now()) } : {}),
    });
    const run = withDeadline(logits, model.path, opts.deadline, opts.limitMs);
    const samples = probes.triggerTokens;
    let basis: TriggerBaseKind;
    let base: Int32Array;
    let minePasses = 0;
    if (samples && samples.count >= MIN_SAMPLE_BASE && samples.data.length === samples.count * seq) {
      basis = 'samples';
      base = samples.data;
    } else {
      const mined = await mineTokenTexts(run, seq, {
        classes,
        vocabSize: table.vocab,
        budget: Math.floor(budget * TOKEN_MINE_BUDGET_SHARE),
        pad,
        seed: probes.seed,
        order,
        file: model.path,
      });
      if (mined) {
        basis = 'mined';
        base = mined.base;
        minePasses = mined.forwardPasses;
      } else {
        basis = 'probes';
        base = toInt32(probes.inputs[0].data);
      }
    }
    const r = await probeTokenTriggers(run, base, seq, {
      classes,
      vocabSize: table.vocab,
      budget: budget - minePasses,
      seed: probes.seed,
      pad,
      order,
      file: model.path,
    });
    const trig = r.selfCheck.trigger;
    if (trig?.tokens && vocab) trig.words = trig.tokens.map((t) => wordOf(vocab, t));
    return {
      selfCheck: { ...r.selfCheck, basis },
      block: r.block,
      tierBlock: r.tierBlock,
      // token-aligned like the patch map is position-aligned; never on random probe texts
      mapBlock: basis === 'probes' ? new Float32Array(0) : r.mapBlock,
      // no pictures of inserted words yet (the report names them instead)
      evidence: null,
      forwardPasses: r.forwardPasses + minePasses,
      mapPasses: 0,
      candidatesScreened: r.candidatesScreened,
      candidatesTotal: r.candidatesTotal,
      stoppedEarly: false,
      embedding: stats,
      probe: r,
    };
  } finally {
    if (!opts.runner) await runner.release();
  }
}
