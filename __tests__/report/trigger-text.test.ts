import { imageTriggerText, withArticle } from '../../src/report/trigger-text.js';
import { makePatch } from '../../src/selfcheck/triggers.js';

describe('a trigger in words', () => {
  it('an image trigger is its location phrase; without one, its kind', () => {
    expect(
      imageTriggerText({
        kind: 'patch:solid-hi',
        location: 'bright 3x3 patch at the top edge (row 0, column 4)',
      }),
    ).toBe('bright 3x3 patch at the top edge (row 0, column 4)');
    expect(imageTriggerText({ kind: 'blend' })).toBe('blend trigger');
    expect(imageTriggerText({ kind: 'warp', location: '' })).toBe('warp trigger');
  });

  it('takes "a" or "an", and no article before a count', () => {
    expect(withArticle('bright 3x3 patch')).toBe('a bright 3x3 patch');
    expect(withArticle('inverted mask')).toBe('an inverted mask');
    expect(withArticle('5 bright pixels at (0,0)')).toBe('5 bright pixels at (0,0)');
  });

  it('names fill, size, place and the top-left cell of a patch, clipped to the image', () => {
    const g = { c: 1, h: 14, w: 14 };
    const r = { lo: 0, hi: 1 };
    expect(makePatch(g, r, { top: 20, left: 20, size: 3, fill: 'solid-hi', fillSeed: 0 }).location).toBe(
      'bright 3x3 patch at the bottom-right corner (row 11, column 11)',
    );
    expect(makePatch(g, r, { top: 0, left: 5, size: 4, fill: 'checker', fillSeed: 0 }).location).toBe(
      'checkerboard 4x4 patch at the top edge (row 0, column 5)',
    );
    expect(
      makePatch(g, r, { top: 5, left: 5, size: 2, fill: 'solid-lo', fillSeed: 0, value: 0.5 }).location,
    ).toBe('dark 2x2 patch at 50% brightness at the interior (row 5, column 5)');
  });
});
