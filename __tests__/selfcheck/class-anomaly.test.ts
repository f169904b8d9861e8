/**
 * The zoo-free trigger score on synthetic cells: a class that its best trigger pushes far beyond the others
 * is named with a small p-value; a natural sink (every candidate pushes towards it, so its typical effect is
 * high too) is not; classes drawn alike give no evidence; fewer than three classes give no test.
 */
import { classAnomaly, type CellLike } from '../../src/selfcheck/class-anomaly.js';
import { Rng } from '../../src/probes/rng.js';

function cellOf(rng: Rng, k: number, best: (c: number) => number, typical: (c: number) => number): CellLike {
  const bestGain = Float32Array.from({ length: k }, (_, c) => best(c) + rng.normal(0, 0.05));
  const typicalGain = Float32Array.from({ length: k }, (_, c) => typical(c));
  const maxFlip = Float32Array.from({ length: k }, (_, c) =>
    Math.min(1, Math.max(0, (bestGain[c] - typicalGain[c]) / 3)),
  );
  return { bestGain, typicalGain, bestFlip: maxFlip, maxFlip, typicalFlip: new Float32Array(k) };
}

function model(seed: string, k: number, best: (c: number) => number, typical: (c: number) => number) {
  const rng = new Rng(seed);
  const tiers = (n: number) =>
    Array.from({ length: n }, () => cellOf(rng, k, (c) => best(c) + rng.normal(0, 0.2), typical));
  return { classes: k, cells: { patch: tiers(4), pixels: tiers(3), blend: tiers(3) } };
}

describe('classAnomaly', () => {
  it('names a class its triggers reach far beyond the others', () => {
    const a = classAnomaly(
      model(
        'bd',
        10,
        (c) => (c === 3 ? 4 : 1),
        () => 0,
      ),
    );
    expect(a.targetClass).toBe(3);
    expect(a.pValue).toBeLessThan(1e-3);
    expect(a.top?.z).toBeGreaterThan(10);
    expect(a.tests).toHaveLength(10); // 10 cells, gain
  });

  it('gives a natural sink no evidence: its typical candidate reaches it too', () => {
    const sink = (c: number): number => (c === 5 ? 3 : 0);
    const a = classAnomaly(model('sink', 10, (c) => 1 + sink(c), sink));
    expect(a.pValue).toBeGreaterThan(0.05);
  });

  it('keeps classes drawn alike quiet, at any class count', () => {
    for (const k of [10, 43, 200]) {
      let high = 0;
      for (let s = 0; s < 10; s++)
        if (
          classAnomaly(
            model(
              `clean-${k}-${s}`,
              k,
              () => 1,
              () => 0,
            ),
          ).pValue <= 0.0153
        )
          high++;
      expect(high).toBeLessThanOrEqual(1);
    }
  });

  it('has no test below three classes', () => {
    const a = classAnomaly(
      model(
        'two',
        2,
        () => 1,
        () => 0,
      ),
    );
    expect(a.pValue).toBe(1);
    expect(a.targetClass).toBeNull();
  });
});
