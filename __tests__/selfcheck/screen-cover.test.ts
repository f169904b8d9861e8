/**
 * The screening plan under a short budget: the priority prefix is kept whenever it reaches every
 * (family, tier) cell; otherwise every cell gets candidates (round-robin, each cell's order kept) and the
 * rest follow the priority order.
 */
import { COVER_SHARE, screenedCandidates } from '../../src/selfcheck/screen-cover.js';

type T = { kind: 'patch' | 'pixels' | 'blend'; tier: number; id: number };

/** 40 patches over 4 tiers, then 15 pixel sets over 3 tiers, then 15 blends over 3 tiers (priority order). */
function list(): T[] {
  const out: T[] = [];
  for (let i = 0; i < 40; i++) out.push({ kind: 'patch', tier: i % 4, id: out.length });
  for (let i = 0; i < 15; i++) out.push({ kind: 'pixels', tier: i % 3, id: out.length });
  for (let i = 0; i < 15; i++) out.push({ kind: 'blend', tier: i % 3, id: out.length });
  return out;
}

describe('screenedCandidates', () => {
  it('keeps everything when the budget affords every candidate', () => {
    expect(screenedCandidates(list(), 70).map((t) => t.id)).toEqual(list().map((t) => t.id));
  });

  it('keeps the plain prefix when it already reaches every cell', () => {
    const all = list().filter((t) => t.kind === 'patch'); // 4 cells, reached by the first 4
    expect(screenedCandidates(all, 10).map((t) => t.id)).toEqual(all.slice(0, 10).map((t) => t.id));
  });

  it('covers every cell when the prefix would screen patches only', () => {
    const all = list();
    const n = 30; // the prefix: 30 patches, no pixel or blend cell
    const got = screenedCandidates(all, n);
    expect(got).toHaveLength(n);
    const cells = new Set(got.map((t) => `${t.kind}:${t.tier}`));
    expect(cells.size).toBe(10);
    // each cell's share of the round-robin part, the rest by priority (patches), order kept
    const spread = Math.floor(n * COVER_SHARE);
    // 15 dealt over 10 cells: one round for all, a second for the first five (the 4 patch tiers, pixels 0)
    expect(spread).toBe(15);
    expect(got.filter((t) => t.kind === 'blend').length).toBe(3);
    expect(got.filter((t) => t.kind === 'pixels').length).toBe(4);
    expect(got.filter((t) => t.kind === 'patch').length).toBeGreaterThan(n / 2);
    const ids = got.map((t) => t.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(n);
  });

  it('screens nothing for a budget of nothing', () => {
    expect(screenedCandidates(list(), 0)).toEqual([]);
  });
});
