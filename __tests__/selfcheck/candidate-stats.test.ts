/**
 * What the class-anomaly score reads besides the best triggers: the typical (median) effect per class, the
 * screened best and largest flips (swept patches count only towards the typical effect), the clean pass per
 * class, and the mapping of a stamped batch (an all-to-all trigger maps every class to another; a sink
 * takes them all to one).
 */
import { CandidateStats, cleanEvidence, mappingOf } from '../../src/selfcheck/candidate-stats.js';
import type { LogitSummary } from '../../src/selfcheck/logit-stats.js';
import { makeBlend, makePatch } from '../../src/selfcheck/triggers.js';

const summary = (argmax: number[], k: number, margins?: number[][]): LogitSummary => ({
  argmax: Int32Array.from(argmax),
  margin: Float32Array.from(
    margins ? margins.flat() : argmax.flatMap((a) => Array.from({ length: k }, (_, c) => (c === a ? 1 : -1))),
  ),
});

describe('mappingOf', () => {
  const clean = summary([0, 0, 1, 1, 2, 2, 3, 3], 4);
  it('scores a permutation of every class near 1', () => {
    const m = mappingOf(clean, summary([1, 1, 2, 2, 3, 3, 0, 0], 4), 4);
    expect(m.changed).toBe(1);
    expect(m.consistent).toBe(1);
    expect(m.spread).toBe(1);
    expect(m.score).toBe(1);
  });
  it('scores a sink (every class to one) at 1/K of the sources', () => {
    const m = mappingOf(clean, summary([3, 3, 3, 3, 3, 3, 3, 3], 4), 4);
    expect(m.consistent).toBe(0.75); // class 3's own inputs do not move
    expect(m.spread).toBe(0.25);
  });
  it('ignores sources with a single input and scattered moves', () => {
    const m = mappingOf(summary([0, 1, 2, 3], 4), summary([1, 2, 3, 0], 4), 4);
    expect(m.score).toBe(0);
    const scattered = mappingOf(clean, summary([1, 2, 3, 0, 0, 1, 1, 2], 4), 4);
    expect(scattered.consistent).toBe(0);
  });
});

describe('cleanEvidence', () => {
  it('gives per class the predicted share, runner-up share and median gap', () => {
    // 2 inputs, 3 classes: input 0 is class 0 (class 1 close behind), input 1 class 2
    const s = summary([0, 2], 3, [
      [1, -1, -3],
      [-2, -4, 2],
    ]);
    const e = cleanEvidence(s, 3, 1);
    expect(Array.from(e.share)).toEqual([0.5, 0, 0.5]);
    expect(e.runnerUp[1]).toBe(0.5); // runner-up on input 0 of the 2 inputs not predicted 1
    expect(e.runnerUp[0]).toBe(1); // runner-up on input 1, the one input not predicted 0
    expect(e.gap[1]).toBe(2.5); // median of its gaps 1 and 4
  });
});

describe('CandidateStats', () => {
  it('keeps medians over every candidate and bests over the screened ones only', () => {
    const g = { c: 1, h: 6, w: 6 };
    const range = { lo: 0, hi: 1 };
    const stats = new CandidateStats(
      3,
      new Map([
        ['patch', 1],
        ['blend', 3],
      ] as const),
    );
    const p = makePatch(g, range, { top: 0, left: 0, size: 2, fill: 'solid-hi', fillSeed: 0 });
    const clean = summary([0, 1, 2, 0], 3);
    const eff = (gain: number[], flip: number[]) => ({
      gain: Float64Array.from(gain),
      flip: Float64Array.from(flip),
    });
    stats.observe(p, eff([0, 9, 0], [0, 1, 0]), clean, clean, false); // swept: typical only
    stats.observe(p, eff([0, 1, 0], [0, 0.25, 0]), clean, clean, true);
    stats.observe(p, eff([0, 2, 0], [0, 0.5, 0]), clean, clean, true);
    const blend = makeBlend(g, range, 0.3, 1, 'grating');
    expect(blend.tier).toBe(2);
    stats.observe(blend, eff([1, 1, 1], [0, 0, 0]), clean, clean, true);
    const ev = stats.finish(2, clean);
    const cell = ev.cells.get('patch')![0];
    expect(cell.candidates).toBe(3);
    expect(cell.typicalGain[1]).toBe(1); // median of 9, 1, 2 over the logit scale 2
    expect(cell.bestGain[1]).toBe(1); // the screened best, 2, over 2: the swept 9 does not count
    expect(cell.bestFlip[1]).toBe(0.5);
    expect(cell.maxFlip[1]).toBe(0.5);
    expect(ev.cells.get('blend')![2].candidates).toBe(1);
    expect(ev.cells.get('blend')![0].candidates).toBe(0);
  });
});
