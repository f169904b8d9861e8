/**
 * Coloured patch fills (src/selfcheck/colour-fills.ts): RGB inputs get coloured corner patches (random
 * colours per channel, six saturated colours) after the grey ones; every other input's menu is exactly what
 * it was before they existed (pinned by a digest of the whole menu), and refinement on a grey input never
 * draws a coloured fill.
 */
import { createHash } from 'node:crypto';
import {
  generateTriggers,
  makePatch,
  patchSizes,
  stampTrigger,
  type ImageGeometry,
  type MaskTrigger,
  type Trigger,
} from '../../src/selfcheck/triggers.js';
import {
  colourCornerFills,
  hasColour,
  RANDOM_COLOUR_PATTERNS,
  SATURATED_COLOURS,
} from '../../src/selfcheck/colour-fills.js';
import { mutate } from '../../src/selfcheck/refine.js';
import { Rng } from '../../src/probes/rng.js';

const RANGE = { lo: 0, hi: 1 };
const RGB: ImageGeometry = { c: 3, h: 32, w: 32 };

/** A digest of a whole menu: every trigger's kind, words, mask and pattern (or warp field). */
function menuDigest(ts: Trigger[]): string {
  const h = createHash('sha256');
  for (const t of ts) {
    h.update(t.kind + t.location);
    if (t.kind !== 'warp') {
      h.update(Buffer.from(t.mask.buffer));
      h.update(Buffer.from(t.pattern.buffer));
    } else h.update(Buffer.from(t.dx.buffer));
  }
  return h.digest('hex').slice(0, 16);
}

const isColourFill = (t: Trigger): boolean =>
  t.kind === 'patch' && (t.patch?.fill === 'random-rgb' || t.patch?.fill === 'colour');

/** Per pixel of the patch, its channel values. */
function pixelColours(t: MaskTrigger, g: ImageGeometry): number[][] {
  const hw = g.h * g.w;
  const out: number[][] = [];
  for (let i = 0; i < hw; i++)
    if (t.mask[i] > 0) out.push(Array.from({ length: g.c }, (_, ch) => t.pattern[ch * hw + i]));
  return out;
}

describe('coloured fills', () => {
  it('leave every 1-channel menu exactly as it was (digests of the menu before the coloured fills)', () => {
    // computed on main at c75b834, before colour-fills.ts existed
    expect(menuDigest(generateTriggers({ c: 1, h: 14, w: 14 }, { seed: 12345 }))).toBe('932b36df63f16346');
    expect(menuDigest(generateTriggers({ c: 1, h: 28, w: 28 }, { seed: 12345 }))).toBe('94ac65c489a466b0');
    expect(generateTriggers({ c: 1, h: 28, w: 28 }, { seed: 7 }).some(isColourFill)).toBe(false);
    expect(hasColour({ c: 1, h: 28, w: 28 })).toBe(false);
    expect(hasColour({ c: 4, h: 28, w: 28 })).toBe(false);
  });

  it('add coloured corner patches to an RGB menu after the grey corners, leaving the rest as it was', () => {
    const rgb = generateTriggers(RGB, { seed: 5 });
    const grey = generateTriggers({ c: 1, h: 32, w: 32 }, { seed: 5 });
    const coloured = rgb.filter(isColourFill);
    const sizes = patchSizes(RGB).length;
    expect(coloured).toHaveLength((RANDOM_COLOUR_PATTERNS + SATURATED_COLOURS.length) * sizes * 4);
    // placed right after the grey corner patches (4 grey fills x sizes x 4 corners)
    const first = rgb.findIndex(isColourFill);
    expect(first).toBe(4 * sizes * 4);
    expect(rgb.slice(first, first + coloured.length).every(isColourFill)).toBe(true);
    // every coloured patch sits in a corner
    for (const t of coloured) expect(t.location).toMatch(/at the (top|bottom)-(left|right) corner/);
    // the rest of the menu: the same places and words as the grey geometry's (only the channels differ)
    expect(rgb.filter((t) => !isColourFill(t)).map((t) => t.location)).toEqual(grey.map((t) => t.location));
  });

  it('a random-colour patch sets each channel on or off by itself; a saturated patch is one colour', () => {
    const [random] = colourCornerFills(99);
    const t = makePatch(RGB, RANGE, { top: 27, left: 27, size: 5, ...random }) as MaskTrigger;
    const px = pixelColours(t, RGB);
    expect(px).toHaveLength(25);
    expect(px.flat().every((v) => v === 0 || v === 1)).toBe(true);
    // coloured: some pixel has channels that differ (the grey fills never do)
    expect(px.some((c) => new Set(c).size > 1)).toBe(true);
    expect(new Set(px.map((c) => c.join(''))).size).toBeGreaterThan(2);
    expect(t.location).toBe('random-colour 5x5 patch at the bottom-right corner (row 27, column 27)');
    // deterministic per seed, different across the two seeds
    const again = makePatch(RGB, RANGE, { top: 27, left: 27, size: 5, ...random }) as MaskTrigger;
    expect(Array.from(again.pattern)).toEqual(Array.from(t.pattern));
    const other = makePatch(RGB, RANGE, { top: 27, left: 27, size: 5, ...colourCornerFills(99)[1] });
    expect(Array.from((other as MaskTrigger).pattern)).not.toEqual(Array.from(t.pattern));

    SATURATED_COLOURS.forEach((colour, i) => {
      const s = makePatch(RGB, { lo: -1, hi: 2 }, { top: 0, left: 0, size: 3, fill: 'colour', fillSeed: i });
      for (const c of pixelColours(s as MaskTrigger, RGB)) expect(c).toEqual(colour.map((b) => (b ? 2 : -1)));
    });
    const red = makePatch(RGB, RANGE, { top: 0, left: 0, size: 3, fill: 'colour', fillSeed: 0 });
    expect(red.location).toBe('red 3x3 patch at the top-left corner (row 0, column 0)');
    // stamped, the colours replace the image under the mask
    const x = new Float32Array(3 * 32 * 32).fill(0.5);
    const y = stampTrigger(red, RGB, x, 1);
    expect([y[0], y[1024], y[2048], y[3 * 32 + 3]]).toEqual([1, 0, 0, 0.5]);
  });

  it('refinement draws coloured fills on RGB inputs only', () => {
    const grey = { c: 1, h: 14, w: 14 };
    const fillsSeen = (g: ImageGeometry): Set<string> => {
      const rng = new Rng(3);
      let t: Trigger = makePatch(g, RANGE, { top: 0, left: 0, size: 3, fill: 'solid-hi', fillSeed: 0 });
      const seen = new Set<string>();
      for (let i = 0; i < 400; i++) {
        t = mutate(t, g, RANGE, rng);
        if (t.kind === 'patch' && t.patch) seen.add(t.patch.fill);
      }
      return seen;
    };
    expect(fillsSeen(grey)).toEqual(new Set(['solid-hi', 'solid-lo', 'checker', 'random']));
    expect(fillsSeen({ c: 3, h: 14, w: 14 })).toEqual(
      new Set(['solid-hi', 'solid-lo', 'checker', 'random', 'random-rgb', 'colour']),
    );
  });
});
