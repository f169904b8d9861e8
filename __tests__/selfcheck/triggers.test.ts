/**
 * Candidate trigger generators: deterministic per seed, inside the value range, shaped as the attacks they
 * imitate (corner patches of the listed sizes, k distinct pixels, alpha blends, small smooth warps).
 */
import fc from 'fast-check';
import {
  generateTriggers,
  imageGeometry,
  makePatch,
  makePixels,
  makeWarp,
  patchSizes,
  stampTrigger,
  type ImageGeometry,
  type Trigger,
} from '../../src/selfcheck/triggers.js';
import { Rng } from '../../src/probes/rng.js';

const G14: ImageGeometry = { c: 1, h: 14, w: 14 };

function maskArea(t: Trigger): number {
  return t.kind === 'warp' ? 0 : t.mask.reduce((a, b) => a + b, 0);
}

describe('imageGeometry', () => {
  it('maps CHW, HW, square-flat and other flat shapes', () => {
    expect(imageGeometry([3, 32, 32])).toEqual({ c: 3, h: 32, w: 32 });
    expect(imageGeometry([28, 28])).toEqual({ c: 1, h: 28, w: 28 });
    expect(imageGeometry([196])).toEqual({ c: 1, h: 14, w: 14 });
    expect(imageGeometry([20])).toEqual({ c: 1, h: 1, w: 20 });
    expect(() => imageGeometry([0, 4])).toThrow(/bad input shape/);
  });
});

describe('patchSizes', () => {
  it('spans 2..max(5, H/5) with at most four sizes', () => {
    expect(patchSizes(G14)).toEqual([2, 3, 4, 5]);
    expect(patchSizes({ c: 3, h: 224, w: 224 })).toEqual([2, 16, 30, 44]);
    expect(patchSizes({ c: 1, h: 4, w: 4 })).toEqual([2, 3]);
  });
});

describe('generateTriggers', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = generateTriggers(G14, { seed: 7 });
    const b = generateTriggers(G14, { seed: 7 });
    const c = generateTriggers(G14, { seed: 8 });
    expect(a.length).toBe(b.length);
    a.forEach((t, i) => {
      const u = b[i];
      expect(u.kind).toBe(t.kind);
      expect(u.location).toBe(t.location);
      if (t.kind === 'warp' && u.kind === 'warp') expect(Array.from(u.dx)).toEqual(Array.from(t.dx));
      if (t.kind !== 'warp' && u.kind !== 'warp')
        expect(Array.from(u.pattern)).toEqual(Array.from(t.pattern));
    });
    expect(c.map((t) => t.location)).not.toEqual(a.map((t) => t.location));
  });

  it('covers every family, with corner patches of every size first', () => {
    const all = generateTriggers(G14, { seed: 1 });
    const kinds = new Set(all.map((t) => t.kind));
    expect(kinds).toEqual(new Set(['patch', 'pixels', 'blend', 'warp']));
    const corners = all.slice(0, 16);
    expect(corners.every((t) => t.kind === 'patch')).toBe(true);
    expect(new Set(corners.map((t) => (t.kind === 'patch' ? t.patch?.size : 0)))).toEqual(
      new Set([2, 3, 4, 5]),
    );
    expect(corners.map((t) => /at the (\S+) corner/.exec(t.location)?.[1])).toEqual(
      expect.arrayContaining(['bottom-right', 'top-left', 'top-right', 'bottom-left']),
    );
    const blends = all.filter((t) => t.kind === 'blend');
    expect(new Set(blends.map((t) => (t.kind === 'blend' ? t.amount : 0)))).toEqual(new Set([0.1, 0.2, 0.3]));
  });

  it('keeps stamped inputs inside the value range', () => {
    const range = { lo: -1, hi: 2 };
    const all = generateTriggers({ c: 3, h: 10, w: 12 }, { seed: 3, range });
    const n = 4;
    const inputs = new Rng(9).uniforms(n * 3 * 10 * 12, range.lo, range.hi);
    let lo = Infinity;
    let hi = -Infinity;
    let changed = 0;
    for (const t of all) {
      const out = stampTrigger(t, { c: 3, h: 10, w: 12 }, inputs, n);
      for (let i = 0; i < out.length; i++) {
        lo = Math.min(lo, out[i]);
        hi = Math.max(hi, out[i]);
        if (out[i] !== inputs[i]) changed++;
      }
    }
    expect(lo).toBeGreaterThanOrEqual(range.lo - 1e-6);
    expect(hi).toBeLessThanOrEqual(range.hi + 1e-6);
    expect(changed).toBeGreaterThan(0);
  });
});

describe('single triggers', () => {
  it('a patch sets exactly its square to the fill and leaves the rest alone', () => {
    const t = makePatch(G14, { lo: 0, hi: 1 }, { top: 11, left: 11, size: 3, fill: 'solid-hi', fillSeed: 0 });
    expect(maskArea(t)).toBe(9);
    expect(t.location).toBe('bright 3x3 patch at the bottom-right corner (row 11, column 11)');
    const x = new Float32Array(196).fill(0.25);
    const y = stampTrigger(t, G14, x, 1);
    for (let r = 0; r < 14; r++) {
      for (let c = 0; c < 14; c++) expect(y[r * 14 + c]).toBe(r >= 11 && c >= 11 ? 1 : 0.25);
    }
    const dim = makePatch(
      G14,
      { lo: 0, hi: 1 },
      { top: 0, left: 0, size: 2, fill: 'solid-hi', fillSeed: 0, value: 0.6 },
    );
    expect(stampTrigger(dim, G14, x, 1)[0]).toBeCloseTo(0.6, 6);
  });

  it('a patch is clipped into the image', () => {
    const t = makePatch(G14, { lo: 0, hi: 1 }, { top: 13, left: -4, size: 4, fill: 'checker', fillSeed: 0 });
    expect(t.patch).toMatchObject({ top: 10, left: 0, size: 4 });
    expect(maskArea(t)).toBe(16);
  });

  it('pixel triggers set k distinct pixels', () => {
    for (const k of [1, 4, 16]) expect(maskArea(makePixels(G14, { lo: 0, hi: 1 }, k, 5))).toBe(k);
  });

  it('a warp moves pixels by at most its strength and a zero warp is the identity', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.double({ min: 0.1, max: 3, noNaN: true }),
        (seed, s) => {
          const w = makeWarp(G14, s, seed);
          const maxShift = Math.max(...Array.from(w.dx, Math.abs), ...Array.from(w.dy, Math.abs));
          expect(maxShift).toBeLessThanOrEqual(s + 1e-5);
          expect(maxShift).toBeGreaterThan(s * 0.99);
        },
      ),
      { numRuns: 20 },
    );
    const zero = makeWarp(G14, 0, 1);
    const x = new Rng(2).uniforms(2 * 196);
    expect(Array.from(stampTrigger(zero, G14, x, 2))).toEqual(Array.from(x));
  });

  it('stamps in place when the output is the input (warp included)', () => {
    const x = new Rng(4).uniforms(3 * 196);
    for (const t of [makeWarp(G14, 1.5, 3), makePixels(G14, { lo: 0, hi: 1 }, 9, 3)]) {
      const expected = stampTrigger(t, G14, x, 3);
      const inPlace = x.slice();
      stampTrigger(t, G14, inPlace, 3, inPlace);
      expect(Array.from(inPlace)).toEqual(Array.from(expected));
    }
  });
});
