/**
 * Glue between the fingerprint and token trigger probing (src/selfcheck/token-probe.ts) for text models:
 * one int64/int32 token-id input [N, seq] read by an embedding Gather, class logits out. The sibling of
 * trigger-check.ts (images): the same budget (the scan budget's plan, src/fingerprint/budget.ts: the setting's
 * multiply-accumulates over one forward pass's, up to the passes the vocabulary wants), the same result (TriggerCheck), the same bases:
 *   samples  the user's texts (ProbeSet.triggerTokens: .txt lines tokenised with the vocabulary, or .npy ids);
 *   mined    without samples, texts built from the model's own view of its vocabulary (token-mine.ts);
 *   probes   the generated token probes, when the budget is too small to mine.
 * The padding id is the vocabulary file's padding token, else the embedding's one all-zero row (PyTorch's
 * padding_idx), else 0. With a vocabulary file the reported trigger carries its words. When the budget cannot
 * screen every entry and the graph can be differentiated (token-gradient.ts), the search also ranks the
 * candidates by gradients through the embedding (src/selfcheck/token-hotflip.ts).
 */
import type { OnnxModel } from '../model/types.js';
import { ModelRunner } from '../model/session.js';
import type { ProbeSet } from '../probes/types.js';
import { readVocabularyCached, wordOf, type Vocabulary } from '../probes/vocab.js';
import { MIN_SAMPLE_BASE, type TriggerBaseKind } from '../selfcheck/base-inputs.js';
import {
  inversionPassesWanted,
  probeTokenTriggers,
  tokenPassesWanted,
  type TokenProbeResult,
} from '../selfcheck/token-probe.js';
import { mineTokenTexts } from '../selfcheck/token-mine.js';
import { tokenCandidateOrder } from '../selfcheck/token-candidates.js';
import { TOKEN_MINE_BUDGET_SHARE } from '../limits.js';
import { DEFAULT_SCAN_BUDGET, planBudget } from './budget.js';
import {
  embeddingStats,
  findEmbedding,
  type EmbeddingStats,
  type EmbeddingTable,
} from './embedding-stats.js';
import type { TriggerCheck, TriggerCheckOptions } from './trigger-check.js';
import { withDeadline } from './trigger-deadline.js';
import { openTokenGradient } from './token-gradient.js';
import { openTokenInversion } from './token-relaxed.js';

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

function toInt32(data: ProbeSet['inputs'][number]['data']): Int32Array {
  if (data instanceof Int32Array) return data;
  return Int32Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
}

/** The token trigger check's result beside the embedding statistics it used. */
export interface TokenTriggerCheck extends TriggerCheck {
  embedding: EmbeddingStats;
  /** The search's whole result (its per-class statistics), for the benchmarks. */
  probe: TokenProbeResult;
  /** Inversion asked for and the graph could not be differentiated: why (the search ran without it). */
  inversionUnavailable?: string;
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
  // the scan budget's plan (budget.ts), as for images: passes by the model's cost and the vocabulary's size
  const planned = (opts.plan ?? planBudget(model, probes, DEFAULT_SCAN_BUDGET)).triggerPasses;
  if (planned === null) return null;
  // the inversion's passes come on top of the plan's (the plan caps a text model at what its vocabulary wants)
  const inversion = Boolean(opts.tokenInversion);
  const full = planned >= tokenPassesWanted(table.vocab);
  const budget = planned + (inversion && full ? inversionPassesWanted(classes) : 0);
  const stats = embeddingStats(table);
  const vocab: Vocabulary | undefined = opts.vocabFile ? readVocabularyCached(opts.vocabFile) : undefined;
  const pad = vocab?.pad ?? stats.zeroRow ?? 0;
  const order = tokenCandidateOrder(table.vocab, stats);
  const runner = opts.runner ?? (await ModelRunner.open(model, { threads: opts.threads }));
  // Inversion through the embedding; a graph it cannot differentiate: the search without it (the reason kept)
  const inv = inversion ? await openTokenInversion(model, table, seq, opts.threads) : null;
  // A budget that cannot screen every entry: gradients through the embedding rank the candidates
  // first-order (HotFlip) beside today's order; none (an op without a backward rule): today's order. With
  // the inversion's session open, the ranking reads its gradients from it (one gradient session a scan).
  const shared = inv && typeof inv !== 'string' ? inv : null;
  const grad = !full && !shared ? await openTokenGradient(model, table, seq, opts.threads) : null;
  const hotflip = full ? null : (shared?.hotflip ?? grad?.context ?? null);
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
      ...(hotflip ? { hotflip } : {}),
      ...(inv && typeof inv !== 'string'
        ? {
            invert: inv.context,
            ...(typeof opts.tokenInversion === 'object' ? { inversionSeam: opts.tokenInversion } : {}),
          }
        : {}),
      realTexts: basis === 'samples',
    });
    const trig = r.selfCheck.trigger;
    if (trig?.tokens && vocab) trig.words = trig.tokens.map((t) => wordOf(vocab, t));
    const adj = r.selfCheck.keywordAdjusted;
    if (adj && vocab) adj.words = adj.discounted.map((t) => wordOf(vocab, t));
    return {
      selfCheck: { ...r.selfCheck, basis },
      block: r.block,
      tierBlock: r.tierBlock,
      // token-aligned like the patch map is position-aligned; never on random probe texts
      mapBlock: basis === 'probes' ? new Float32Array(0) : r.mapBlock,
      gainMapBlock: basis === 'probes' ? new Float32Array(0) : r.gainMap,
      // no pictures of inserted words yet (the report names them instead)
      evidence: null,
      forwardPasses: r.forwardPasses + minePasses,
      mapPasses: 0,
      candidatesScreened: r.candidatesScreened,
      candidatesTotal: r.candidatesTotal,
      stoppedEarly: false,
      embedding: stats,
      probe: r,
      ...(typeof inv === 'string' ? { inversionUnavailable: inv } : {}),
    };
  } finally {
    await grad?.release();
    if (inv && typeof inv !== 'string') await inv.release();
    if (!opts.runner) await runner.release();
  }
}
