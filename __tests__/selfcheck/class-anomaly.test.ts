/**
 * The zoo-free trigger score on synthetic cells: a class that its best trigger pushes far beyond the others
 * is named with a small p-value; a natural sink (every candidate pushes towards it, so its typical effect is
 * high too) is not; classes drawn alike give no evidence; fewer than three classes give no test.
 */
import {
  cellZs,
  classAnomaly,
  DEFAULT_ANOMALY_OPTIONS,
  type CellLike,
} from '../../src/selfcheck/class-anomaly.js';
import { Rng } from '../../src/probes/rng.js';
import { P_HIGH } from '../../src/score/risk.js';

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
    expect(a.pValue).toBeLessThan(P_HIGH);
    expect(a.top?.z).toBeGreaterThan(5); // (4 - 1) over the MAD floor GAIN_MAD_FLOOR, in SDs
    expect(a.tests).toHaveLength(10); // 10 cells, gain
  });

  it("exposes each test's z of every class (cellZs), the same the score reads, with the MAD floored", () => {
    const m = model(
      'bd',
      10,
      (c) => (c === 3 ? 4 : 1),
      () => 0,
    );
    const a = classAnomaly(m);
    const { x, z } = cellZs(m.cells.patch[1], 'gain', 10, DEFAULT_ANOMALY_OPTIONS);
    const t = a.tests.find((u) => u.family === 'patch' && u.tier === 1);
    expect(z[3]).toBeCloseTo(t?.z ?? NaN, 10);
    expect(x[3]).toBeCloseTo(t?.value ?? NaN, 10);
    // the absolute floor binds on these tightly drawn classes (spread ~0.2): z = (4 - ~1) / 0.3, not / MAD
    const unfloored = cellZs(m.cells.patch[1], 'gain', 10, {
      ...DEFAULT_ANOMALY_OPTIONS,
      floors: { gain: 0, flip: 0 },
      relativeFloor: 0,
    });
    expect(unfloored.z[3]).toBeGreaterThan(z[3]);
    expect(z[3]).toBeLessThan((x[3] - 0.5) / DEFAULT_ANOMALY_OPTIONS.floors.gain);
  });

  it('with the typical correction, gives a natural sink no evidence: its typical candidate reaches it too', () => {
    // (the shipped default leaves the correction off: bench/refree.ts chose the MAD floors instead)
    const sink = (c: number): number => (c === 5 ? 3 : 0);
    const a = classAnomaly(
      model('sink', 10, (c) => 1 + sink(c), sink),
      {
        ...DEFAULT_ANOMALY_OPTIONS,
        typical: true,
      },
    );
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

  it('leaves out the cells a budget-cut search never reached (one p of 1 would void the Cauchy combination)', () => {
    const m = model(
      'cut',
      10,
      (c) => (c === 7 ? 4 : 1),
      () => 0,
    );
    const zero = (): CellLike => ({
      candidates: 0,
      bestGain: new Float32Array(10),
      typicalGain: new Float32Array(10),
      bestFlip: new Float32Array(10),
      maxFlip: new Float32Array(10),
      typicalFlip: new Float32Array(10),
    });
    const cut = { classes: 10, cells: { ...m.cells, blend: [zero(), zero(), zero()] } };
    const a = classAnomaly(cut);
    expect(a.tests).toHaveLength(7); // patch 4 + pixels 3; the blend cells did not run
    expect(a.targetClass).toBe(7);
    expect(a.pValue).toBeLessThan(P_HIGH);
    // the same cells counted as run (no candidate count): all-zero statistics, p ~ 1, the combination fails
    const counted = {
      classes: 10,
      cells: { ...m.cells, blend: [zero(), zero(), zero()].map(({ candidates: _, ...c }) => c) },
    };
    expect(classAnomaly(counted).pValue).toBeGreaterThan(0.5);
  });

  it('does not take a fraction of a logit spread for evidence where the others barely move (MAD floor)', () => {
    // every class moved ~0.1 spreads by blends, one 0.9: below the absolute floor, no evidence
    const rng = new Rng('floor');
    const cell = (): CellLike => {
      const bestGain = Float32Array.from({ length: 10 }, (_, c) =>
        c === 3 ? 0.9 : 0.1 + rng.normal(0, 0.01),
      );
      const zeros = new Float32Array(10);
      return { bestGain, typicalGain: zeros, bestFlip: zeros, maxFlip: zeros, typicalFlip: zeros };
    };
    const a = classAnomaly({ classes: 10, cells: { blend: [cell(), cell(), cell()] } });
    expect(a.pValue).toBeGreaterThan(0.1);
    // with the floor at the old 0.05 spreads the same cells read as a strong finding
    const old = classAnomaly(
      { classes: 10, cells: { blend: [cell(), cell(), cell()] } },
      { ...DEFAULT_ANOMALY_OPTIONS, floors: { gain: 0.05, flip: 0.05 } },
    );
    expect(old.pValue).toBeLessThan(0.01);
  });
});
