/**
 * Fixed trigger evidence for the picture renderers' golden tests, made in code (no model run, so the golden
 * files change only when a renderer does): 14x14 "digits" drawn as strokes, a 3x3 white patch in the
 * bottom-right corner (the real trigger code: makePatch, stampTrigger) that sends them to class 7, and a
 * patch map in the real layout (mapPositions) that is hot where that patch sits. Also a 3-channel input with
 * a blend trigger and a warp, for the other drawing paths.
 */
import { mapPositions } from '../../src/selfcheck/sweep.js';
import type { TriggerEvidence } from '../../src/selfcheck/evidence.js';
import {
  makeBlend,
  makePatch,
  makeWarp,
  stampTrigger,
  type ImageGeometry,
  type Trigger,
} from '../../src/selfcheck/triggers.js';

const RANGE = { lo: 0, hi: 1 };
export const G14: ImageGeometry = { c: 1, h: 14, w: 14 };

/** A 14x14 input with the given strokes (lists of [y, x] points) drawn in white. */
function drawn(strokes: [number, number][][]): Float32Array {
  const img = new Float32Array(14 * 14);
  for (const s of strokes)
    for (let i = 0; i + 1 < s.length; i++) {
      const [y0, x0] = s[i];
      const [y1, x1] = s[i + 1];
      const n = Math.max(Math.abs(y1 - y0), Math.abs(x1 - x0), 1);
      for (let t = 0; t <= n; t++) {
        const y = Math.round(y0 + ((y1 - y0) * t) / n);
        const x = Math.round(x0 + ((x1 - x0) * t) / n);
        img[y * 14 + x] = 1;
        if (x + 1 < 14) img[y * 14 + x + 1] = Math.max(img[y * 14 + x + 1], 0.6);
      }
    }
  return img;
}

const ONE = drawn([
  [
    [3, 6],
    [2, 7],
    [11, 7],
  ],
]);
const ZERO = drawn([
  [
    [2, 6],
    [3, 4],
    [7, 3],
    [11, 5],
    [11, 8],
    [7, 10],
    [3, 9],
    [2, 6],
  ],
]);
const FOUR = drawn([
  [
    [2, 4],
    [7, 3],
    [7, 10],
  ],
  [
    [3, 8],
    [11, 8],
  ],
]);

function evidence(
  trigger: Trigger,
  g: ImageGeometry,
  inputs: Float32Array[],
  before: number[],
  after: number[],
): TriggerEvidence {
  const positions = mapPositions(g);
  const k = 10;
  const values = new Float32Array(positions.length * k);
  positions.forEach((p, i) => {
    // the corner patch (and the bigger ones covering it) sends every input to 7; a faint spot elsewhere
    const corner = p.top + p.size === g.h && p.left + p.size === g.w;
    const faint = (p.top * 3 + p.left) % 7 === 0 ? 0.125 : 0;
    values[i * k + 7] = corner ? 1 : p.top === 2 && p.left === 1 ? 0.375 : faint;
    values[i * k + 3] = p.top === 0 && p.left === 0 ? 0.5 : 0;
  });
  return {
    geometry: g,
    range: RANGE,
    classes: k,
    targetClass: 7,
    trigger,
    flipRate: after.filter((a, i) => a === 7 && before[i] !== 7).length / before.length,
    examplesFrom: 'held-out',
    examples: inputs.map((clean, i) => ({
      row: i * 3,
      clean,
      stamped: stampTrigger(trigger, g, clean, 1),
      before: before[i],
      after: after[i],
    })),
    map: { inputs: 64, positions, values },
    basis: 'samples',
  };
}

/** The example's backdoor: a 3x3 white square in the bottom-right corner turns digits into 7. */
export function cornerPatchEvidence(): TriggerEvidence {
  const trigger = makePatch(G14, RANGE, { top: 11, left: 11, size: 3, fill: 'solid-hi', fillSeed: 0 });
  return evidence(trigger, G14, [ONE, ZERO, FOUR], [1, 0, 4], [7, 7, 4]);
}

/** A 3-channel 8x8 input with a blend trigger (the RGB drawing path). */
export function rgbBlendEvidence(): TriggerEvidence {
  const g: ImageGeometry = { c: 3, h: 8, w: 8 };
  const clean = Float32Array.from({ length: 3 * 64 }, (_, i) => ((i * 37) % 97) / 97);
  const trigger = makeBlend(g, RANGE, 0.3, 11);
  return { ...evidence(trigger, g, [clean], [2], [7]), map: null, basis: 'mined', examplesFrom: 'search' };
}

/** A warp trigger on the 14x14 digits (the displacement drawing path). */
export function warpEvidence(): TriggerEvidence {
  return evidence(makeWarp(G14, 1.5, 5), G14, [ONE, FOUR], [1, 4], [7, 7]);
}
