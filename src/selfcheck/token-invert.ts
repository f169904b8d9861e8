/**
 * Gradient-based trigger inversion for token models: a candidate source for the token trigger search
 * (token-probe.ts) that reaches phrases a greedy search cannot climb to. A decoy-trained backdoor (every word
 * and shorter part of the trigger trained with its true label) flips a text only with the whole phrase, so
 * no single word or pair of it gains anything and growing phrases word by word never arrives there.
 *
 * The idea of DBS (Shen et al. 2022, dynamic bound-scaling) in a form this project's gradient component
 * serves: per candidate target class c and trigger length L, each of the L trigger positions is a
 * distribution p_j = softmax(theta_j / T) over the vocabulary, and the token the model sees there is the
 * relaxed one-hot times the embedding matrix, sum_v p_j[v] E[v]. The L positions are inserted together at a
 * random place of each of a few texts of other classes (redrawn every step), and theta is moved by Adam to
 * lower the cross-entropy of class c, while the temperature T falls geometrically from INVERT_T_START to
 * INVERT_T_END, so the distributions start soft (the search sees combinations of many words at once) and
 * end nearly one-hot (what a real text can carry). Every (class, length) arm runs in the same batch, one
 * gradient run a step. The gradient with respect to theta comes from the gradient with respect to the
 * embedded tokens (src/model/grad through an added shift input, embedding-shift.ts): with g_j the summed
 * gradient at position j, s = E g_j, dL/dtheta_j[v] = p_j[v] (s[v] - p_j . s) / T.
 *
 * Per class, `exclude` keeps words out of its distributions (the class's strongest single words by the
 * search's own screening): the cross-entropy is lowest for a class's own keywords, which every clean model
 * shares, and a trigger whose parts do nothing is made of words that do nothing alone.
 * Discretised by the top INVERT_BEAM words of each position: the argmax phrase and every phrase one swap
 * away, which the caller measures by real forward passes (flip rate, margin gain) like its other candidates.
 *
 * Deterministic: seeded positions, a fixed number of steps (a function of the settings, never the clock).
 * Written by hand: no maintained package relaxes ONNX token models' inputs; PICCOLO's and DBS's ideas, our code.
 */
import { Rng } from '../probes/rng.js';
import { Adam } from './adam.js';
import { topIds, type EmbeddingRows } from './token-hotflip.js';
import { insertTokens } from './token-insert.js';

/**
 * One gradient run of the relaxed model: `count` texts of seq ids, a shift of count x seq x dim floats
 * added to their embedded tokens, one target class per text. Returns d(mean cross-entropy)/d(shift) and the
 * logits (count x classes).
 */
export type RelaxedGradient = (
  ids: Int32Array,
  shift: Float32Array,
  targets: readonly number[],
  count: number,
) => Promise<{ grad: Float32Array; logits: Float32Array }>;

export interface InversionContext {
  gradient: RelaxedGradient;
  table: EmbeddingRows;
}

/** Trigger lengths optimised per class. */
export const INVERT_LENGTHS: readonly number[] = [3, 6];
/** Adam steps (every arm advances once a step). */
export const INVERT_STEPS = 40;
/** Texts per arm and step. */
export const INVERT_TEXTS = 8;
/** Adam step size on the logits theta. */
export const INVERT_LR = 0.5;
/** Temperature at the first and the last step (geometric in between). */
export const INVERT_T_START = 2;
export const INVERT_T_END = 0.1;
/** Words per position kept when discretising. */
export const INVERT_BEAM = 3;

export interface InversionOptions {
  classes: number;
  seq: number;
  pad?: number;
  seed?: number;
  lengths?: readonly number[];
  steps?: number;
  texts?: number;
  lr?: number;
  tStart?: number;
  tEnd?: number;
  beam?: number;
  /** Words kept out of class c's distributions. */
  exclude?: (c: number, v: number) => boolean;
}

/** One arm's result: the class, the discretised candidates (argmax phrase first), its last relaxed loss. */
export interface InvertedArm {
  target: number;
  length: number;
  candidates: number[][];
  loss: number;
}

/** Text-gradients the inversion runs: steps x arms x texts (each costs about GRADIENT_PASS_COST passes). */
export function inversionGradients(classes: number, opts: Partial<InversionOptions> = {}): number {
  const lengths = opts.lengths ?? INVERT_LENGTHS;
  return (opts.steps ?? INVERT_STEPS) * classes * lengths.length * (opts.texts ?? INVERT_TEXTS);
}

function softmaxInto(theta: Float32Array, o: number, vocab: number, t: number, out: Float64Array): void {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) if (theta[o + v] > max) max = theta[o + v];
  let sum = 0;
  for (let v = 0; v < vocab; v++) {
    const e = Number.isFinite(theta[o + v]) ? Math.exp((theta[o + v] - max) / t) : 0;
    out[v] = e;
    sum += e;
  }
  for (let v = 0; v < vocab; v++) out[v] /= sum;
}

/**
 * Optimises every (class, length) arm on texts from `base` (count texts of seq ids with their `lengths`
 * and clean predictions `argmax`) and returns the discretised candidates per arm.
 */
export async function invertTokenTriggers(
  ctx: InversionContext,
  base: Int32Array,
  lengths: Int32Array,
  argmax: Int32Array,
  rows: readonly number[],
  opts: InversionOptions,
): Promise<InvertedArm[]> {
  const { vocab, dim } = ctx.table;
  // one monomorphic copy of the table: the inner loops below run vocab x dim per position and step
  const E = ctx.table.values instanceof Float32Array ? ctx.table.values : Float32Array.from(ctx.table.values);
  const { classes: k, seq } = opts;
  const armLengths = (opts.lengths ?? INVERT_LENGTHS).filter((l) => l >= 1 && l < seq);
  const steps = opts.steps ?? INVERT_STEPS;
  const m = opts.texts ?? INVERT_TEXTS;
  const tStart = opts.tStart ?? INVERT_T_START;
  const tEnd = opts.tEnd ?? INVERT_T_END;
  const beam = opts.beam ?? INVERT_BEAM;
  const rng = new Rng(opts.seed ?? 0);
  const pad = opts.pad;
  // the id written where a relaxed token sits (its row is subtracted again): not the padding, which a
  // model may mask out
  const placeholder = pad === 0 ? 1 : 0;
  const arms = [];
  for (let c = 0; c < k; c++)
    for (const L of armLengths) {
      // texts the model puts in another class: what a trigger must move
      const others = rows.filter((r) => argmax[r] !== c);
      const pool = others.length >= m ? others : [...rows];
      const mine: number[] = [];
      for (let i = 0; i < m && pool.length > 0; i++) mine.push(pool[(i * 7919 + c * 31 + L) % pool.length]);
      const theta = new Float32Array(L * vocab);
      for (let i = 0; i < theta.length; i++) theta[i] = rng.normal(0, 0.01);
      for (let j = 0; j < L; j++)
        for (let v = 0; v < vocab; v++)
          if (v === pad || (opts.exclude?.(c, v) ?? false)) theta[j * vocab + v] = -Infinity;
      arms.push({
        c,
        L,
        rows: mine,
        theta,
        adam: new Adam(theta.length, { lr: opts.lr ?? INVERT_LR }),
        loss: NaN,
      });
    }
  const count = arms.reduce((a, x) => a + x.rows.length, 0);
  if (count === 0 || arms.length === 0) return [];
  const ids = new Int32Array(count * seq);
  const shift = new Float32Array(count * seq * dim);
  const targets: number[] = [];
  for (const arm of arms) for (let i = 0; i < arm.rows.length; i++) targets.push(arm.c);
  const p = new Float64Array(vocab);
  const gradTheta = new Float32Array(Math.max(...arms.map((a) => a.theta.length)));
  const relaxed = arms.map((a) => new Float64Array(a.L * dim));
  const probs = arms.map((a) => new Float64Array(a.L * vocab));
  const sv = new Float64Array(vocab);

  for (let step = 0; step < steps; step++) {
    const t = steps > 1 ? tStart * (tEnd / tStart) ** (step / (steps - 1)) : tEnd;
    // relaxed tokens of every arm at this temperature
    arms.forEach((arm, a) => {
      for (let j = 0; j < arm.L; j++) {
        softmaxInto(arm.theta, j * vocab, vocab, t, p);
        probs[a].set(p, j * vocab);
        relaxedRow(E, p, vocab, dim, relaxed[a], j * dim);
      }
    });
    // the batch: each arm's texts with its L placeholders inserted at a fresh random place
    shift.fill(0);
    const where: number[] = [];
    let row = 0;
    const trig = new Int32Array(Math.max(...armLengths)).fill(placeholder);
    arms.forEach((arm, a) => {
      for (const r of arm.rows) {
        const pos = rng.int(Math.max(0, Math.min(lengths[r], seq - arm.L)) + 1);
        insertTokens(
          base.subarray(r * seq, (r + 1) * seq),
          trig.subarray(0, arm.L),
          pos,
          ids.subarray(row * seq, (row + 1) * seq),
        );
        for (let j = 0; j < arm.L; j++) {
          const o = (row * seq + pos + j) * dim;
          for (let d = 0; d < dim; d++) shift[o + d] = relaxed[a][j * dim + d] - E[placeholder * dim + d];
        }
        where.push(pos);
        row++;
      }
    });
    const { grad, logits } = await ctx.gradient(ids, shift, targets, count);
    // per arm: the summed gradient at each trigger position, then the chain rule through the softmax
    row = 0;
    arms.forEach((arm, a) => {
      const g = new Float64Array(arm.L * dim);
      let loss = 0;
      for (let i = 0; i < arm.rows.length; i++, row++) {
        const pos = where[row];
        for (let j = 0; j < arm.L; j++) {
          const o = (row * seq + pos + j) * dim;
          for (let d = 0; d < dim; d++) g[j * dim + d] += grad[o + d];
        }
        loss += crossEntropy(logits, row, k, arm.c);
      }
      arm.loss = loss / Math.max(1, arm.rows.length);
      const gt = gradTheta.subarray(0, arm.theta.length);
      for (let j = 0; j < arm.L; j++) {
        rowDots(E, vocab, dim, g, j * dim, sv);
        const pj = probs[a].subarray(j * vocab, (j + 1) * vocab);
        let mean = 0;
        for (let v = 0; v < vocab; v++) mean += pj[v] * sv[v];
        for (let v = 0; v < vocab; v++)
          gt[j * vocab + v] = Number.isFinite(arm.theta[j * vocab + v]) ? (pj[v] * (sv[v] - mean)) / t : 0;
      }
      arm.adam.step(arm.theta, gt);
    });
  }

  return arms.map((arm) => {
    // each position's top ids (ties: the smaller id), excluded (-Infinity) entries skipped
    const tops = Array.from({ length: arm.L }, (_, j) => {
      const row = arm.theta.subarray(j * vocab, (j + 1) * vocab);
      return topIds(row, beam, (v) => !Number.isFinite(row[v]));
    });
    const best = tops.map((t) => t[0]);
    const candidates: number[][] = [best];
    for (let j = 0; j < arm.L; j++)
      for (const alt of tops[j].slice(1)) {
        const c = [...best];
        c[j] = alt;
        candidates.push(c);
      }
    return { target: arm.c, length: arm.L, candidates, loss: arm.loss };
  });
}

/** out[o..o+dim) = sum_v p[v] E[v] (rows with a negligible weight skipped). */
function relaxedRow(
  E: Float32Array,
  p: Float64Array,
  vocab: number,
  dim: number,
  out: Float64Array,
  o: number,
): void {
  out.fill(0, o, o + dim);
  for (let v = 0; v < vocab; v++) {
    const pv = p[v];
    if (pv < 1e-9) continue;
    const r = v * dim;
    for (let d = 0; d < dim; d++) out[o + d] += pv * E[r + d];
  }
}

/** out[v] = E[v] . g[o..o+dim) for every row v. */
function rowDots(
  E: Float32Array,
  vocab: number,
  dim: number,
  g: Float64Array,
  o: number,
  out: Float64Array,
): void {
  for (let v = 0; v < vocab; v++) {
    const r = v * dim;
    let dot = 0;
    for (let d = 0; d < dim; d++) dot += E[r + d] * g[o + d];
    out[v] = dot;
  }
}

function crossEntropy(logits: Float32Array, row: number, k: number, c: number): number {
  let max = -Infinity;
  for (let j = 0; j < k; j++) max = Math.max(max, logits[row * k + j]);
  let sum = 0;
  for (let j = 0; j < k; j++) sum += Math.exp(logits[row * k + j] - max);
  return Math.log(sum) + max - logits[row * k + c];
}
