/**
 * HotFlip-style first-order ranking for the token trigger search (token-probe.ts), from the gradient of a
 * class's log-probability with respect to the embedded tokens (src/model/grad: the embedding Gather's output).
 * Swapping the token at position t of a text for vocabulary entry v changes the objective by about
 * g[t] . (E[v] - E[current]) (HotFlip, Ebrahimi et al. 2018); the E[current] term is the same for every v,
 * so per position the entries rank by g[t] . E[v]. The screening order (rankByGradient): per class, the
 * entries by g . E[v] with g the mean gradient over the base texts' non-padding positions (an insertion
 * anywhere), before any forward pass is spent on them; the search interleaves the classes' lists with the
 * embedding-outlier order (token-candidates.ts), so a trigger word that ranks high in either is screened
 * early. It matters only when the budget cannot screen every entry.
 * Written by hand: no maintained package ranks ONNX token models by embedding gradients.
 */

/**
 * d mean_i log_softmax(logits_i)[target] / d embedded tokens, for `count` texts of seq ids (packed):
 * count x seq x dim floats. The caller wires it to a gradient session (src/fingerprint/token-gradient.ts).
 */
export type TokenGradient = (ids: Int32Array, count: number, target: number) => Promise<Float32Array>;

/** The embedding table as the ranking reads it: [vocab, dim] row-major. */
export interface EmbeddingRows {
  values: Float32Array | Float64Array;
  vocab: number;
  dim: number;
}

/** What the search needs of the gradient: the function and the table. */
export interface HotFlipContext {
  gradient: TokenGradient;
  table: EmbeddingRows;
}

/** Forward passes one text's gradient is charged as (forward + backward: bench:speed measures <= 3x). */
export const GRADIENT_PASS_COST = 3;
/** Most texts the ranking's gradients are taken on. */
export const HOTFLIP_TEXTS = 16;

/** Scores of every vocabulary entry against one direction g (dim floats): E[v] . g. */
export function rowScores(table: EmbeddingRows, g: Float64Array): Float64Array {
  const { values, vocab, dim } = table;
  const out = new Float64Array(vocab);
  for (let v = 0; v < vocab; v++) {
    let s = 0;
    const o = v * dim;
    for (let d = 0; d < dim; d++) s += values[o + d] * g[d];
    out[v] = s;
  }
  return out;
}

/** The mean gradient over the positions `at(i)` picks in each of `count` texts (count x seq x dim in). */
export function meanGradient(
  grad: Float32Array,
  count: number,
  seq: number,
  dim: number,
  at: (i: number) => Iterable<number>,
): Float64Array {
  if (grad.length !== count * seq * dim)
    throw new Error(`hotflip: gradient of ${grad.length} floats, expected ${count} x ${seq} x ${dim}`);
  const g = new Float64Array(dim);
  let n = 0;
  for (let i = 0; i < count; i++)
    for (const t of at(i)) {
      const o = (i * seq + t) * dim;
      for (let d = 0; d < dim; d++) g[d] += grad[o + d];
      n++;
    }
  if (n > 0) for (let d = 0; d < dim; d++) g[d] /= n;
  return g;
}

/** The ids of the `n` largest scores, skipping `skip` (ties: the smaller id first). */
export function topIds(scores: ArrayLike<number>, n: number, skip: (v: number) => boolean): number[] {
  const ids: number[] = [];
  for (let v = 0; v < scores.length; v++) if (!skip(v)) ids.push(v);
  ids.sort((a, b) => scores[b] - scores[a] || a - b);
  return ids.slice(0, n);
}

/**
 * Per class, every vocabulary entry ordered by the first-order gain of inserting it anywhere in `texts`
 * (count texts of seq ids with their lengths), largest first; `skip` ids (padding) left out. Costs
 * `classes` gradients of `count` texts.
 */
export async function rankByGradient(
  ctx: HotFlipContext,
  texts: Int32Array,
  count: number,
  seq: number,
  lengths: Int32Array,
  classes: number,
  skip: (v: number) => boolean,
): Promise<number[][]> {
  const { vocab, dim } = ctx.table;
  const perClass: number[][] = [];
  for (let c = 0; c < classes; c++) {
    const grad = await ctx.gradient(texts, count, c);
    const g = meanGradient(grad, count, seq, dim, (i) => range(0, Math.max(1, lengths[i])));
    perClass.push(topIds(rowScores(ctx.table, g), vocab, skip));
  }
  return perClass;
}

/** Lists merged round-robin, each id once at its earliest turn (a list's i-th id lands by turn i). */
export function interleave(lists: readonly ArrayLike<number>[]): number[] {
  const seen = new Set<number>();
  const out: number[] = [];
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let r = 0; r < longest; r++)
    for (const l of lists) {
      if (r >= l.length) continue;
      const v = l[r];
      if (!seen.has(v)) {
        seen.add(v);
        out.push(v);
      }
    }
  return out;
}

function* range(a: number, b: number): Iterable<number> {
  for (let i = a; i < b; i++) yield i;
}
