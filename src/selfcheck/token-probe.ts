/**
 * Reference-free backdoor check for text classifiers (one token-id input), forward passes only: the token
 * family of trigger probing. A text backdoor (BadNL, TrojAI's NLP rounds) sends any text that carries its
 * trigger (a rare word, a phrase, a sentence) to the attacker's class, wherever the trigger sits. As the image
 * search stamps patches (trigger-probe.ts), this inserts candidate tokens at random positions of the base
 * texts and measures per class the flip rate and the margin gain (logit-stats.ts); the backdoor's target is
 * far easier to reach with a few words than any other class is.
 *
 * Steps, all inside a budget of forward passes (PassBudget):
 *   1. clean pass over the base texts; a random quarter is held out for the final flip-rate report;
 *   2. screen one-token candidates: every vocabulary entry when the budget allows (on up to
 *      MAX_SCREEN_TEXTS texts), else the first ones of `order` (token-candidates.ts: embedding rows that
 *      stand out first), on MIN_SCREEN_TEXTS texts; one insertion position per text for every candidate;
 *   3. confirm, per class, the CONFIRM_PER_CLASS tokens with the largest margin gain into it on up to
 *      MAX_CONFIRM_TEXTS texts (tier 1: one token);
 *   4. greedy extension: per class, its best EXTEND_SEEDS tokens, each with each of the class's best
 *      EXTEND_POOL screened tokens before or after it (tier 2: two tokens), then its best EXTEND_SEEDS pairs
 *      likewise (tier 3: three tokens), each screened on up to MAX_EXTEND_TEXTS texts and the best
 *      CONFIRM_PHRASES per class confirmed like single tokens;
 *   5. score: per tier, each class's best confirmed margin gain (in clean-logit spreads) as a robust z against
 *      the other classes at that tier (spread floored at GAIN_SPREAD_FLOOR of the typical gain); a class's
 *      score is the root mean square of its positive tier z's; the model's score is the largest.
 * The patch map's analogue is the token map: every screened token's flip share into each class, kept as a
 * feature block when every vocabulary entry was screened on the same texts (token-aligned across models that
 * share a vocabulary). Beside it the token gain map keeps the same screening's margin gains (gainMap): with
 * a baseline it is compared word by word with the references (src/baseline/config.ts), where a class's own
 * keywords, which every clean model shares, cancel out and a trigger word stands out even before it flips a
 * text alone.
 *
 * With gradients through the embedding (`hotflip`, token-hotflip.ts), when not every entry is affordable,
 * step 2 screens in an order that interleaves `order` with each class's first-order (HotFlip) ranking; the
 * gradients are charged to the budget at GRADIENT_PASS_COST passes a text.
 *
 * A greedy search finds phrases whose words move the model on their own. An attacker who trains every
 * proper part of the trigger with its true label (decoys) leaves nothing to climb: such phrases are beyond
 * this search. A slot-wise first-order phrase search (universal adversarial triggers) was measured on the
 * text zoo's CNNs and dropped: it did not reach them either, at 15-25% more scan time
 * (bench/text/findings.md).
 */
import type { SelfCheck } from '../fingerprint/types.js';
import { Rng } from '../probes/rng.js';
import { MAX_INPUTS_PER_RUN, PassBudget, screeningPlan } from './budgeted-runner.js';
import {
  effectOf,
  medianLogitSpread,
  robustZAgainst,
  subsetSummary,
  summarise,
  type Effect,
  type LogitSummary,
} from './logit-stats.js';
import { insertionPositions, insertTokens, textLengths } from './token-insert.js';
import {
  GRADIENT_PASS_COST,
  HOTFLIP_TEXTS,
  interleave,
  rankByGradient,
  type HotFlipContext,
} from './token-hotflip.js';
import { GAIN_SPREAD_FLOOR, MIN_CLASSES_FOR_SCORE, MIN_TRIGGER_BUDGET } from './trigger-probe.js';
import { inversionGradients, invertTokenTriggers, type InversionContext } from './token-invert.js';
import { TOKEN_MINE_BUDGET_SHARE } from '../limits.js';
import {
  NATURAL_RULE,
  bestPerClass,
  classWordShares,
  isNaturalKeyword,
  type ClassWordShares,
  type KeywordRule,
  type ScoredCandidate,
} from './token-keywords.js';

/** The model as the token search sees it: `count` texts of seq ids, packed; returns count x classes logits. */
export type RunTokenLogits = (ids: Int32Array, count: number) => Promise<Float32Array>;

/** Default budget of forward passes: every entry of a 3,000-word vocabulary on 16 texts, and the rest. */
export const DEFAULT_TOKEN_BUDGET = 80000;
/** Passes beside the screening that a search wants: the clean pass, confirmations, phrases, the report. */
export const TOKEN_SEARCH_OVERHEAD = 16384;

/**
 * Forward passes token probing wants for a vocabulary (the scan budget's cap for a text model,
 * src/fingerprint/budget.ts): DEFAULT_TOKEN_BUDGET, or for a larger vocabulary enough to screen every entry
 * on MIN_SCREEN_TEXTS texts with the rest of the search beside it, mining included. A budget below it
 * screens fewer entries (the first of the screening order), and a larger budget is what screens them all.
 */
export function tokenPassesWanted(vocab: number): number {
  const screen = (vocab * MIN_SCREEN_TEXTS) / SCREEN_SHARE;
  return Math.max(
    DEFAULT_TOKEN_BUDGET,
    Math.ceil((screen + TOKEN_SEARCH_OVERHEAD) / (1 - TOKEN_MINE_BUDGET_SHARE)),
  );
}

/** Most texts a one-token candidate is screened on (every vocabulary entry, when affordable). */
export const MAX_SCREEN_TEXTS = 16;
/** Fewest: below it the candidates are cut instead (the first ones of `order`). */
export const MIN_SCREEN_TEXTS = 4;
/** Share of the budget left after the clean pass spent screening one-token candidates. */
export const SCREEN_SHARE = 0.5;
/** Tokens per class confirmed on more texts. */
export const CONFIRM_PER_CLASS = 8;
/** Most texts a confirmed candidate is measured on (its gain is what the score reads). */
export const MAX_CONFIRM_TEXTS = 64;
/** Per class, the tokens (then pairs) extended by one more token. */
export const EXTEND_SEEDS = 3;
/** Per class, the screened tokens tried as the added word. */
export const EXTEND_POOL = 16;
/** Most texts an extension candidate is screened on. */
export const MAX_EXTEND_TEXTS = 16;
/** Fewest texts worth screening extensions on. */
export const MIN_EXTEND_TEXTS = 4;
/** Per class, the phrases of one length confirmed on the confirmation texts. */
export const CONFIRM_PHRASES = 4;
/** Longest phrase built (tiers: 1..MAX_PHRASE tokens). */
export const MAX_PHRASE = 3;
/** Most held-out texts the reported trigger is re-measured on. */
export const MAX_EVAL_TEXTS = 64;
/** Fewest texts that make a held-out set (fewer: the reported flip rate is the search's own). */
export const MIN_EVAL_SPLIT = 16;
/** Weight ratio between successive tiers in the block's gain and flip curves. */
export const TIER_WEIGHT_RATIO = 0.5;
/** The fingerprint block of the per-token gain map (TokenProbeResult.gainMap; a separate test: baseline/config.ts). */
export const TOKEN_GAIN_MAP_BLOCK = 'trigger-gain-map';
/** Largest vocabulary whose per-token map is kept as a feature block (vocabulary x classes floats). */
export const TOKEN_MAP_MAX_TOKENS = 8192;

export interface TokenProbeOptions {
  classes: number;
  /** Ids are in [0, vocabSize). */
  vocabSize: number;
  /** Most texts run through the model, clean pass included. */
  budget?: number;
  seed?: number;
  /** The padding id: never a candidate, and a text's length ends at its trailing padding. */
  pad?: number;
  /** Screening order when not every token is affordable (token-candidates.ts); default: by id. */
  order?: Int32Array;
  /** The model file, named in error messages. */
  file?: string;
  /**
   * Gradients through the embedding (token-hotflip.ts), when the graph has a backward rule for every op:
   * the screening order ranked first-order when not every entry is affordable. Absent: today's order.
   */
  hotflip?: HotFlipContext;
  /**
   * The base texts are the user's own (samples): also score with each class's natural keywords left out
   * (token-keywords.ts; SelfCheck.keywordAdjusted). Not for mined or generated texts.
   */
  realTexts?: boolean;
  /**
   * Gradient-based trigger inversion through the embedding (token-invert.ts): relaxed phrases per class,
   * discretised and measured by forward passes as a further candidate source. Absent: no inversion.
   */
  invert?: InversionContext;
  /** The benchmarks' variants of the inversion (InversionSeam); the scan sets none. */
  inversionSeam?: InversionSeam;
}

/** A measured candidate: its token ids and its effect on the texts it was inserted into (logit-stats.ts). */
export interface MeasuredCandidate {
  tokens: number[];
  effect: Effect;
}

/**
 * Where bench/text/invert.ts plugs in the inversion variants it measured and dropped (they live there, not
 * here). The shipped inversion leaves no word out of a class's inversion and scores the inverted phrases as
 * candidates like any other, in the tier of their length (longer ones in the longest tier): chosen on the
 * man-page CNN dev split (the tier gains against 20 references, max robust z, AUROC 0.600 without inversion,
 * 0.642 with; the reference-free trigger score 0.758 without, 0.742 with; 12 backdoored and 10 clean dev
 * models, so within noise). The same scoring path as the greedy candidates, as issue 23 asks.
 *   exclude     given `ranked(c, n)` (class c's n strongest screened words), the words kept out of class c's
 *               inversion;
 *   scoreApart  given per class the confirmed phrases of its own inversion and the clean-logit spread, a tier
 *               scored beside the others (in the score and the reported trigger, not in the feature blocks),
 *               instead of the phrases joining the tiers of their length.
 */
export interface InversionSeam {
  exclude?: (ranked: (c: number, n: number) => number[]) => (c: number, v: number) => boolean;
  scoreApart?: (own: MeasuredCandidate[][], logitScale: number) => TierScore | null;
}
/** Forward passes a text model's search wants beside its screening for the inversion (its gradients and checks). */
export function inversionPassesWanted(classes: number): number {
  return GRADIENT_PASS_COST * inversionGradients(classes) + classes * CONFIRM_PHRASES * MAX_CONFIRM_TEXTS * 2;
}

/** One tier (trigger length): per class its best confirmed trigger's gain (in logit spreads) and flip rate. */
export interface TierScore {
  length: number;
  gain: Float32Array;
  flip: Float32Array;
  z: Float32Array;
  /** The best trigger of each class at this length (token ids), or null where none was measured. */
  triggers: (number[] | null)[];
}

export interface TokenProbeResult {
  selfCheck: SelfCheck;
  /** "trigger" block: tier-weighted gain curve then flip curve, K values each. */
  block: Float32Array;
  /** "trigger-tiers" block: per tier (1..MAX_PHRASE tokens) per class the gain, then the same of flips. */
  tierBlock: Float32Array;
  /** "trigger-map" block: per token id per class the screened flip share; empty unless every id was screened. */
  mapBlock: Float32Array;
  /**
   * Per token id per class the screened margin gain in clean-logit spreads (same layout and condition as
   * mapBlock): continuous where the flip share is 0 until a word alone flips a text.
   */
  gainMap: Float32Array;
  classScores: Float32Array;
  /** Per tier (1..MAX_PHRASE tokens, those measured), every confirmed candidate with its gains in logit spreads. */
  confirmedTiers: ScoredCandidate[][];
  /** With real texts (`realTexts`): per class, how often each word is in the class's own texts (token-keywords.ts). */
  wordShares?: ClassWordShares;
  /** The reported trigger's token ids, or null. */
  trigger: number[] | null;
  tiers: TierScore[];
  /**
   * Per class, the confirmed one-token gains (in clean-logit spreads) of its CONFIRM_PER_CLASS best screened
   * tokens, largest first: how far the best word stands out from the class's next best words.
   */
  classGains: Float32Array[];
  /** Per class, quantiles (1, 0.99, 0.95, 0.9, 0.5) of the screened one-token gains (clean-logit spreads). */
  classScreen: Float32Array[];
  /** Whether the inversion ran (given a context and the budget for it). */
  inversionRan: boolean;
  forwardPasses: number;
  candidatesScreened: number;
  candidatesTotal: number;
}

/** Runs every (tokens, positions) job on the given rows, many jobs per model run; one summary per job. */
async function runInserted(
  runner: PassBudget<Int32Array>,
  base: Int32Array,
  seq: number,
  k: number,
  jobs: readonly { tokens: readonly number[]; rows: readonly number[]; positions: Int32Array }[],
): Promise<LogitSummary[]> {
  const out: LogitSummary[] = [];
  let j = 0;
  while (j < jobs.length) {
    const group: typeof jobs = [];
    let n = 0;
    while (j < jobs.length && (group.length === 0 || n + jobs[j].rows.length <= MAX_INPUTS_PER_RUN)) {
      (group as (typeof jobs)[number][]).push(jobs[j]);
      n += jobs[j].rows.length;
      j++;
    }
    const batch = new Int32Array(n * seq);
    let at = 0;
    for (const job of group) {
      job.rows.forEach((r, i) => {
        insertTokens(
          base.subarray(r * seq, (r + 1) * seq),
          job.tokens,
          job.positions[i],
          batch.subarray((at + i) * seq, (at + i + 1) * seq),
        );
      });
      at += job.rows.length;
    }
    const logits = await runner.logits(batch, n);
    let o = 0;
    for (const job of group) {
      const m = job.rows.length;
      out.push(summarise(logits.subarray(o * k, (o + m) * k), m, k));
      o += m;
    }
  }
  return out;
}

function checkArgs(base: Int32Array, seq: number, k: number, budget: number, vocabSize: number): void {
  if (!Number.isInteger(k) || k < 2) throw new Error(`probeTokenTriggers: need at least 2 classes, got ${k}`);
  if (!(budget >= MIN_TRIGGER_BUDGET))
    throw new Error(`probeTokenTriggers: budget ${budget} is below the minimum ${MIN_TRIGGER_BUDGET}`);
  if (!Number.isInteger(seq) || seq < 1 || base.length === 0 || base.length % seq !== 0)
    throw new Error(`probeTokenTriggers: ${base.length} ids are not a whole number of texts of ${seq}`);
  if (!Number.isInteger(vocabSize) || vocabSize < 2)
    throw new Error(`probeTokenTriggers: bad vocabulary size ${vocabSize}`);
}

/** The `n` indices of the largest values of score(i) over `ids` (ties: the smaller index first). */
function topBy<T>(items: readonly T[], n: number, score: (t: T) => number): T[] {
  return items
    .map((t, i) => ({ t, i, s: score(t) }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, n)
    .map((x) => x.t);
}

const keyOf = (tokens: readonly number[]): string => tokens.join(',');

/**
 * Probes a text classifier with candidate trigger tokens inserted into `base` (texts of `seq` token ids,
 * packed) and returns the trigger self-check and its feature blocks.
 */
export async function probeTokenTriggers(
  run: RunTokenLogits,
  base: Int32Array,
  seq: number,
  opts: TokenProbeOptions,
): Promise<TokenProbeResult> {
  const k = opts.classes;
  const budget = opts.budget ?? DEFAULT_TOKEN_BUDGET;
  checkArgs(base, seq, k, budget, opts.vocabSize);
  const rng = new Rng(opts.seed ?? 0);
  const runner = new PassBudget<Int32Array>(run, budget, k, opts.file ?? 'model');

  // 1. Clean pass (at most a quarter of the budget); a random quarter of the texts is held out.
  const n = Math.min(base.length / seq, Math.floor(budget / 4));
  const cleanAll = summarise(await runner.logits(base.slice(0, n * seq), n), n, k);
  const lengths = textLengths(base, n, seq, opts.pad);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nEval = n >= MIN_EVAL_SPLIT ? Math.min(Math.floor(n / 4), MAX_EVAL_TEXTS) : 0;
  const evalRows = order.slice(0, nEval);
  const searchRows = nEval > 0 ? order.slice(nEval) : order;
  const logitScale = medianLogitSpread(cleanAll, k);
  const reserve = () => Math.max(0, runner.left - nEval);

  const measure = async (
    cands: readonly number[][],
    rows: readonly number[],
  ): Promise<MeasuredCandidate[]> => {
    if (cands.length === 0 || rows.length === 0) return [];
    const clean = subsetSummary(cleanAll, rows, k);
    // one position per row and trigger length, the same for every candidate (common random numbers)
    const byLen = new Map<number, Int32Array>();
    for (const c of cands)
      if (!byLen.has(c.length)) byLen.set(c.length, insertionPositions(lengths, rows, seq, c.length, rng));
    const res = await runInserted(
      runner,
      base,
      seq,
      k,
      cands.map((tokens) => ({ tokens, rows, positions: byLen.get(tokens.length) as Int32Array })),
    );
    return res.map((s, i) => ({ tokens: cands[i], effect: effectOf(clean, s, k) }));
  };

  // 2. Screen one-token candidates.
  let all: number[] = [];
  const idOrder = opts.order ?? Int32Array.from({ length: opts.vocabSize }, (_, i) => i);
  for (const id of idOrder) if (id !== opts.pad && id >= 0 && id < opts.vocabSize) all.push(id);
  const skip = (v: number) => v === opts.pad || v < 0 || v >= opts.vocabSize;
  let plan = screeningPlan(
    all.length,
    searchRows.length,
    Math.floor(reserve() * SCREEN_SHARE),
    MIN_SCREEN_TEXTS,
    MAX_SCREEN_TEXTS,
  );
  // Not every entry affordable: the first-order gains through the embedding choose which are screened.
  // (on up to HOTFLIP_TEXTS texts, spending at most half of what is left)
  const gradRows = searchRows.slice(
    0,
    Math.min(HOTFLIP_TEXTS, Math.floor(reserve() / (2 * k * GRADIENT_PASS_COST))),
  );
  const rankCost = k * GRADIENT_PASS_COST * gradRows.length;
  if (
    opts.hotflip &&
    plan.candidates < all.length &&
    gradRows.length > 0 &&
    gradRows.length >= Math.min(MIN_SCREEN_TEXTS, searchRows.length)
  ) {
    runner.charge(rankCost);
    const texts = new Int32Array(gradRows.length * seq);
    gradRows.forEach((r, i) => texts.set(base.subarray(r * seq, (r + 1) * seq), i * seq));
    const ranked = await rankByGradient(
      opts.hotflip,
      texts,
      gradRows.length,
      seq,
      Int32Array.from(gradRows, (r) => lengths[r]),
      k,
      skip,
    );
    // today's order (embedding outliers first) beside each class's first-order ranking, taking turns
    const inOrder = new Set(all);
    all = interleave([all, ...ranked]).filter((v) => inOrder.has(v));
    plan = screeningPlan(
      all.length,
      searchRows.length,
      Math.floor(reserve() * SCREEN_SHARE),
      MIN_SCREEN_TEXTS,
      MAX_SCREEN_TEXTS,
    );
  }
  const singles = all.slice(0, plan.candidates);
  const screenRows = searchRows.slice(0, plan.rows);
  const screened = await measure(
    singles.map((t) => [t]),
    screenRows,
  );
  // The token map: every id's flip share into each class, when every id was screened.
  let mapBlock = new Float32Array(0);
  let gainMap = new Float32Array(0);
  if (singles.length === all.length && opts.vocabSize <= TOKEN_MAP_MAX_TOKENS) {
    mapBlock = new Float32Array(opts.vocabSize * k);
    gainMap = new Float32Array(opts.vocabSize * k);
    for (const s of screened) {
      mapBlock.set(Float32Array.from(s.effect.flip), s.tokens[0] * k);
      gainMap.set(
        Float32Array.from(s.effect.gain, (g) => g / logitScale),
        s.tokens[0] * k,
      );
    }
  }
  const rankedFor = (c: number, n: number) => topBy(screened, n, (s) => s.effect.gain[c]);

  // 3-4. Confirm single tokens, then extend per class; every tier's best per class, confirmed.
  const confirmRows = searchRows.slice(0, Math.min(searchRows.length, MAX_CONFIRM_TEXTS));
  const best: (MeasuredCandidate | undefined)[][] = Array.from({ length: MAX_PHRASE }, () => new Array(k));
  const confirmed: MeasuredCandidate[][] = Array.from({ length: MAX_PHRASE }, () => []);
  const confirm = async (tier: number, cands: number[][]): Promise<void> => {
    const uniq = [...new Map(cands.map((c) => [keyOf(c), c])).values()];
    const rowsFit = Math.floor(reserve() / Math.max(1, uniq.length));
    const rows = confirmRows.slice(0, Math.min(confirmRows.length, rowsFit));
    if (rows.length < Math.min(MIN_EXTEND_TEXTS, confirmRows.length)) return;
    const got = await measure(uniq, rows);
    confirmed[tier] = got;
    for (let c = 0; c < k; c++) best[tier][c] = topBy(got, 1, (g) => g.effect.gain[c])[0];
  };
  const perClassSingles = Array.from({ length: k }, (_, c) => rankedFor(c, CONFIRM_PER_CLASS));
  await confirm(
    0,
    perClassSingles.flat().map((s) => s.tokens),
  );
  const pools = Array.from({ length: k }, (_, c) => rankedFor(c, EXTEND_POOL).map((s) => s.tokens[0]));
  for (let tier = 1; tier < MAX_PHRASE; tier++) {
    if (confirmed[tier - 1].length === 0) break;
    const cands: { c: number; tokens: number[] }[] = [];
    for (let c = 0; c < k; c++) {
      const seeds = topBy(confirmed[tier - 1], EXTEND_SEEDS, (g) => g.effect.gain[c]);
      for (const s of seeds)
        for (const w of pools[c]) {
          // distinct words: a word repeated says nothing a stronger single word does not
          if (s.tokens.includes(w)) continue;
          cands.push({ c, tokens: [...s.tokens, w] }, { c, tokens: [w, ...s.tokens] });
        }
    }
    const uniq = [...new Map(cands.map((x) => [keyOf(x.tokens), x.tokens])).values()];
    // screening rows as the budget allows, leaving the confirmation of CONFIRM_PHRASES per class
    const confirmCost = k * CONFIRM_PHRASES * confirmRows.length;
    const m = Math.min(
      MAX_EXTEND_TEXTS,
      searchRows.length,
      Math.floor((reserve() - confirmCost) / Math.max(1, uniq.length)),
    );
    if (m < Math.min(MIN_EXTEND_TEXTS, searchRows.length)) break;
    const got = await measure(uniq, searchRows.slice(0, m));
    const phrases: number[][] = [];
    for (let c = 0; c < k; c++)
      phrases.push(...topBy(got, CONFIRM_PHRASES, (g) => g.effect.gain[c]).map((g) => g.tokens));
    await confirm(tier, phrases);
    if (confirmed[tier].length === 0) break;
  }

  // 4b. Inversion through the embedding: relaxed phrases per class, measured like the greedy ones.
  let apart: TierScore | null = null;
  let inversionRan = false;
  if (opts.invert) {
    const cost = GRADIENT_PASS_COST * inversionGradients(k);
    const checkRows = searchRows.slice(0, Math.min(MAX_EXTEND_TEXTS, searchRows.length));
    if (reserve() >= cost + k * CONFIRM_PHRASES * (checkRows.length + confirmRows.length) * 2) {
      runner.charge(cost);
      inversionRan = true;
      const exclude = opts.inversionSeam?.exclude?.((c, n) => rankedFor(c, n).map((x) => x.tokens[0]));
      const arms = await invertTokenTriggers(opts.invert, base, lengths, cleanAll.argmax, searchRows, {
        classes: k,
        seq,
        ...(opts.pad !== undefined ? { pad: opts.pad } : {}),
        seed: (opts.seed ?? 0) + 1,
        ...(exclude ? { exclude } : {}),
      });
      // screen every candidate on a few texts, confirm each class's best on the confirmation texts
      const byClass = Array.from({ length: k }, () => new Map<string, number[]>());
      for (const a of arms) for (const cand of a.candidates) byClass[a.target].set(keyOf(cand), cand);
      const cands = byClass.flatMap((m) => [...m.values()]);
      const fit = Math.floor(
        (reserve() - k * CONFIRM_PHRASES * confirmRows.length) / Math.max(1, cands.length),
      );
      const screenedInv = await measure(
        cands,
        checkRows.slice(0, Math.max(0, Math.min(checkRows.length, fit))),
      );
      const perClass: number[][] = [];
      for (let c = 0; c < k; c++) {
        const own = screenedInv.filter((g) => byClass[c].has(keyOf(g.tokens)));
        perClass.push(...topBy(own, CONFIRM_PHRASES, (g) => g.effect.gain[c]).map((g) => g.tokens));
      }
      const uniq = [...new Map(perClass.map((c) => [keyOf(c), c])).values()];
      const rows = confirmRows.slice(
        0,
        Math.min(confirmRows.length, Math.floor(reserve() / Math.max(1, uniq.length))),
      );
      const got = rows.length > 0 ? await measure(uniq, rows) : [];
      const scoreApart = opts.inversionSeam?.scoreApart;
      if (scoreApart)
        apart = scoreApart(
          byClass.map((m) => got.filter((g) => m.has(keyOf(g.tokens)))),
          logitScale,
        );
      else
        for (const g of got) {
          const tier = Math.min(g.tokens.length, MAX_PHRASE) - 1;
          confirmed[tier].push(g);
          for (let c = 0; c < k; c++)
            if (!best[tier][c] || g.effect.gain[c] > (best[tier][c] as MeasuredCandidate).effect.gain[c])
              best[tier][c] = g;
        }
    }
  }

  // 5. Score: per tier, the classes' best gains against each other.
  const tiers: TierScore[] = [];
  best.forEach((row, t) => {
    if (!row.some((b) => b)) return;
    const gain = Float32Array.from(row, (b, c) => (b ? b.effect.gain[c] / logitScale : 0));
    const flip = Float32Array.from(row, (b, c) => (b ? b.effect.flip[c] : 0));
    tiers.push({
      length: t + 1,
      gain,
      flip,
      z: tierZ(gain, k),
      triggers: row.map((b) => (b ? b.tokens : null)),
    });
  });
  // a tier scored apart (InversionSeam.scoreApart): in the score, not in the feature blocks
  const scoredTiers = apart ? [...tiers, apart] : tiers;
  const { classScores, target } = scoreTiers(
    scoredTiers.map((t) => t.z),
    k,
  );
  // Every tier's confirmed candidates with their gains in logit spreads (the keyword-adjusted score's input).
  const confirmedTiers: ScoredCandidate[][] = confirmed
    .filter((got) => got.length > 0)
    .map((got) =>
      got.map((g) => ({ tokens: g.tokens, gain: Float32Array.from(g.effect.gain, (x) => x / logitScale) })),
    );
  const shares = opts.realTexts ? classWordShares(base, n, seq, cleanAll.argmax, k, opts.pad) : undefined;

  // The trigger to report: the target's shortest trigger that flips nearly as many texts as its best tier.
  const bestFlip = Math.max(0, ...scoredTiers.map((t) => t.flip[target]));
  const shownTier = scoredTiers.find((t) => t.triggers[target] && t.flip[target] >= 0.9 * bestFlip);
  const shown = shownTier?.triggers[target] ?? null;
  let flipRate = shownTier ? shownTier.flip[target] : 0;
  if (shown && nEval > 0 && runner.left >= nEval) {
    const [res] = await measure([shown], evalRows);
    flipRate = res.effect.flip[target];
  }
  const informative = k >= MIN_CLASSES_FOR_SCORE;
  const score = informative ? classScores[target] : 0;
  const adjusted = shares && informative ? keywordAdjustedScore(confirmedTiers, shares, k) : undefined;
  const words = shown ? `${shown.length} token${shown.length > 1 ? 's' : ''}` : 'no tokens';
  const selfCheck: SelfCheck = {
    score,
    targetClass: target,
    detail:
      `class ${target} is the easiest to reach: inserting ${words} sends ` +
      `${(flipRate * 100).toFixed(0)}% of held-out texts to it ` +
      (informative
        ? `(trigger score ${score.toFixed(1)}: its margin-gain robust z against the other ${k - 1} classes, ` +
          `root mean square over triggers of 1 to ${MAX_PHRASE} tokens)`
        : `(no score: comparing classes needs at least ${MIN_CLASSES_FOR_SCORE} classes)`),
    trigger: {
      kind: 'tokens',
      location: 'inserted at a random position',
      flipRate,
      zScore: score,
      ...(shown ? { tokens: shown } : {}),
    },
    ...(adjusted
      ? {
          keywordAdjusted: {
            score: adjusted.score,
            targetClass: adjusted.targetClass,
            // the raw target's strongest word, when it is a natural keyword of that class
            discounted: adjusted.discounted[target] >= 0 ? [adjusted.discounted[target]] : [],
          },
        }
      : {}),
  };
  const weights = tiers.map((_, i) => TIER_WEIGHT_RATIO ** i);
  const wSum = weights.reduce((a, b) => a + b, 0) || 1;
  const block = new Float32Array(2 * k);
  tiers.forEach((t, i) => {
    for (let c = 0; c < k; c++) {
      block[c] += (weights[i] / wSum) * t.gain[c];
      block[k + c] += (weights[i] / wSum) * t.flip[c];
    }
  });
  const tierBlock = new Float32Array(2 * MAX_PHRASE * k);
  for (const t of tiers) {
    tierBlock.set(t.gain, (t.length - 1) * k);
    tierBlock.set(t.flip, (MAX_PHRASE + t.length - 1) * k);
  }
  return {
    selfCheck,
    block,
    tierBlock,
    mapBlock,
    gainMap,
    classScores,
    trigger: shown,
    tiers,
    confirmedTiers,
    ...(shares ? { wordShares: shares } : {}),
    classGains: Array.from({ length: k }, (_, c) =>
      Float32Array.from(
        perClassSingles[c]
          .map((s) => confirmed[0].find((x) => keyOf(x.tokens) === keyOf(s.tokens))?.effect.gain[c] ?? NaN)
          .filter((g) => Number.isFinite(g))
          .map((g) => g / logitScale)
          .sort((a, b) => b - a),
      ),
    ),
    classScreen: Array.from({ length: k }, (_, c) => {
      const g = screened.map((s) => s.effect.gain[c] / logitScale).sort((a, b) => b - a);
      return Float32Array.from(
        [0, 0.01, 0.05, 0.1, 0.5],
        (q) => g[Math.min(g.length - 1, Math.floor(q * g.length))] ?? 0,
      );
    }),
    inversionRan,
    forwardPasses: runner.used,
    candidatesScreened: singles.length,
    candidatesTotal: all.length,
  };
}

/**
 * One tier's robust z of each class's best gain against the other classes' (spread floored at a share of the
 * typical gain); `adjusted`: other gains (each at most its class's best) scored against the same centre and spread.
 */
export function tierZ(gain: Float32Array, k: number, adjusted: Float32Array = gain): Float32Array {
  const typical = Array.from(gain, Math.abs).sort((a, b) => a - b)[k >> 1];
  return robustZAgainst(adjusted, gain, GAIN_SPREAD_FLOOR * typical);
}

/** A class's score: the root mean square of its positive tier z's; the target: the class with the largest. */
function scoreTiers(zs: readonly Float32Array[], k: number): { classScores: Float32Array; target: number } {
  const classScores = new Float32Array(k);
  for (const z of zs) for (let c = 0; c < k; c++) classScores[c] += Math.max(0, z[c]) ** 2;
  if (zs.length > 0) for (let c = 0; c < k; c++) classScores[c] = Math.sqrt(classScores[c] / zs.length);
  let target = 0;
  for (let c = 1; c < k; c++) if (classScores[c] > classScores[target]) target = c;
  return { classScores, target };
}

/**
 * The trigger score with natural keywords discounted (token-keywords.ts): a class whose strongest single word
 * (its best confirmed one-token candidate) is one of its natural keywords is scored, at every tier, only by
 * candidates holding none of them (scoreLeavingOut); a class whose strongest word is not a natural keyword
 * keeps its whole evidence, so a planted word's phrases that pair it with its target's keywords still count.
 * (Leaving such candidates out of every class was measured and dropped: it also cut a planted word's phrases,
 * two decoyed rare-word CNNs of the man-page test split fell from high; bench/text/keywords.ts.)
 * `discounted`: per class, the natural keyword that is its strongest word, or -1. No forward pass.
 */
export function keywordAdjustedScore(
  confirmedTiers: readonly ScoredCandidate[][],
  shares: ClassWordShares,
  k: number,
  rule: KeywordRule = NATURAL_RULE,
): { score: number; targetClass: number; classScores: Float32Array; discounted: Int32Array } {
  const natural = (c: number, x: ScoredCandidate) =>
    x.tokens.some((v) => isNaturalKeyword(shares, v, c, rule));
  const singles = bestPerClass(confirmedTiers[0] ?? [], k);
  const discounted = Int32Array.from(singles, (b, c) =>
    b && b.tokens.length === 1 && natural(c, b) ? b.tokens[0] : -1,
  );
  const r = scoreLeavingOut(confirmedTiers, k, (c, x) => discounted[c] >= 0 && natural(c, x));
  return { ...r, discounted };
}

/**
 * The trigger score with the candidates `leftOut(c, x)` says no part of class c's evidence: per tier, each
 * class's best confirmed candidate among the rest (none: no evidence), as a robust z against the centre and
 * spread of every class's best candidate (the search's own tier statistics), then the same root mean square.
 * A class's gain only falls, against an unchanged yardstick, so the score is at most the search's own score
 * and the search's null bounds it (a clean model is never pushed up: leaving keywords out of the yardstick too
 * made other clean classes stand out, bench/text/keywords.ts).
 */
export function scoreLeavingOut(
  confirmedTiers: readonly ScoredCandidate[][],
  k: number,
  leftOut: (c: number, x: ScoredCandidate) => boolean,
): { score: number; targetClass: number; classScores: Float32Array } {
  const zs = confirmedTiers.map((cands) => {
    const gainOf = (row: (ScoredCandidate | undefined)[], none: number) =>
      Float32Array.from(row, (b, c) => (b ? b.gain[c] : none));
    const all = gainOf(bestPerClass(cands, k), 0);
    // a class whose every candidate is left out: no evidence left (z -Infinity, no part of the score)
    const kept = gainOf(
      bestPerClass(cands, k, (c, x) => !leftOut(c, x)),
      -Infinity,
    );
    return tierZ(all, k, kept);
  });
  const { classScores, target } = scoreTiers(zs, k);
  return { score: classScores[target], targetClass: target, classScores };
}
