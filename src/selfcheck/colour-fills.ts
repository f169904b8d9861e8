/**
 * Coloured patch fills for RGB inputs (3 channels). The grey fills of triggers.ts (solid bright and dark,
 * checkerboards, a random binary pattern) set every channel alike, while published BadNets-style attacks on
 * colour data often stamp coloured patches: a square of random colours with each channel on or off
 * independently (the patch triggers of the NeurIPS 2022 Trojan Detection Challenge and of many BadNets
 * re-implementations), or a patch of one saturated colour (TrojAI's coloured polygons, a red or yellow sticker
 * on a traffic sign). A grey candidate stamped where such a trigger sits does not fire it (measured on the
 * real-size zoo: bench/realsize/findings.md, "Why trigger probing misses the patch backdoors"). Both fills are
 * fixed here a priori from those attacks, not fitted to any zoo:
 *
 *   random-rgb  each pixel's channels on (hi) or off (lo) independently, seeded (8 colours, per pixel)
 *   colour      one saturated colour over the whole patch: the six corners of the RGB cube other than black
 *               and white (red, green, blue, yellow, cyan, magenta), picked by the fill seed
 *
 * They are added only for 3-channel inputs (a 1-channel input's menu is exactly what it was), at the four
 * corners in every patch size, after the grey corner patches. Plain arithmetic, no package.
 */
import type { ImageGeometry } from './triggers.js';

/** The six saturated colours (per channel: 1 = hi, 0 = lo), in the order the `colour` fill's seed picks them. */
export const SATURATED_COLOURS: readonly (readonly [number, number, number])[] = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
  [1, 1, 0],
  [0, 1, 1],
  [1, 0, 1],
];
const COLOUR_NAMES = ['red', 'green', 'blue', 'yellow', 'cyan', 'magenta'] as const;

/** Random-colour patterns drawn per corner patch place and size (each its own seed). */
export const RANDOM_COLOUR_PATTERNS = 2;

/** Channels of an input that gets the coloured fills (RGB; CHW with 3 channels). */
export const COLOUR_CHANNELS = 3;

/** Whether an input gets the coloured fills: 3 channels only (grey and feature inputs keep the grey menu). */
export function hasColour(g: ImageGeometry): boolean {
  return g.c === COLOUR_CHANNELS;
}

/** The saturated colour a `colour` fill with this seed stamps. */
export function saturatedColour(fillSeed: number): readonly [number, number, number] {
  return SATURATED_COLOURS[(fillSeed >>> 0) % SATURATED_COLOURS.length];
}

/** A `colour` fill in a reviewer's words ("red"). */
export function colourName(fillSeed: number): string {
  return COLOUR_NAMES[(fillSeed >>> 0) % COLOUR_NAMES.length];
}

/**
 * The coloured fills of the corner patches, in menu order: RANDOM_COLOUR_PATTERNS random-colour patterns
 * (seeds derived from `seed`), then the six saturated colours.
 */
export function colourCornerFills(seed: number): { fill: 'random-rgb' | 'colour'; fillSeed: number }[] {
  const random = Array.from({ length: RANDOM_COLOUR_PATTERNS }, (_, i) => ({
    fill: 'random-rgb' as const,
    // distinct seeds from the grey random fill's own (golden-ratio steps), without drawing from the menu's
    // generator, so the rest of the menu is drawn exactly as before
    fillSeed: (seed + (i + 1) * 0x9e3779b9) >>> 0,
  }));
  const solid = SATURATED_COLOURS.map((_, i) => ({ fill: 'colour' as const, fillSeed: i }));
  return [...random, ...solid];
}
