/**
 * Which tokens the token trigger search screens first when its budget cannot screen every vocabulary entry
 * (src/selfcheck/token-probe.ts `order`), and the seam for ranking them better.
 *
 * Today: the embedding rows that stand out (src/fingerprint/embedding-stats.ts outlierOrder: a robust z of
 * each row's norm and of its distance from the mean row), most outlying first; a trigger word trained
 * into a target class by hundreds of poisoned texts usually has such a row. Without an embedding table the
 * ids in order.
 *
 * Later (gradients, ARCHITECTURE.md "Gradients"): a first-order (HotFlip-style) ranking, the gradient of
 * each class's margin with respect to the embedding at an inserted position dotted with every row, orders
 * the candidates by the effect a swap would have, before any forward pass is spent. A `CandidateRanker`
 * returning such an order plugs in here (tokenCandidateOrder's `ranker`) without touching the search.
 */
import type { EmbeddingStats } from '../fingerprint/embedding-stats.js';
import { outlierOrder } from '../fingerprint/embedding-stats.js';

/** Ranks token ids for screening, most promising first; may return null to fall back to the default order. */
export type CandidateRanker = (vocabSize: number) => Int32Array | null;

/** The screening order: the ranker's, else the embedding outliers first, else ids in order. */
export function tokenCandidateOrder(
  vocabSize: number,
  stats: EmbeddingStats | null,
  ranker?: CandidateRanker,
): Int32Array {
  const ranked = ranker?.(vocabSize);
  if (ranked) return ranked;
  if (stats && stats.norms.length === vocabSize) return outlierOrder(stats);
  return Int32Array.from({ length: vocabSize }, (_, i) => i);
}
