/**
 * Scan-guided trigger candidates. A saliency scan stamps each pixel (or, on large inputs, each block) alone
 * on a few inputs and records how much every class's logit margin grows. A backdoor's own pixels push its
 * target class hard wherever the trigger sits, so the blocks with the largest gain for a class seed that
 * class's pixel triggers (top 4/9/16 blocks) and patch positions (the window of each patch size with the
 * largest summed gain). Forward passes only: this is a finite-difference saliency, no gradients.
 */
import type { BudgetedRunner } from './budgeted-runner.js';
import { effectOf, type LogitSummary } from './logit-stats.js';
import {
  makePatch,
  makePixelSet,
  patchSizes,
  PIXEL_COUNTS,
  type ImageGeometry,
  type Trigger,
  type ValueRange,
} from './triggers.js';

/** Margin gain of every class when each block alone is set to hi: gains[c * blocks + b]. */
export interface BlockScan {
  blocks: number[][];
  gains: Float64Array;
}

/** Square blocks of side ceil(sqrt(H*W / maxBlocks)) tiling the image (pixel indices y*W+x). */
export function scanBlocksOf(g: ImageGeometry, maxBlocks: number): number[][] {
  const side = Math.max(1, Math.ceil(Math.sqrt((g.h * g.w) / Math.max(1, maxBlocks))));
  const blocks: number[][] = [];
  for (let y = 0; y < g.h; y += side) {
    for (let x = 0; x < g.w; x += side) {
      const px: number[] = [];
      for (let yy = y; yy < Math.min(g.h, y + side); yy++) {
        for (let xx = x; xx < Math.min(g.w, x + side); xx++) px.push(yy * g.w + xx);
      }
      blocks.push(px);
    }
  }
  return blocks;
}

export async function saliencyScan(
  runner: BudgetedRunner,
  base: Float32Array,
  g: ImageGeometry,
  range: ValueRange,
  rows: readonly number[],
  clean: LogitSummary,
  k: number,
  maxBlocks: number,
): Promise<BlockScan> {
  const blocks = scanBlocksOf(g, maxBlocks);
  const res = await runner.stamped(
    blocks.map((px) => ({ trigger: makePixelSet(g, range, px), rows })),
    base,
    g,
  );
  const gains = new Float64Array(k * blocks.length);
  res.forEach((s, b) => {
    const e = effectOf(clean, s, k);
    for (let c = 0; c < k; c++) gains[c * blocks.length + b] = e.gain[c];
  });
  return { blocks, gains };
}

/**
 * Most classes that get guided triggers. Models with more classes get them for the classes with the largest
 * single-block gains only (memory and budget grow with classes x candidates); their scores are then
 * approximate (the other classes were probed with the generic candidates only).
 */
export const MAX_GUIDED_CLASSES = 32;

/** The classes to guide: all of them, or the MAX_GUIDED_CLASSES with the largest best-block gain. */
export function guidedClasses(scan: BlockScan, k: number): number[] {
  const all = Array.from({ length: k }, (_, c) => c);
  if (k <= MAX_GUIDED_CLASSES) return all;
  const nb = scan.blocks.length;
  const peak = all.map((c) => Math.max(...scan.gains.subarray(c * nb, (c + 1) * nb)));
  return all.sort((a, b) => peak[b] - peak[a] || a - b).slice(0, MAX_GUIDED_CLASSES);
}

/** Per guided class: one pixel trigger per pixel-count tier and one solid patch per patch size. */
export function guidedTriggers(g: ImageGeometry, range: ValueRange, scan: BlockScan, k: number): Trigger[] {
  const nb = scan.blocks.length;
  const out: Trigger[] = [];
  const hw = g.h * g.w;
  const W = g.w + 1;
  for (const c of guidedClasses(scan, k)) {
    const gain = scan.gains.subarray(c * nb, (c + 1) * nb);
    const order = Array.from({ length: nb }, (_, b) => b).sort((a, b) => gain[b] - gain[a]);
    PIXEL_COUNTS.forEach((count, tier) => {
      const chosen = order.slice(0, Math.min(count, nb));
      out.push(
        makePixelSet(
          g,
          range,
          chosen.flatMap((b) => scan.blocks[b]),
          tier,
        ),
      );
    });
    // Per-pixel gain map, then the best window of each patch size via an integral image.
    const map = new Float64Array(hw);
    scan.blocks.forEach((px, b) => {
      for (const i of px) map[i] = gain[b] / px.length;
    });
    const integral = new Float64Array((g.h + 1) * W);
    for (let y = 0; y < g.h; y++) {
      for (let x = 0; x < g.w; x++) {
        integral[(y + 1) * W + x + 1] =
          map[y * g.w + x] + integral[y * W + x + 1] + integral[(y + 1) * W + x] - integral[y * W + x];
      }
    }
    for (const size of patchSizes(g)) {
      const sh = Math.min(size, g.h);
      const sw = Math.min(size, g.w);
      let bestSum = -Infinity;
      let top = 0;
      let left = 0;
      for (let y = 0; y + sh <= g.h; y++) {
        for (let x = 0; x + sw <= g.w; x++) {
          const sum =
            integral[(y + sh) * W + x + sw] -
            integral[y * W + x + sw] -
            integral[(y + sh) * W + x] +
            integral[y * W + x];
          if (sum > bestSum) {
            bestSum = sum;
            top = y;
            left = x;
          }
        }
      }
      out.push(makePatch(g, range, { top, left, size, fill: 'solid-hi', fillSeed: 0 }));
    }
  }
  return out;
}
