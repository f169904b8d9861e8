/**
 * The legacy plan's compute budget of the patch map's own pass (baselines without a recorded budget):
 * MAP_INPUTS for a small model, as many inputs as MAP_MAC_BUDGET affords for a bigger one (never past it),
 * none for a model that cannot afford a single pass per position. The probing's own budget (triggerBudget)
 * does not depend on it. Which map a fingerprint keeps (keptMap): a mined base's only from a pass of its own.
 */
import { keptMap } from '../../src/fingerprint/trigger-check.js';
import { mapInputsFor, triggerBudget } from '../../src/fingerprint/budget.js';
import { DEFAULT_TRIGGER_BUDGET } from '../../src/selfcheck/trigger-probe.js';
import { MAP_INPUTS, SWEEP_INPUTS } from '../../src/selfcheck/sweep.js';
import { MAP_MAC_BUDGET } from '../../src/limits.js';

const POSITIONS = 534; // the sweep's solid patches on 14x14

describe('mapInputsFor', () => {
  it('gives a small model the full MAP_INPUTS, the probing its full budget', () => {
    const macs = 60_000; // the zoo's 14x14 CNN is about this size
    expect(triggerBudget(macs)).toBe(DEFAULT_TRIGGER_BUDGET);
    expect(mapInputsFor(macs, POSITIONS)).toBe(MAP_INPUTS);
  });

  it('cuts the map to what MAP_MAC_BUDGET affords, and never past it', () => {
    let cut = 0;
    for (const macs of [2e5, 3e5, 7e5, 1.4e6, 1e7]) {
      const inputs = mapInputsFor(macs, 1024);
      expect(inputs).toBeGreaterThanOrEqual(0);
      expect(inputs).toBeLessThanOrEqual(MAP_INPUTS);
      expect(inputs * 1024 * macs).toBeLessThanOrEqual(MAP_MAC_BUDGET);
      // one more input would not fit (unless the cap was reached)
      if (inputs < MAP_INPUTS) {
        cut++;
        expect((inputs + 1) * 1024 * macs).toBeGreaterThan(MAP_MAC_BUDGET);
      }
    }
    expect(cut).toBeGreaterThan(0);
    // a bigger model never gets more inputs
    expect(mapInputsFor(7e5, 1024)).toBeLessThanOrEqual(mapInputsFor(2e5, 1024));
  });

  it('gives no map inputs when one pass per position does not fit', () => {
    expect(mapInputsFor(MAP_MAC_BUDGET / 100, POSITIONS)).toBe(0);
  });
});

describe('keptMap', () => {
  const map = Float32Array.from([0, 0.5, 1]);
  it('keeps a mined base map only when it had a pass of its own (more than the sweep inputs)', () => {
    expect(keptMap('mined', MAP_INPUTS, map)).toBe(map);
    expect(keptMap('mined', SWEEP_INPUTS + 1, map)).toBe(map);
    expect(keptMap('mined', SWEEP_INPUTS, map)).toHaveLength(0);
    expect(keptMap('mined', 0, map)).toHaveLength(0);
  });
  it("keeps the samples' map whatever its input count (every model saw the same inputs)", () => {
    expect(keptMap('samples', 0, map)).toBe(map);
    expect(keptMap('samples', MAP_INPUTS, map)).toBe(map);
  });
  it('keeps no map on the plain probe set (a budget too small to mine)', () => {
    expect(keptMap('probes', MAP_INPUTS, map)).toHaveLength(0);
    expect(keptMap('probes', 0, map)).toHaveLength(0);
  });
});
