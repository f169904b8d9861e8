/**
 * The scan budget (src/fingerprint/budget.ts): settings a user can type, the plan as a function of the model
 * and the setting (small models in full at any setting, exactly as the legacy plan gave them; large ones cut
 * to what the allowance buys, trigger probing first), the fixes it proposes, and the time limit that grows
 * with the planned work.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  budgetAffording,
  DEFAULT_SCAN_BUDGET,
  largerBudget,
  LEGACY_SCAN_BUDGET,
  parseBudget,
  planBudget,
  recordedBudget,
  sameBudget,
  timeLimitFor,
  triggerTimeFor,
} from '../../src/fingerprint/budget.js';
import { BUDGET_MACS, MODEL_TIME_LIMIT_MS } from '../../src/limits.js';
import { readModel } from '../../src/model/read.js';
import type { OnnxModel } from '../../src/model/types.js';
import { generateProbes } from '../../src/probes/generate.js';
import { DEFAULT_TRIGGER_BUDGET, MIN_TRIGGER_BUDGET } from '../../src/selfcheck/trigger-probe.js';
import { MAP_INPUTS } from '../../src/selfcheck/sweep.js';
import { buildCnn } from '../fixtures/models.js';

const EXAMPLE = 'examples/models/candidates/backdoored.onnx';

let dir: string;
let cnn: OnnxModel;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mf-budget-'));
  writeFileSync(join(dir, 'cnn.onnx'), buildCnn());
  cnn = await readModel(join(dir, 'cnn.onnx'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function probesOf(m: OnnxModel) {
  return generateProbes(m.inputs, { count: 8 }, { file: m.path });
}

describe('parseBudget', () => {
  it('takes the named settings and numbers of multiply-accumulates, case-insensitively', () => {
    expect(parseBudget('default')).toEqual(DEFAULT_SCAN_BUDGET);
    expect(parseBudget('Thorough')).toEqual({ setting: 'thorough', macs: BUDGET_MACS.thorough });
    expect(parseBudget('2e13')).toEqual({ setting: '2e13', macs: 2e13 });
    expect(parseBudget('5000000000000')).toEqual({ setting: '5000000000000', macs: 5e12 });
  });
  it.each(['slow', '', '-1e12', '1e3', '1e30', 'NaN', 'Infinity', '2e13x'])(
    'refuses %j naming the flag and the values',
    (v) => {
      expect(() => parseBudget(v)).toThrow(/--budget .*expected fast, default, thorough or a number/);
    },
  );
});

describe('recordedBudget and sameBudget', () => {
  it('reads a manifest record back, absent as legacy, anything else as unreadable', () => {
    expect(recordedBudget(undefined)).toBe(LEGACY_SCAN_BUDGET);
    expect(recordedBudget({ setting: 'fast', macs: BUDGET_MACS.fast })).toEqual({
      setting: 'fast',
      macs: 1e12,
    });
    expect(recordedBudget({ setting: '2e13', macs: 2e13 })).toEqual({ setting: '2e13', macs: 2e13 });
    expect(recordedBudget({ setting: 'legacy', macs: 1 })).toBe(LEGACY_SCAN_BUDGET);
    // a record that disagrees with itself, or is not one
    expect(recordedBudget({ setting: 'fast', macs: 5 })).toBeNull();
    expect(recordedBudget({ setting: 'huge', macs: 5 })).toBeNull();
    expect(recordedBudget('default')).toBeNull();
    expect(recordedBudget(null)).toBeNull();
  });
  it('compares by allowance, the legacy plan only with itself', () => {
    expect(sameBudget(parseBudget('default'), parseBudget(String(BUDGET_MACS.default)))).toBe(true);
    expect(sameBudget(parseBudget('default'), parseBudget('fast'))).toBe(false);
    expect(sameBudget(LEGACY_SCAN_BUDGET, { setting: 'x', macs: LEGACY_SCAN_BUDGET.macs })).toBe(false);
    expect(sameBudget(LEGACY_SCAN_BUDGET, LEGACY_SCAN_BUDGET)).toBe(true);
  });
});

describe('planBudget', () => {
  it('gives the example model every check in full at every setting, as the legacy plan did', async () => {
    const m = await readModel(EXAMPLE);
    const p = probesOf(m);
    const legacy = planBudget(m, p, LEGACY_SCAN_BUDGET);
    expect(legacy.triggerPasses).toBe(DEFAULT_TRIGGER_BUDGET);
    expect(legacy.mapInputs).toBe(MAP_INPUTS);
    for (const s of ['fast', 'default', 'thorough']) {
      const plan = planBudget(m, p, parseBudget(s));
      expect([plan.triggerPasses, plan.mapInputs]).toEqual([legacy.triggerPasses, legacy.mapInputs]);
    }
  });

  it('cuts a model too large for the full plan: trigger probing first, the map what is left', () => {
    const p = probesOf(cnn);
    const perPass = planBudget(cnn, p, DEFAULT_SCAN_BUDGET).macsPerPass;
    // an allowance of exactly 1000 passes: all of it to trigger probing, none left for the map
    const cut = planBudget(cnn, p, { setting: 'x', macs: 1000 * perPass });
    expect(cut.triggerPasses).toBe(1000);
    expect(cut.mapInputs).toBe(0);
    // the full trigger budget and 10 map inputs' worth beyond it
    const some = planBudget(cnn, p, {
      setting: 'x',
      macs: (DEFAULT_TRIGGER_BUDGET + 10 * cut.mapPositions) * perPass,
    });
    expect(some.triggerPasses).toBe(DEFAULT_TRIGGER_BUDGET);
    expect(some.mapInputs).toBe(10);
    // below the minimum: no trigger probing at all (the report says so), never a run over budget
    const none = planBudget(cnn, p, { setting: 'x', macs: (MIN_TRIGGER_BUDGET - 1) * perPass });
    expect(none.triggerPasses).toBeNull();
    expect(none.mapInputs).toBe(0);
    // the same model and setting: the same plan (no clock in it)
    expect(planBudget(cnn, p, DEFAULT_SCAN_BUDGET)).toEqual(planBudget(cnn, p, DEFAULT_SCAN_BUDGET));
  });

  it('grows the time limit with the planned work, from the fixed limit up', () => {
    const p = probesOf(cnn);
    const small = planBudget(cnn, p, DEFAULT_SCAN_BUDGET);
    expect(timeLimitFor(small, 8)).toBeGreaterThanOrEqual(MODEL_TIME_LIMIT_MS);
    const heavy = { ...small, macsPerPass: small.macsPerPass * 1e5 };
    expect(timeLimitFor(heavy, 8)).toBeGreaterThan(timeLimitFor(small, 8));
    // trigger probing's share comes on top only when it runs (extract.ts), and is what the plan plans
    expect(triggerTimeFor(heavy)).toBeGreaterThan(triggerTimeFor(small));
    expect(triggerTimeFor({ ...small, triggerPasses: null, mapInputs: 0 })).toBe(0);
  });
});

describe('the fixes it proposes', () => {
  it('names the smallest setting that affords the minimum, else a number that does', () => {
    expect(budgetAffording(1e9)).toEqual({ setting: 'fast', macs: BUDGET_MACS.fast });
    expect(budgetAffording(1e10)).toEqual({ setting: 'default', macs: BUDGET_MACS.default });
    expect(budgetAffording(6.1e10)).toEqual({ setting: 'thorough', macs: BUDGET_MACS.thorough });
    const big = budgetAffording(2.34e11);
    expect(big.macs).toBeGreaterThanOrEqual(2.34e11 * MIN_TRIGGER_BUDGET);
    expect(big.macs).toBeLessThan(2.34e11 * MIN_TRIGGER_BUDGET * 1.1);
    expect(parseBudget(big.setting)).toEqual(big);
  });
  it('steps up from a setting: the next named one, beyond thorough four times as much', () => {
    expect(largerBudget(parseBudget('fast')).setting).toBe('default');
    expect(largerBudget(parseBudget('default')).setting).toBe('thorough');
    expect(largerBudget(parseBudget('thorough')).macs).toBe(4 * BUDGET_MACS.thorough);
  });
});
