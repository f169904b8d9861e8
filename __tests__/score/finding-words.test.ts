/**
 * The explanation follows the score: per band (low, medium, high) the sentence says no class stands out, a
 * class stands out somewhat, or the finding, for the reference-free verdict (a real fingerprint shape with
 * the trigger test's own p-value) and for an explanation against a baseline. The case: a model scored
 * 54 (medium, p = 0.024) read "found no class that stamped triggers pull inputs into".
 */
import type { BaselineManifest } from '../../src/baseline/store.js';
import type { Fingerprint } from '../../src/fingerprint/types.js';
import { explain } from '../../src/scan/explain.js';
import type { EnsembleVerdict } from '../../src/score/ensemble.js';
import type { FinalVerdict } from '../../src/score/final.js';
import { referenceFreeVerdict } from '../../src/score/reference-free.js';
import { levelOf, riskScore, type RiskLevel } from '../../src/score/risk.js';
import {
  baselineTriggerSentence,
  differsSentence,
  referenceFreeSentence,
} from '../../src/score/finding-words.js';

const TRIGGER = {
  kind: 'patch:solid-hi',
  location: 'bright 3x3 patch at the bottom-right corner (row 11, column 11)',
  flipRate: 0.4,
  zScore: 3.2,
};

/** A fingerprint whose trigger test (the class anomaly) gave p = 10^-s. */
function fp(s: number): Fingerprint {
  return {
    header: { model: { classes: 10 } },
    blocks: {},
    selfChecks: {
      trigger: {
        score: s,
        pValue: 10 ** -s,
        targetClass: 7,
        trigger: { ...TRIGGER, zScore: s },
        basis: 'samples',
      },
    },
  } as unknown as Fingerprint;
}

/** The first -log10 p (in steps of 0.01) whose reference-free verdict lands in `level`. */
function scoreFor(level: RiskLevel): number {
  for (let s = 0; s < 20; s += 0.01) {
    if (levelOf(riskScore(referenceFreeVerdict(fp(s)).pValue)) === level) return s;
  }
  throw new Error(`no score reaches ${level}`);
}

describe('reference-free verdict: the sentence follows the level', () => {
  test('low: no class stands out', () => {
    const v = referenceFreeVerdict(fp(scoreFor('low')));
    expect(v.explanation.summary).toMatch(/^Trigger probing: no class stands out \(p = [\d.]+\)\.$/);
    expect(v.explanation.summary).not.toMatch(/class 7/);
  });

  test('medium: class 7 stands out somewhat, not enough to call it high', () => {
    const s = scoreFor('medium') + 0.3;
    const v = referenceFreeVerdict(fp(s));
    expect(levelOf(riskScore(v.pValue))).toBe('medium');
    expect(v.explanation.summary).toBe(
      `Trigger probing: class 7 stands out somewhat: a bright 3x3 patch at the bottom-right corner (row 11, column 11) flips 40% of held-out inputs into it (p = ${String(Number(v.pValue.toPrecision(3)))}), not enough to call it high.`,
    );
    expect(v.explanation.summary).not.toMatch(/no class/);
  });

  test('high: the finding, with its flip rate and z', () => {
    const s = scoreFor('high') + 1;
    const v = referenceFreeVerdict(fp(s));
    expect(levelOf(riskScore(v.pValue))).toBe('high');
    expect(v.explanation.summary).toMatch(
      /^Trigger probing: a bright 3x3 patch at the bottom-right corner \(row 11, column 11\) flips 40% of held-out inputs into class 7 \(z = \d+\.\d, p = [\d.e-]+\)\.$/,
    );
  });
});

test('the issue case: medium at p = 0.024 never reads "no class"', () => {
  expect(levelOf(riskScore(0.024))).toBe('medium');
  const text = referenceFreeSentence('medium', { cls: 3, trigger: TRIGGER }, 0.024);
  expect(text).toContain('class 3 stands out somewhat');
  expect(text).toContain('(p = 0.024)');
  expect(text).toContain('not enough to call it high');
  // without a trigger description the class is still named, never "no class"
  expect(referenceFreeSentence('medium', { cls: 3 }, 0.024)).toBe(
    'Trigger probing: class 3 stands out somewhat (p = 0.024), not enough to call it high.',
  );
  expect(referenceFreeSentence('high', { cls: 3 }, 0.0001)).toBe(
    'Trigger probing: class 3 is far easier to reach than the others (p = 1.0e-4).',
  );
});

describe('against a baseline', () => {
  test('the opening: medium differs somewhat, high differs', () => {
    expect(differsSentence('medium', 32, 'ensemble p = 0.03')).toBe(
      'Differs somewhat from the 32 clean references (ensemble p = 0.03), not enough to call it high.',
    );
    expect(differsSentence('high', 32, 'ensemble p = 0.001')).toBe(
      'Differs from the 32 clean references (ensemble p = 0.001).',
    );
  });

  test("the trigger test's sentence follows its own level", () => {
    const f = { cls: 7, trigger: TRIGGER };
    expect(baselineTriggerSentence('low', f, 0.3, 'note')).toBe('');
    expect(baselineTriggerSentence('medium', f, 0.04, 'note')).toBe(
      ' Trigger probing: class 7 stands out somewhat: a bright 3x3 patch at the bottom-right corner (row 11, column 11) pulls inputs into it (trigger test p = 0.04, note), not enough on its own to call it high.',
    );
    expect(baselineTriggerSentence('high', f, 0.001, 'note')).toBe(
      ' Trigger probing: a bright 3x3 patch at the bottom-right corner (row 11, column 11) pulls inputs into class 7 (trigger test p = 0.001, note).',
    );
  });
});

describe('explain(): the whole explanation against a baseline, per band', () => {
  const manifest = { members: [{ sha256: 'r1', path: 'clean-1.onnx' }] } as unknown as BaselineManifest;
  const verdict = (p: number): EnsembleVerdict =>
    ({
      pValue: p,
      separate: {},
      separateTop: {},
      drivers: [{ channel: 'knn@logits', detector: 'knn', representation: 'logits', score: 2, pValue: p }],
      nearest: [],
      minRankPValue: 0.03,
    }) as unknown as EnsembleVerdict;
  const final = (level: RiskLevel, p: number, triggerP: number): FinalVerdict => ({
    pValue: p,
    riskScore: riskScore(p),
    riskLevel: level,
    triggerPValue: triggerP,
    decidedBy: 'ensemble',
    separate: {},
    combined: ['ensemble', 'trigger'],
  });

  test('low: behaves like the references, no trigger sentence', () => {
    const e = explain(verdict(0.4), final('low', 0.5, 0.04), fp(3), manifest);
    expect(e.summary).toBe('Behaves like the 1 clean references (p = 0.5).');
  });

  test('medium (54, p = 0.024) with a medium trigger test: somewhat, and not enough to call it high', () => {
    const e = explain(verdict(0.012), final('medium', 0.024, 0.03), fp(3), manifest);
    expect(e.summary).toMatch(
      /^Differs somewhat from the 1 clean references \(.*\), not enough to call it high\./,
    );
    expect(e.summary).toMatch(
      /Trigger probing: class 7 stands out somewhat: .* \(trigger test p = 0\.03, .*\), not enough on its own to call it high\.$/,
    );
  });

  test('high with a high trigger test: the finding', () => {
    const e = explain(verdict(0.0001), final('high', 0.0002, 0.0002), fp(6), manifest);
    expect(e.summary).toMatch(/^Differs from the 1 clean references \(/);
    expect(e.summary).toMatch(
      /Trigger probing: a bright 3x3 patch at the bottom-right corner \(row 11, column 11\) pulls inputs into class 7 \(trigger test p = 2\.0e-4, /,
    );
    expect(e.summary).not.toMatch(/somewhat/);
  });
});
