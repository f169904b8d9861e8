/**
 * The compute budget of trigger probing: the probing's own passes and the patch map's extra inputs never
 * exceed TRIGGER_MAC_BUDGET together, and a model the budget cannot afford a map for gets none (the
 * probing itself is unchanged: the map is paid on top of it).
 */
import { mapInputsFor, triggerBudget } from '../../src/fingerprint/trigger-check.js';
import { DEFAULT_TRIGGER_BUDGET } from '../../src/selfcheck/trigger-probe.js';
import { MAP_INPUTS } from '../../src/selfcheck/sweep.js';
import { TRIGGER_MAC_BUDGET } from '../../src/limits.js';

const POSITIONS = 534; // the sweep's solid patches on 14x14

describe('mapInputsFor', () => {
  it('gives a small model the full MAP_INPUTS', () => {
    const macs = 20_000; // the zoo's MLP is about this size
    const budget = triggerBudget(macs);
    expect(budget).toBe(DEFAULT_TRIGGER_BUDGET);
    expect(mapInputsFor(macs, budget as number, POSITIONS)).toBe(MAP_INPUTS);
  });

  it('cuts the map to what the MAC budget has left, and never past it', () => {
    for (const macs of [1e5, 2e5, 3e5, 3.3e5, 1e6]) {
      const budget = triggerBudget(macs);
      if (budget === null) continue;
      const inputs = mapInputsFor(macs, budget, POSITIONS);
      expect(inputs).toBeGreaterThanOrEqual(0);
      expect(inputs).toBeLessThanOrEqual(MAP_INPUTS);
      expect((budget + inputs * POSITIONS) * macs).toBeLessThanOrEqual(TRIGGER_MAC_BUDGET);
      // one more input would not fit (unless the cap was reached)
      if (inputs < MAP_INPUTS)
        expect((budget + (inputs + 1) * POSITIONS) * macs).toBeGreaterThan(TRIGGER_MAC_BUDGET);
    }
    expect(mapInputsFor(3e5, triggerBudget(3e5) as number, POSITIONS)).toBeLessThan(MAP_INPUTS);
  });

  it('gives no map inputs when the probing takes the whole budget', () => {
    const macs = TRIGGER_MAC_BUDGET / 1000;
    expect(mapInputsFor(macs, 1000, POSITIONS)).toBe(0);
    expect(mapInputsFor(macs, 1000, 0)).toBe(0);
  });
});
