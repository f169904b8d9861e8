import { aurocWithout, leaveOneFamilyOut } from '../../bench/detect/heldout.js';
import type { ArchResult, DetectResults } from '../../bench/detect/report.js';

type Metrics = ArchResult['configs'][string]['candidates'][string]['all'];

function metrics(perAttack: Record<string, number>): Metrics {
  return {
    auroc: NaN,
    tpr10: NaN,
    cleanHigh: 0,
    cleanMediumOrHigh: 0,
    backdoorHigh: 0,
    backdoorAtFloor: 0,
    perAttack,
    perRate: {},
    perKind: {},
  };
}

function candidate(perAttack: Record<string, number>) {
  return {
    rule: 'fisher',
    prefixes: [],
    detectors: [],
    channels: 1,
    all: metrics(perAttack),
    sub: null,
    pAll: [],
  };
}

/** One architecture with 2 "a", 1 "b" and 1 "c" backdoored models and two candidates. */
function results(cands: Record<string, Record<string, number>>): DetectResults {
  const tests = [
    { id: 'c0', label: 'clean', attack: null, poisonRate: null, asr: null },
    ...['a', 'a', 'b', 'c'].map((attack, i) => ({
      id: `b${i}`,
      label: 'backdoor',
      attack,
      poisonRate: 0.1,
      asr: 1,
    })),
  ];
  const arch = {
    references: 20,
    testClean: 1,
    testBackdoor: 4,
    tests,
    configs: {
      default: {
        candidates: Object.fromEntries(Object.entries(cands).map(([n, p]) => [n, candidate(p)])),
      },
    },
  } as unknown as ArchResult;
  return { archs: { mlp: arch } } as unknown as DetectResults;
}

describe('bench:detect leave-one-family-out', () => {
  test('the AUROC without a family is the count-weighted mean of the others', () => {
    const m = metrics({ a: 1, b: 0.4, c: 0.7 });
    expect(aurocWithout(m, { a: 2, b: 1, c: 1 }, 'c')).toBeCloseTo((2 * 1 + 0.4) / 3, 12);
    expect(aurocWithout(m, { a: 2, b: 1, c: 1 }, 'a')).toBeCloseTo((0.4 + 0.7) / 2, 12);
  });

  test('a family is scored by the candidate picked without it', () => {
    // SHIPPED wins overall thanks to c; without c, OTHER ranks higher and is what scores c
    const r = results({
      SHIPPED: { a: 0.9, b: 0.9, c: 1.0 },
      OTHER: { a: 0.95, b: 0.95, c: 0.2 },
    });
    const rows = leaveOneFamilyOut(r, 'default', 'SHIPPED');
    const c = rows.find((x) => x.family === 'c')!;
    expect(c.picked).toBe('OTHER');
    expect(c.tuned.mlp).toBe(1.0);
    expect(c.heldOut.mlp).toBe(0.2);
    // without a (2 models), OTHER's b and c average 0.575 against SHIPPED's 0.95: SHIPPED stays
    const a = rows.find((x) => x.family === 'a')!;
    expect(a.picked).toBe('SHIPPED');
    expect(a.heldOut.mlp).toBe(a.tuned.mlp);
  });

  test('exact ties keep the shipped default', () => {
    const r = results({ OTHER: { a: 1, b: 1, c: 1 }, SHIPPED: { a: 1, b: 1, c: 1 } });
    expect(leaveOneFamilyOut(r, 'default', 'SHIPPED').every((x) => x.picked === 'SHIPPED')).toBe(true);
  });
});
