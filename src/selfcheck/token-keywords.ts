/**
 * Natural keywords: the words a class's own texts already carry, told apart from planted trigger words.
 *
 * Why. Token trigger probing (token-probe.ts) asks which class a few inserted words reach most easily. A clean
 * model can learn a one-word shortcut from its data: a word in most texts of one class and almost none of the
 * others (on Debian package descriptions "game" is in 72% of the games texts and 11 of 4,813 others) flips
 * texts into that class as a planted rare word does, and the reference-free test called such clean models
 * high (bench/text/findings-debian.md). A planted trigger is the opposite: it is absent from clean texts (an
 * attacker picks a word the data does not use, or the backdoor would fire on ordinary inputs). So with real
 * texts (the user's samples) a candidate whose word is frequent in the texts the model itself puts in the
 * candidate's class, and enriched there against the other classes' texts, is a natural keyword of that class,
 * not evidence of a backdoor.
 *
 * What is computed: per class (the clean prediction of each base text), which tokens are natural keywords of
 * it (NATURAL_SHARE of the class's texts at least, and NATURAL_ENRICHMENT times their share of the other
 * classes' texts); then a class whose strongest single word is one of its natural keywords is rescored from
 * the search's confirmed candidates that hold none of them (token-probe.ts keywordAdjustedScore; a class whose
 * strongest word is not one, such as a planted word's target, keeps its whole evidence). Nothing is run: the
 * statistic reuses the search's measurements, so it costs no forward pass. It needs texts of the user's data:
 * on texts mined from the model (token-mine.ts) a trigger word is as frequent in its class's mined texts as a
 * keyword is, so it is not computed there. Both constants were chosen on the man-page text zoo's dev split
 * (bench/text/keywords.ts), never on the held-out corpus. Hand-written: a few counts over token ids.
 */

/** Fewest texts a class needs (by the model's clean prediction) for its word shares to mean anything. */
export const MIN_CLASS_TEXTS = 4;
/** Share of a class's own texts a natural keyword is in, at least. */
export const NATURAL_SHARE = 0.2;
/** How many times more often than in the other classes' texts (share against share), at least. */
export const NATURAL_ENRICHMENT = 4;

export interface KeywordRule {
  share: number;
  enrichment: number;
}

export const NATURAL_RULE: KeywordRule = { share: NATURAL_SHARE, enrichment: NATURAL_ENRICHMENT };

/** Per class, how often each token is in the class's texts and in the other classes' texts. */
export interface ClassWordShares {
  classes: number;
  /** Texts per class (clean prediction). */
  counts: Int32Array;
  /** Texts in all. */
  total: number;
  /** Token id -> per class the number of that class's texts holding it. */
  byToken: Map<number, Int32Array>;
}

/**
 * Counts, for `count` texts of `seq` ids (packed) whose clean predicted classes are `labels`, in how many texts
 * of each class every token occurs (a text counts once per token; the padding id is skipped).
 */
export function classWordShares(
  base: Int32Array,
  count: number,
  seq: number,
  labels: Int32Array,
  classes: number,
  pad?: number,
): ClassWordShares {
  const counts = new Int32Array(classes);
  const byToken = new Map<number, Int32Array>();
  for (let r = 0; r < count; r++) {
    const c = labels[r];
    counts[c]++;
    const seen = new Set<number>();
    for (let j = 0; j < seq; j++) {
      const v = base[r * seq + j];
      if (v === pad || seen.has(v)) continue;
      seen.add(v);
      let row = byToken.get(v);
      if (!row) byToken.set(v, (row = new Int32Array(classes)));
      row[c]++;
    }
  }
  return { classes, counts, total: count, byToken };
}

/** Share of class c's texts holding token v, and share of the other classes' texts holding it. */
export function shareOf(s: ClassWordShares, v: number, c: number): { inClass: number; elsewhere: number } {
  const row = s.byToken.get(v);
  const inC = row ? row[c] : 0;
  const all = row ? row.reduce((a, b) => a + b, 0) : 0;
  const others = s.total - s.counts[c];
  return {
    inClass: s.counts[c] > 0 ? inC / s.counts[c] : 0,
    elsewhere: others > 0 ? (all - inC) / others : 0,
  };
}

/** Whether token v is a natural keyword of class c under `rule` (a class with too few texts has none). */
export function isNaturalKeyword(
  s: ClassWordShares,
  v: number,
  c: number,
  rule: KeywordRule = NATURAL_RULE,
): boolean {
  if (s.counts[c] < MIN_CLASS_TEXTS) return false;
  const { inClass, elsewhere } = shareOf(s, v, c);
  return inClass >= rule.share && inClass >= rule.enrichment * elsewhere;
}

/** One confirmed candidate of the search: its tokens and its margin gain into each class (logit spreads). */
export interface ScoredCandidate {
  tokens: readonly number[];
  gain: ArrayLike<number>;
}

/** Per class, its best candidate at one tier among those `allowed` for it (undefined: none allowed). */
export function bestPerClass(
  cands: readonly ScoredCandidate[],
  classes: number,
  allowed: (c: number, cand: ScoredCandidate) => boolean = () => true,
): (ScoredCandidate | undefined)[] {
  return Array.from({ length: classes }, (_, c) => {
    let best: ScoredCandidate | undefined;
    for (const x of cands) if (allowed(c, x) && (!best || x.gain[c] > best.gain[c])) best = x;
    return best;
  });
}
