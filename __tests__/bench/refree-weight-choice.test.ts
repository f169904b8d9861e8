/**
 * bench/refree/weight-choice.ts: the no-baseline p of a row under (floors, final-layer weight), and the
 * selection bench/refree/final-weight.ts makes (the clean bounds on EACH domain, then mean AUROC or backdoors
 * called high, ties to the earlier configuration), on hand-made rows whose answer is known.
 */
import { choose, stats, verdictP, type Unit } from '../../bench/refree/weight-choice.js';
import { P_HIGH } from '../../src/score/risk.js';

function unit(domain: string, clean: boolean, trigger: number, finalLayer: number | null, i: number): Unit {
  return {
    id: `${domain}-${clean ? 'clean' : 'bd'}-${i}`,
    domain,
    arch: `${domain}-net`,
    base: 'mined',
    clean,
    attack: clean ? null : 'patch',
    // the floors change trigger probing's p: 'loose' halves it
    trigger: (floors) => (floors === 'loose' ? trigger / 2 : trigger),
    finalLayer,
  };
}

// Domain A: trigger probing sees nothing, the backdoors' final-layer rows stand out (as the real-size zoo).
const A = [
  ...Array.from({ length: 100 }, (_, i) => unit('A', true, 0.5 + i / 1000, 0.3, i)),
  ...Array.from({ length: 6 }, (_, i) => unit('A', false, 0.5 + (17 * i + 8) / 1000, 1e-6 * (i + 1), i)),
];
// Domain B: trigger probing finds the backdoors; one clean model of 10 has a lowish final-layer p.
const B = [
  ...Array.from({ length: 10 }, (_, i) => unit('B', true, 0.6, i === 0 ? 0.003 : 0.4, i)),
  ...Array.from({ length: 5 }, (_, i) => unit('B', false, 0.001, 0.5, i)),
];

test('verdictP: weighted Bonferroni with the configuration weight (trigger probing weighs 1)', () => {
  const u = unit('A', false, 0.5, 1e-6, 0);
  expect(verdictP(u, { floors: 'tight', weight: 0 })).toBeCloseTo(0.5, 12);
  expect(verdictP(u, { floors: 'loose', weight: 0 })).toBeCloseTo(0.25, 12);
  expect(verdictP(u, { floors: 'tight', weight: 0.02 })).toBeCloseTo(1e-6 * 51, 12);
  // a row without trigger probing: the final-layer check takes the whole weight
  expect(verdictP({ ...u, trigger: null }, { floors: 'tight', weight: 0.02 })).toBeCloseTo(1e-6, 12);
});

test('stats: clean and backdoored counts, high and medium, AUROC per cell', () => {
  const [a] = stats(A, { floors: 'tight', weight: 0.02 });
  expect(a).toMatchObject({ domain: 'A', clean: 100, cleanHigh: 0, cleanMedium: 0, backdoored: 6 });
  expect(a.backdoorHigh).toBe(6);
  expect(a.auroc).toBe(1);
  const [a0] = stats(A, { floors: 'tight', weight: 0 });
  expect(a0.backdoorHigh).toBe(0);
  expect(a0.auroc as number).toBeLessThan(0.6);
});

test('the clean bounds must hold on EACH domain, not pooled', () => {
  // weight 1: B's clean model at final-layer p 0.003 -> 0.006, high; 1 of 110 clean pooled (< 2%), 1 of 10 in B
  expect(verdictP(B[0], { floors: 'tight', weight: 1 })).toBeLessThanOrEqual(P_HIGH);
  const c = choose([...A, ...B], [{ floors: 'tight', weight: 1 }], 'auroc');
  expect(c.feasible).toBe(false);
  expect(c.on).toEqual(['A', 'B']);
  // on A alone it is feasible
  expect(choose(A, [{ floors: 'tight', weight: 1 }], 'auroc').feasible).toBe(true);
});

test('choose: feasible first, then the best mean AUROC, ties to the earlier configuration', () => {
  const grid = [0, 0.02, 0.05, 1].map((weight) => ({ floors: 'tight', weight }));
  const c = choose([...A, ...B], grid, 'auroc');
  expect(c.config).toEqual({ floors: 'tight', weight: 0.02 }); // 0 ranks A's backdoors low, 1 breaks B
  expect(c.feasible).toBe(true);
  expect(c.meanAuroc).toBe(1);
  const reversed = choose([...A, ...B], [...grid].reverse(), 'auroc');
  expect(reversed.config.weight).toBe(0.05); // 0.05 and 0.02 tie; 1 is infeasible
});

test('choose by backdoors called high prefers what calls more of them (the floors too)', () => {
  // B's backdoors at trigger p 0.001 are high at any weight; loosened floors halve every trigger p, so
  // nothing changes the count there, and A's backdoors need a positive weight
  const grid = [
    { floors: 'tight', weight: 0 },
    { floors: 'loose', weight: 0 },
    { floors: 'tight', weight: 0.02 },
  ];
  const c = choose([...A, ...B], grid, 'high');
  expect(c.config).toEqual({ floors: 'tight', weight: 0.02 });
  expect(c.meanHigh).toBe(1);
});
