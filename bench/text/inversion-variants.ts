/**
 * The token search's variants that bench/text/invert.ts and bench/text/keywords.ts measured and dropped, kept
 * here so they can be measured again, plugged into the search through its seams (src/selfcheck/token-probe.ts
 * InversionSeam, scoreLeavingOut); the scan runs none of them.
 *   inversion 'tier'     per class the best phrase of its own inversion as one more tier of the root mean
 *                        square (in the score and the reported trigger, not in the feature blocks), instead
 *                        of the inverted phrases joining the tiers of their length (the shipped 'tiers');
 *   inversion exclude n  per class its n strongest screened words kept out of its inversion (at most a
 *                        quarter of the vocabulary; the shipped inversion keeps every word);
 *   keyword scope 'candidate'  every class scored without its candidates that hold a natural keyword of it
 *                        (the shipped scope discounts only a class whose strongest word is one).
 */
import {
  scoreLeavingOut,
  tierZ,
  type InversionSeam,
  type MeasuredCandidate,
  type TierScore,
} from '../../src/selfcheck/token-probe.js';
import {
  isNaturalKeyword,
  type ClassWordShares,
  type KeywordRule,
} from '../../src/selfcheck/token-keywords.js';
import type { ScoredCandidate } from '../../src/selfcheck/token-keywords.js';

/** How the inverted phrases enter the score: 'tiers' (shipped) or 'tier' (their own tier, above). */
export type InversionScoring = 'tiers' | 'tier';

/** Per class, the best of its own inversion's phrases (gain into it; ties: the first), or undefined. */
function bestOwn(own: readonly MeasuredCandidate[][]): (MeasuredCandidate | undefined)[] {
  return own.map((list, c) => {
    let best: MeasuredCandidate | undefined;
    for (const g of list) if (!best || g.effect.gain[c] > best.effect.gain[c]) best = g;
    return best;
  });
}

/** Scoring 'tier': the inverted phrases' own tier (length 0), or null when no class has one. */
export function invertedOwnTier(own: readonly MeasuredCandidate[][], logitScale: number): TierScore | null {
  const best = bestOwn(own);
  if (!best.some((b) => b)) return null;
  const gain = Float32Array.from(best, (b, c) => (b ? b.effect.gain[c] / logitScale : 0));
  return {
    length: 0,
    gain,
    flip: Float32Array.from(best, (b, c) => (b ? b.effect.flip[c] : 0)),
    z: tierZ(gain, best.length),
    triggers: best.map((b) => (b ? b.tokens : null)),
  };
}

/**
 * The seam for one variant; `onTier` receives the tier scored apart (scoring 'tier'), so the benchmark can
 * report it. `vocabSize` bounds the exclusion (never more than a quarter of the vocabulary).
 */
export function inversionVariant(
  v: { scoring: InversionScoring; exclude?: number },
  vocabSize: number,
  onTier?: (tier: TierScore | null) => void,
): InversionSeam {
  const n = Math.min(v.exclude ?? 0, Math.floor(vocabSize / 4));
  return {
    ...(n > 0
      ? {
          exclude: (ranked: (c: number, n: number) => number[]) => {
            const sets = new Map<number, Set<number>>();
            return (c: number, w: number) => {
              let s = sets.get(c);
              if (!s) sets.set(c, (s = new Set(ranked(c, n))));
              return s.has(w);
            };
          },
        }
      : {}),
    ...(v.scoring === 'tier'
      ? {
          scoreApart: (own: MeasuredCandidate[][], logitScale: number) => {
            const tier = invertedOwnTier(own, logitScale);
            onTier?.(tier);
            return tier;
          },
        }
      : {}),
  };
}

/** Keyword scope 'candidate': every class scored without its candidates that hold one of its natural keywords. */
export function candidateScopeScore(
  confirmedTiers: readonly ScoredCandidate[][],
  shares: ClassWordShares,
  k: number,
  rule: KeywordRule,
): number {
  return scoreLeavingOut(confirmedTiers, k, (c, x) =>
    x.tokens.some((w) => isNaturalKeyword(shares, w, c, rule)),
  ).score;
}
