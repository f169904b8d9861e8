import { conditionMetrics, type ScanRow } from '../../bench/torch/metrics.js';

function row(over: Partial<ScanRow>): ScanRow {
  return {
    id: 'm',
    label: 'clean',
    attack: null,
    rate: 0,
    target: null,
    riskScore: 0,
    riskLevel: 'low',
    pValue: 1,
    suspectedTargetClass: null,
    trigger: null,
    durationMs: 100,
    error: null,
    errorCode: null,
    ...over,
  };
}

const clean = (score: number, p: number): ScanRow => row({ riskScore: score, pValue: p });
const bd = (attack: string, score: number, p: number, target = 3, found: number | null = 3): ScanRow =>
  row({ label: 'backdoored', attack, riskScore: score, pValue: p, target, suspectedTargetClass: found });

describe('bench:torch condition metrics', () => {
  test('separated scores give AUROC 1, reversed 0; the high and medium bands are the product bands', () => {
    const rows = [
      clean(10, 0.5),
      clean(30, 0.1),
      clean(31, 0.09),
      bd('blend', 61, 0.015),
      bd('sparse', 100, 1e-5),
    ];
    const m = conditionMetrics(rows);
    expect(m.aurocRisk).toBe(1);
    expect(m.aurocP).toBe(1);
    // 30 is low, 31 medium (src/score/risk.ts bands); 61 is high
    expect(m.cleanHigh).toBe(0);
    expect(m.cleanMediumOrHigh).toBeCloseTo(1 / 3, 12);
    expect(m.backdooredHigh).toBe(1);
    expect(m.tpr10).toBe(1);
    const flipped = conditionMetrics([clean(90, 1e-4), bd('blend', 5, 0.9)]);
    expect(flipped.aurocRisk).toBe(0);
  });

  test('the p-value breaks ties of the integer risk score', () => {
    const m = conditionMetrics([clean(100, 1e-4), bd('blend', 100, 1e-9)]);
    expect(m.aurocRisk).toBe(0.5);
    expect(m.aurocP).toBe(1);
  });

  test('per attack: that attack against every clean model; target hits only among named classes', () => {
    const m = conditionMetrics([
      clean(20, 0.3),
      clean(50, 0.03),
      bd('blend', 70, 0.01, 3, 3),
      bd('sparse', 40, 0.05, 4, 1),
      bd('sparse', 5, 0.8, 5, null),
    ]);
    expect(m.perAttack.blend).toBe(1);
    // sparse: 40 beats 20 only; 5 beats neither -> (1 + 0) / 4
    expect(m.perAttack.sparse).toBe(0.25);
    expect(m.targetNamed).toBe(2);
    expect(m.targetHits).toBe(1);
    expect(m.backdooredCount).toBe(3);
  });

  test('models the tool could not scan are counted and left out of every score', () => {
    const failed = row({ label: 'backdoored', attack: 'blend', riskScore: null, pValue: null, error: 'bad' });
    const m = conditionMetrics([clean(10, 0.5), bd('blend', 80, 0.001), failed]);
    expect(m.failed).toBe(1);
    expect(m.scanned).toBe(2);
    expect(m.aurocRisk).toBe(1);
    expect(m.msPerModel).toBe(100);
  });

  test('a condition with no backdoored model scanned has no AUROC (null, not a number)', () => {
    const m = conditionMetrics([clean(10, 0.5), clean(20, 0.3)]);
    expect(m.aurocRisk).toBeNull();
    expect(m.tpr10).toBeNull();
  });
});
