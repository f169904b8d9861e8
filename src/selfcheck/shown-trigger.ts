/**
 * Which trigger the report shows for the suspected target: the most specific evidence the search found.
 *
 * Trigger probing keeps, per family (patch, pixels, blend, warp) and strength tier, the best trigger it
 * found for each class. Any of them reaching the target is evidence, but not equally telling: a blend that
 * changes every pixel and flips 88% of inputs says less about the model than a 3x3 corner patch that flips
 * all of them, because a whole-input change can push a clean model towards a class too (a natural sink)
 * while a small patch that does it is what a planted trigger looks like. So the shown trigger is the one
 * that flips the most inputs into the target, and among those within SHOWN_FLIP_TOLERANCE of that best
 * flip rate, the one that touches the fewest input positions (ties: a patch before scattered pixels, then
 * the higher flip rate, then the smaller strength tier). The rule reads only what each candidate did and how much of the input it changes; it does
 * not touch the score. The tolerance was chosen on the development zoos (bench/refree/shown.ts), not on the
 * README's example.
 */
import type { Trigger, TriggerKind } from './triggers.js';

/**
 * A candidate within this much of the best flip rate (a share of the inputs) counts as reaching the target
 * as well as the best one; then the smaller one is shown. About two inputs of the ~40-60 search inputs a flip
 * rate is measured on (its sampling error near a 95% flip rate); chosen on the development zoos
 * (bench/refree/shown.ts, bench/results/refree-shown.md: tolerances 0 to 0.05 showed the attack's own kind
 * of trigger equally often, within one model of 40; 0.1 and above less often).
 */
export const SHOWN_FLIP_TOLERANCE = 0.05;

/**
 * Among equally small candidates, the family shown first: a contiguous patch is one location, the plainest
 * statement of the same change; scattered pixels next; whole-input changes last.
 */
const FAMILY_ORDER: Record<TriggerKind, number> = { patch: 0, pixels: 1, blend: 2, warp: 3 };

/** One candidate for the shown trigger: the best trigger of one (family, tier) cell for the target. */
export interface ShownCandidate {
  family: TriggerKind;
  tier: number;
  /** Share of the search inputs not already in the target that it sends there. */
  flip: number;
  /** Input positions (pixels, channels shared) it changes: the mask's support; a warp moves every pixel. */
  touched: number;
}

/** Input positions a trigger changes (see ShownCandidate.touched). */
export function touchedPositions(t: Trigger): number {
  if (t.kind === 'warp') return Number.POSITIVE_INFINITY;
  let n = 0;
  for (let i = 0; i < t.mask.length; i++) if (t.mask[i] > 0) n++;
  return n;
}

/**
 * Index of the shown candidate (see the header), or -1 for an empty list. `tolerance` is exposed for the
 * bench that chose it.
 */
export function pickShown(cands: readonly ShownCandidate[], tolerance = SHOWN_FLIP_TOLERANCE): number {
  if (cands.length === 0) return -1;
  const best = Math.max(...cands.map((c) => c.flip));
  let pick = -1;
  cands.forEach((c, i) => {
    if (c.flip < best - tolerance) return;
    if (pick < 0) {
      pick = i;
      return;
    }
    const p = cands[pick];
    const order = FAMILY_ORDER[c.family] - FAMILY_ORDER[p.family];
    const better =
      c.touched < p.touched ||
      (c.touched === p.touched &&
        (order < 0 || (order === 0 && (c.flip > p.flip || (c.flip === p.flip && c.tier < p.tier)))));
    if (better) pick = i;
  });
  return pick;
}
