/**
 * HotFlip-style first-order ranking for the token trigger search (token-probe.ts), from the gradient of a
 * class's log-probability with respect to the embedded tokens (src/model/grad: the embedding Gather's output).
 * Swapping the token at position t of a text for vocabulary entry v changes the objective by about
 * g[t] . (E[v] - E[current]) (HotFlip, Ebrahimi et al. 2018); the E[current] term is the same for every v,
 * so per position the entries rank by g[t] . E[v]. Two uses, both before any forward pass is spent on them:
 *   - the screening order (rankByGradient): per class, the entries by g . E[v] with g the mean gradient over
 *     the base texts' non-padding positions (an insertion anywhere); the search interleaves the classes'
 *     lists with the embedding-outlier order (token-candidates.ts), so a trigger word that ranks high in either
 *     is screened early (it matters only when the budget cannot screen every entry);
 *   - phrase search (hotflipPhrase): a trigger of L tokens inserted at a random position of each text is
 *     improved one slot at a time, as universal adversarial triggers are (Wallace et al. 2019): the gradient
 *     at each trigger slot, averaged over the texts, proposes the HOTFLIP_PROPOSALS best swaps per slot; all
 *     are measured by forward passes and the best kept while it gains. Every slot is optimised with the
 *     others in place, so a phrase whose words do nothing alone (an attacker who trained each word with its
 *     true label, "decoys") can still be climbed, which the greedy extension of single words cannot.
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

/** What the search needs of the gradient: the function, the table, and the cost of one text's gradient. */
export interface HotFlipContext {
  gradient: TokenGradient;
  table: EmbeddingRows;
}

/** Forward passes one text's gradient is charged as (forward + backward: bench:speed measures <= 3x). */
export const GRADIENT_PASS_COST = 3;
/** Per trigger slot, the best first-order swaps measured by forward passes each round. */
export const HOTFLIP_PROPOSALS = 8;
/** Most rounds of swaps per class and phrase length. */
export const HOTFLIP_ROUNDS = 4;
/** Texts the gradient and the swaps are measured on. */
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
export function topIds(scores: Float64Array, n: number, skip: (v: number) => boolean): number[] {
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

/** A phrase and its measured gain into the class searched for. */
export interface PhraseGain {
  tokens: number[];
  gain: number;
}

/**
 * Improves an L-token trigger for class `target` by rounds of first-order swaps (see the file header).
 * `insert` builds the texts with a trigger inserted (the same rows and positions every time: common random
 * numbers), `positions` says where each text's trigger starts, `measure` returns each candidate's mean
 * margin gain into the class (forward passes), and `left` how many forward passes the caller still allows
 * (a round that does not fit is not started). Returns the best trigger met and its gain.
 */
export async function hotflipPhrase(
  ctx: HotFlipContext,
  init: number[],
  target: number,
  io: {
    seq: number;
    count: number;
    insert: (tokens: readonly number[]) => Int32Array;
    positions: Int32Array;
    measure: (cands: number[][]) => Promise<number[]>;
    left: () => number;
    charge: (passes: number) => void;
    skip: (v: number) => boolean;
  },
): Promise<PhraseGain> {
  const L = init.length;
  const { dim } = ctx.table;
  let best: PhraseGain = { tokens: init.slice(), gain: (await io.measure([init]))[0] };
  const roundCost = GRADIENT_PASS_COST * io.count + L * HOTFLIP_PROPOSALS * io.count;
  const tried = new Set<string>([init.join(',')]);
  for (let round = 0; round < HOTFLIP_ROUNDS && io.left() >= roundCost; round++) {
    io.charge(GRADIENT_PASS_COST * io.count);
    const grad = await ctx.gradient(io.insert(best.tokens), io.count, target);
    const cands: number[][] = [];
    for (let j = 0; j < L; j++) {
      // the slot's gradient where the trigger sits in each text (a position cut by the window is skipped)
      const g = meanGradient(grad, io.count, io.seq, dim, (i) =>
        io.positions[i] + j < io.seq ? [io.positions[i] + j] : [],
      );
      const scores = rowScores(ctx.table, g);
      for (const v of topIds(scores, HOTFLIP_PROPOSALS, (v) => io.skip(v) || best.tokens.includes(v))) {
        const t = best.tokens.slice();
        t[j] = v;
        const key = t.join(',');
        if (tried.has(key)) continue;
        tried.add(key);
        cands.push(t);
      }
    }
    if (cands.length === 0) break;
    const gains = await io.measure(cands);
    let bi = -1;
    gains.forEach((x, i) => {
      if (x > best.gain && (bi < 0 || x > gains[bi])) bi = i;
    });
    if (bi < 0) break;
    best = { tokens: cands[bi], gain: gains[bi] };
  }
  return best;
}
