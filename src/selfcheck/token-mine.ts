/**
 * Texts without data: base texts for token trigger probing, built from the model itself when the user
 * gives no sample texts (the analogue of mine-base.ts for images).
 *
 * Random token sequences land in one or two classes of a text model, as noise does for an image model, and
 * an attacker can train a model to ignore its trigger on them. So the texts are built from what the model
 * itself says about its vocabulary, a greedy search over the vocabulary in two passes:
 *   1. every token alone (one word, then padding) runs once: per class, the KEYWORDS tokens that raise the
 *      class's margin most are its keywords; the FILLER share of tokens that move the logits least (the
 *      model's function words) are the filler;
 *   2. a seeded pool of texts (POOL), each aimed at one class (round-robin): a length drawn from a quarter to
 *      three quarters of the window, every word a keyword of the class with probability KEYWORD_SHARES[i],
 *      else a filler word; the pool runs once and, per class the model assigns, the texts with the largest
 *      margin are kept, round-robin over the classes (as mine-base.ts keeps images).
 * A backdoor's trigger word alone may be its target's top keyword; then the target's mined texts carry it,
 * which costs nothing: triggers are measured on texts of the other classes. Deterministic for a model and
 * seed. When the vocabulary is too large for pass 1 (more than MINE_MAX_TOKENS), the first tokens of the
 * screening order are used. Hand-written: no package mines class exemplars from an ONNX text classifier.
 */
import { Rng } from '../probes/rng.js';
import { PassBudget } from './budgeted-runner.js';
import { summarise } from './logit-stats.js';
import type { RunTokenLogits } from './token-probe.js';

/** Most vocabulary entries run alone in pass 1. */
export const MINE_MAX_TOKENS = 8192;
/** Keywords kept per class. */
export const KEYWORDS = 32;
/** Share of the vocabulary (the tokens that move the logits least) used as filler words. */
export const FILLER_SHARE = 0.25;
/** Texts generated and run in pass 2. */
export const POOL = 1024;
/** Keyword probabilities, cycled over the pool's texts (texts about as clear-cut as real ones). */
export const KEYWORD_SHARES = [0.05, 0.1, 0.2];
/** Texts kept. */
export const MINED_TEXTS = 128;
/** Fewest kept texts worth probing on (the floor of a samples base). */
export const MIN_MINED_TEXTS = 16;

export interface TokenMineOptions {
  classes: number;
  vocabSize: number;
  /** Forward passes the mining may spend (pass 1 and the pool are cut to fit). */
  budget: number;
  pad: number;
  seed?: number;
  /** Token screening order (token-candidates.ts): which tokens pass 1 runs when it cannot run all. */
  order?: Int32Array;
  file?: string;
}

export interface MinedTexts {
  /** count x seq ids, class-interleaved. */
  base: Int32Array;
  count: number;
  classOf: Int32Array;
  perClass: number[];
  forwardPasses: number;
}

/** Mined base texts, or null when the budget affords too few (the caller keeps its generated probes). */
export async function mineTokenTexts(
  run: RunTokenLogits,
  seq: number,
  opts: TokenMineOptions,
): Promise<MinedTexts | null> {
  const k = opts.classes;
  const runner = new PassBudget<Int32Array>(run, opts.budget, k, opts.file ?? 'model');
  const ids: number[] = [];
  for (const id of opts.order ?? Int32Array.from({ length: opts.vocabSize }, (_, i) => i))
    if (id !== opts.pad && id >= 0 && id < opts.vocabSize) ids.push(id);
  const nTokens = Math.min(ids.length, MINE_MAX_TOKENS, Math.floor(opts.budget / 2));
  const pool = Math.min(POOL, opts.budget - nTokens);
  if (nTokens < k || pool < MIN_MINED_TEXTS * 2) return null;
  const tokens = ids.slice(0, nTokens);

  // 1. Every token alone.
  const single = new Int32Array(nTokens * seq).fill(opts.pad);
  tokens.forEach((t, i) => (single[i * seq] = t));
  const alone = summarise(await runner.logits(single, nTokens), nTokens, k);
  const keywords = Array.from({ length: k }, (_, c) =>
    tokens
      .map((t, i) => ({ t, m: alone.margin[i * k + c] }))
      .sort((a, b) => b.m - a.m || a.t - b.t)
      .slice(0, KEYWORDS)
      .map((x) => x.t),
  );
  // filler: any token of the vocabulary, drawn uniformly (what a text is mostly made of, as far as the
  // model's classes go: words that do not decide it alone)
  const filler = tokens;

  // 2. A pool of texts aimed at each class in turn.
  const rng = new Rng(opts.seed ?? 0);
  const texts = new Int32Array(pool * seq).fill(opts.pad);
  const lo = Math.max(1, Math.floor(seq / 4));
  const hi = Math.max(lo, Math.floor((3 * seq) / 4));
  for (let i = 0; i < pool; i++) {
    const c = i % k;
    const share = KEYWORD_SHARES[Math.floor(i / k) % KEYWORD_SHARES.length];
    const len = lo + rng.int(hi - lo + 1);
    for (let j = 0; j < len; j++) {
      const kw = rng.next() < share;
      const from = kw ? keywords[c] : filler;
      texts[i * seq + j] = from[rng.int(from.length)];
    }
  }
  const s = summarise(await runner.logits(texts, pool), pool, k);
  const byClass: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < pool; i++) byClass[s.argmax[i]].push(i);
  const own = (i: number) => s.margin[i * k + s.argmax[i]];
  // Per class, middle-out from the class's median margin: texts as clear-cut as the class's typical text,
  // not its most extreme ones (a text of nothing but keywords flips for no trigger at all).
  for (const list of byClass) {
    list.sort((a, b) => own(a) - own(b) || a - b);
    const mid = list.length > 0 ? own(list[list.length >> 1]) : 0;
    list.sort((a, b) => Math.abs(own(a) - mid) - Math.abs(own(b) - mid) || a - b);
  }
  const want = Math.min(MINED_TEXTS, Math.floor(pool / 2));
  const kept: number[] = [];
  for (let round = 0; kept.length < want; round++) {
    let any = false;
    for (let c = 0; c < k && kept.length < want; c++) {
      if (round < byClass[c].length) {
        kept.push(byClass[c][round]);
        any = true;
      }
    }
    if (!any) break;
  }
  if (kept.length < MIN_MINED_TEXTS) return null;
  const base = new Int32Array(kept.length * seq);
  kept.forEach((i, r) => base.set(texts.subarray(i * seq, (i + 1) * seq), r * seq));
  return {
    base,
    count: kept.length,
    classOf: Int32Array.from(kept, (i) => s.argmax[i]),
    perClass: Array.from({ length: k }, (_, c) => kept.filter((i) => s.argmax[i] === c).length),
    forwardPasses: runner.used,
  };
}
