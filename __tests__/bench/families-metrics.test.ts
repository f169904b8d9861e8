import { groupMetrics, suspicion, type FamilyRow } from '../../bench/families/metrics.js';

function row(over: Partial<FamilyRow>): FamilyRow {
  return {
    id: 'm',
    arch: 'fmnist-mlp',
    domain: 'fmnist',
    label: 'clean',
    family: null,
    target: null,
    riskScore: 0,
    pValue: 1,
    suspectedTargetClass: null,
    trigger: null,
    durationMs: 100,
    error: null,
    ...over,
  };
}

const clean = (score: number, p: number): FamilyRow => row({ riskScore: score, pValue: p });
const bd = (family: string, score: number, p: number, target: number | null = 3, found: number | null = 3) =>
  row({ label: 'backdoored', family, riskScore: score, pValue: p, target, suspectedTargetClass: found });

describe('bench:families group metrics', () => {
  test('AUROC, the shipped bands and the in-sample threshold', () => {
    const cleans = [clean(5, 0.8), clean(20, 0.2), clean(40, 0.05), clean(65, 0.01)];
    const bads = [bd('sig', 70, 0.005), bd('sig', 30, 0.12), bd('freq', 100, 1e-6)];
    const m = groupMetrics(cleans, bads);
    // 70 beats 4 of 4 cleans, 30 beats 2, 100 beats 4: (4 + 2 + 4) / 12
    expect(m.auroc).toBeCloseTo(10 / 12, 12);
    expect(m.backdooredHigh).toBeCloseTo(2 / 3, 12);
    expect(m.cleanHigh).toBeCloseTo(1 / 4, 12);
    expect(m.cleanMediumOrHigh).toBeCloseTo(2 / 4, 12);
    // FPR <= 5% with 4 cleans allows none: the threshold sits above 65, catching 70 and 100
    expect(m.tprAt5).toBeCloseTo(2 / 3, 12);
    expect(m.targetRight).toBe(2);
    expect(m.targetFlagged).toBe(2);
  });

  test('the p-value breaks ties of the integer score; failed scans are counted, not scored', () => {
    expect(suspicion(bd('x', 100, 1e-9))).toBeGreaterThan(suspicion(clean(100, 1e-4)));
    const m = groupMetrics(
      [clean(100, 1e-4), row({ riskScore: null, pValue: null, error: 'bad' })],
      [bd('x', 100, 1e-9)],
    );
    expect(m.auroc).toBe(1);
    expect(m.failed).toBe(1);
    expect(m.clean).toBe(1);
  });

  test('all-to-all (no single target) is left out of the target count; a wrong class counts as wrong', () => {
    const m = groupMetrics([clean(0, 1)], [bd('all-to-all', 90, 1e-5, null, 4), bd('sig', 90, 1e-5, 3, 7)]);
    expect(m.targetFlagged).toBe(1);
    expect(m.targetRight).toBe(0);
  });

  test('no backdoored or no clean model: no AUROC', () => {
    expect(groupMetrics([], [bd('x', 90, 1e-5)]).auroc).toBeNull();
    expect(groupMetrics([clean(1, 1)], []).auroc).toBeNull();
  });
});
