/**
 * Glue between the gradient component (src/model/grad) and token trigger inversion
 * (src/selfcheck/token-invert.ts): one gradient session per text model over a copy whose embedded tokens take
 * an added shift (embedding-shift.ts), computing d mean cross-entropy[target] / d shift for a batch of texts
 * with one target class each. When the graph has an op without a backward rule, a token input the session
 * cannot feed, or a table that is not the one the search reads, there is no inversion (null) and the token
 * search runs as it does without one; `tokenInversionBlocker` says why.
 */
import type { OnnxModel } from '../model/types.js';
import {
  GradientSpecError,
  GradientUnsupported,
  openGradientSession,
  type GradientSession,
} from '../model/grad/index.js';
import { withEmbeddingShift } from '../model/grad/embedding-shift.js';
import type { InversionContext } from '../selfcheck/token-invert.js';
import type { HotFlipContext } from '../selfcheck/token-hotflip.js';
import type { EmbeddingTable } from './embedding-stats.js';
import { tokenEmbeddingLookup } from './token-gradient.js';

export interface TokenInversionSession {
  context: InversionContext;
  /**
   * The first-order ranking's gradient (token-hotflip.ts) from the same session: with a zero shift the model
   * is the original, d/d shift is d/d embedded tokens, and mean log-softmax[target] is minus the mean
   * cross-entropy, so it is the inversion's gradient negated, the same numbers the ranking's own session
   * (token-gradient.ts) gives. A scan that wants both builds one gradient session, not two.
   */
  hotflip: HotFlipContext;
  release(): Promise<void>;
}

/** Opens the relaxed-embedding gradient session, or returns why it cannot (a string: the fallback's reason). */
export async function openTokenInversion(
  model: OnnxModel,
  table: EmbeddingTable,
  seq: number,
  threads?: number,
): Promise<TokenInversionSession | string> {
  const emb = tokenEmbeddingLookup(model, table);
  if (typeof emb === 'string') return emb;
  const inp = model.inputs[0];
  let session: GradientSession;
  let shiftName: string;
  try {
    const shifted = withEmbeddingShift(model, emb, seq, table.dim, inp.shape[0]);
    shiftName = shifted.shift;
    session = await openGradientSession(
      shifted.model,
      { terms: [{ kind: 'crossEntropy', target: { feed: 'target' } }], wrt: [{ model: shiftName }] },
      { threads },
    );
  } catch (e) {
    // an op without a backward rule (or a graph the builder cannot differentiate): today's search
    if (e instanceof GradientUnsupported || e instanceof GradientSpecError) return e.message;
    throw e;
  }
  const context: InversionContext = {
    table: { values: table.values, vocab: table.vocab, dim: table.dim },
    gradient: async (ids, shift, targets, count) => {
      const r = await session.run({
        [inp.name]: { data: BigInt64Array.from(ids, (v) => BigInt(v)), dims: [count, seq] },
        [shiftName]: { data: shift, dims: [count, seq, table.dim] },
        target: targets,
      });
      const logits = Object.values(r.outputs)[0];
      return { grad: r.grads[shiftName].data, logits: logits.data };
    },
  };
  const hotflip: HotFlipContext = {
    table: context.table,
    gradient: async (ids, count, target) => {
      const r = await session.run({
        [inp.name]: { data: BigInt64Array.from(ids, (v) => BigInt(v)), dims: [count, seq] },
        [shiftName]: { data: new Float32Array(count * seq * table.dim), dims: [count, seq, table.dim] },
        target: new Array<number>(count).fill(target),
      });
      return r.grads[shiftName].data.map((g) => -g);
    },
  };
  return { context, hotflip, release: () => session.release() };
}
