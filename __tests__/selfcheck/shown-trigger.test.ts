/**
 * The shown trigger is the most specific evidence: the best flip rate into the target, and among the
 * candidates within the tolerance of it, the one touching the fewest input positions.
 */
import { pickShown, touchedPositions, type ShownCandidate } from '../../src/selfcheck/shown-trigger.js';
import { imageGeometry, makeBlend, makePatch, makeWarp } from '../../src/selfcheck/triggers.js';

const c = (
  family: ShownCandidate['family'],
  tier: number,
  flip: number,
  touched: number,
): ShownCandidate => ({
  family,
  tier,
  flip,
  touched,
});

describe('pickShown', () => {
  it('shows a 3x3 patch over a whole-input blend that flips fewer inputs (the README example)', () => {
    const cands = [c('blend', 2, 0.88, 196), c('patch', 1, 1, 9), c('pixels', 2, 1, 16)];
    expect(cands[pickShown(cands)].family).toBe('patch');
  });

  it('shows the smaller trigger when it flips as many inputs, within the tolerance', () => {
    const cands = [c('blend', 2, 1, 196), c('patch', 1, 0.99, 9)];
    expect(pickShown(cands)).toBe(1);
    expect(pickShown(cands, 0)).toBe(0);
  });

  it('keeps the trigger that flips clearly more, however large', () => {
    const cands = [c('blend', 2, 0.95, 196), c('patch', 0, 0.4, 4)];
    expect(pickShown(cands)).toBe(0);
  });

  it('breaks ties on the same size by family (a patch first), flip rate, then the smaller tier', () => {
    expect(pickShown([c('pixels', 2, 0.98, 16), c('patch', 2, 0.95, 16)])).toBe(1);
    expect(pickShown([c('patch', 2, 0.99, 9), c('patch', 1, 1, 9)])).toBe(1);
    expect(pickShown([c('patch', 2, 1, 9), c('patch', 1, 1, 9)])).toBe(1);
    expect(pickShown([])).toBe(-1);
  });
});

describe('touchedPositions', () => {
  const g = imageGeometry([1, 14, 14]);
  it('counts the mask support; a blend touches every pixel, a warp moves them all', () => {
    const range = { lo: 0, hi: 1 };
    expect(
      touchedPositions(makePatch(g, range, { top: 11, left: 11, size: 3, fill: 'solid-hi', fillSeed: 1 })),
    ).toBe(9);
    expect(touchedPositions(makeBlend(g, range, 0.1, 1))).toBe(196);
    expect(touchedPositions(makeWarp(g, 0.5, 1))).toBe(Number.POSITIVE_INFINITY);
  });
});
