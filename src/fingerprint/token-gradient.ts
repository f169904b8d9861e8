/**
 * Glue between the gradient component (src/model/grad) and the token trigger search's first-order ranking
 * (src/selfcheck/token-hotflip.ts): one gradient session per text model, computing d mean log_softmax[target]
 * / d embedded tokens for a batch of token-id texts. When the graph has an op without a backward rule, a
 * token input the session cannot feed (int32, a fixed batch), or a table that is not the one the search
 * reads, there is no gradient and the search ranks candidates as it does without one (null).
 */
import type { OnnxModel } from '../model/types.js';
import {
  embeddingOutputs,
  GradientSpecError,
  GradientUnsupported,
  openGradientSession,
  type GradientSession,
} from '../model/grad/index.js';
import type { HotFlipContext } from '../selfcheck/token-hotflip.js';
import type { EmbeddingTable } from './embedding-stats.js';
import type { EmbeddingLookup } from '../model/grad/embeddings.js';

export interface TokenGradientSession {
  context: HotFlipContext;
  release(): Promise<void>;
}

/**
 * The embedding lookup of `table` by the model's one int64 [batch, seq] token input, or why there is none
 * (what the token gradient sessions differentiate through).
 */
export function tokenEmbeddingLookup(model: OnnxModel, table: EmbeddingTable): EmbeddingLookup | string {
  const inp = model.inputs[0];
  if (model.inputs.length !== 1 || inp.dtype !== 'int64') return 'not one int64 token input';
  if (inp.shape.length !== 2 || typeof inp.shape[0] === 'number') return 'not a [batch, seq] input';
  const emb = embeddingOutputs(model).find((e) => e.input === inp.name && e.table === table.name);
  return emb ?? 'no embedding lookup of the table by the input';
}

/** Why a model has no token gradient (null: it has one), for the benchmarks and the tests. */
export function tokenGradientBlocker(model: OnnxModel, table: EmbeddingTable): string | null {
  const emb = tokenEmbeddingLookup(model, table);
  return typeof emb === 'string' ? emb : null;
}

export async function openTokenGradient(
  model: OnnxModel,
  table: EmbeddingTable,
  seq: number,
  threads?: number,
): Promise<TokenGradientSession | null> {
  const emb = tokenEmbeddingLookup(model, table);
  if (typeof emb === 'string') return null;
  const inp = model.inputs[0];
  let session: GradientSession;
  try {
    session = await openGradientSession(
      model,
      {
        terms: [{ kind: 'logSoftmax', target: { feed: 'target' } }],
        wrt: [{ model: emb.output }],
      },
      { threads },
    );
  } catch (e) {
    // an op without a backward rule (or a graph the builder cannot differentiate): today's ranking
    if (e instanceof GradientUnsupported || e instanceof GradientSpecError) return null;
    throw e;
  }
  const context: HotFlipContext = {
    table: { values: table.values, vocab: table.vocab, dim: table.dim },
    gradient: async (ids, count, target) => {
      const r = await session.run({
        [inp.name]: { data: BigInt64Array.from(ids, (v) => BigInt(v)), dims: [count, seq] },
        target: new Array<number>(count).fill(target),
      });
      return r.grads[emb.output].data;
    },
  };
  return { context, release: () => session.release() };
}
