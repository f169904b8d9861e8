/**
 * Random-search steps for refining a trigger (gradient-free: the prober only has forward passes). Each step
 * proposes a nearby trigger of the same family and strength tier, so refinement sharpens a candidate without
 * growing it: a patch moves, changes fill or brightness; a pixel moves to a neighbour; a blend pattern (of
 * the same kind) or a warp field is re-drawn at the same strength.
 */
import { Rng } from '../probes/rng.js';
import {
  makeBlend,
  makePatch,
  makeWarp,
  BLEND_ALPHAS,
  type ImageGeometry,
  type MaskTrigger,
  type PatchFill,
  type Trigger,
  type ValueRange,
} from './triggers.js';
import { hasColour } from './colour-fills.js';

/** Patch brightnesses tried (share of the range): attacks use dimmer patches too. */
export const PATCH_VALUES = [0.6, 0.8, 1] as const;
const FILLS: PatchFill[] = ['solid-hi', 'checker', 'random', 'solid-lo'];
/** RGB inputs: the coloured fills too (colour-fills.ts); a grey input draws from FILLS alone, as before. */
const COLOUR_FILLS: PatchFill[] = [...FILLS, 'random-rgb', 'colour'];
/** Largest patch move per step, in pixels. */
const MAX_STEP = 2;

export function mutate(t: Trigger, g: ImageGeometry, range: ValueRange, rng: Rng): Trigger {
  if (t.kind === 'patch' && t.patch) {
    const p = { ...t.patch };
    const move = rng.int(5);
    if (move <= 1) {
      p.top += rng.int(2 * MAX_STEP + 1) - MAX_STEP;
      p.left += rng.int(2 * MAX_STEP + 1) - MAX_STEP;
    } else if (move === 2) {
      const fills = hasColour(g) ? COLOUR_FILLS : FILLS;
      p.fill = fills[rng.int(fills.length)];
    } else if (move === 3) p.value = PATCH_VALUES[rng.int(PATCH_VALUES.length)];
    else p.fillSeed = rng.nextUint32();
    return makePatch(g, range, p);
  }
  if (t.kind === 'pixels') return movePixel(t, g, range, rng);
  if (t.kind === 'blend') return makeBlend(g, range, t.amount ?? BLEND_ALPHAS[0], rng.nextUint32(), t.blend);
  if (t.kind === 'warp') return makeWarp(g, t.strength, rng.nextUint32());
  return t;
}

/** Moves one "on" pixel of a pixel trigger to a free neighbour (same count, same tier). */
function movePixel(t: MaskTrigger, g: ImageGeometry, range: ValueRange, rng: Rng): MaskTrigger {
  const hw = g.h * g.w;
  const on: number[] = [];
  for (let i = 0; i < hw; i++) if (t.mask[i] > 0) on.push(i);
  if (on.length === 0) return t;
  const from = on[rng.int(on.length)];
  const y = Math.floor(from / g.w);
  const x = from % g.w;
  const ny = Math.max(0, Math.min(g.h - 1, y + rng.int(3) - 1));
  const nx = Math.max(0, Math.min(g.w - 1, x + rng.int(3) - 1));
  const to = ny * g.w + nx;
  if (t.mask[to] > 0) return t;
  const mask = t.mask.slice();
  const pattern = t.pattern.slice();
  mask[from] = 0;
  mask[to] = 1;
  for (let ch = 0; ch < g.c; ch++) {
    pattern[ch * hw + from] = 0;
    pattern[ch * hw + to] = range.hi;
  }
  return { ...t, mask, pattern, location: `${on.length} bright pixels (refined)` };
}
