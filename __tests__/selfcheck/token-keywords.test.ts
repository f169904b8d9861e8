/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * Natural keywords in token trigger probing (src/selfcheck/token-keywords.ts): the word counts per class, the
 * rule, and on real ONNX text models in onnxruntime-node (__tests__/fixtures/text-models.ts) that a clean
 * model's natural shortcut (a strong keyword its class's own texts carry) is discounted without a baseline,
 * while a planted trigger word (in no clean text) keeps its whole score; with a baseline the raw score stays.
 */
import { parseModel } from '../../src/model/read.js';
import { ModelRunner } from '../../src/model/session.js';
import {
  keywordAdjustedScore,
  probeTokenTriggers,
  type TokenProbeResult,
} from '../../src/selfcheck/token-probe.js';
import {
  MIN_CLASS_TEXTS,
  NATURAL_RULE,
  classWordShares,
  isNaturalKeyword,
  shareOf,
} from '../../src/selfcheck/token-keywords.js';
import { triggerTestP } from '../../src/score/final.js';
import { candidateScopeScore } from '../../bench/text/inversion-variants.js';
import { noBaselineP } from '../../src/score/no-baseline.js';
import { referenceFreeVerdict } from '../../src/score/reference-free.js';
import { FEATURES_VERSION, type Fingerprint } from '../../src/fingerprint/types.js';
import {
  buildTextModel,
  keywordId,
  TEXT_CLASSES,
  TEXT_SEQ,
  TEXT_VOCAB,
  TRIGGER_ID,
  textIds,
} from '../fixtures/text-models.js';

describe('classWordShares and isNaturalKeyword', () => {
  // 3 classes, texts of 4 ids (0 = padding): word 5 in 3 of class 0's 4 texts and 1 of the 4 others',
  // word 6 in every text (a function word), word 7 in one text of class 0 only.
  const texts = [
    [5, 6, 7, 0],
    [5, 6, 0, 0],
    [5, 6, 1, 0],
    [2, 6, 0, 0],
    [5, 6, 3, 0],
    [6, 3, 0, 0],
    [6, 4, 0, 0],
    [6, 4, 4, 0],
  ];
  const labels = Int32Array.from([0, 0, 0, 0, 1, 1, 2, 2]);
  const s = classWordShares(Int32Array.from(texts.flat()), 8, 4, labels, 3, 0);

  it('counts each text once per word, per clean class, skipping the padding', () => {
    expect(Array.from(s.counts)).toEqual([4, 2, 2]);
    expect(Array.from(s.byToken.get(5) ?? [])).toEqual([3, 1, 0]);
    expect(Array.from(s.byToken.get(4) ?? [])).toEqual([0, 0, 2]);
    expect(s.byToken.has(0)).toBe(false);
    expect(shareOf(s, 5, 0)).toEqual({ inClass: 0.75, elsewhere: 0.25 });
  });

  it('calls a word frequent in its class and rare elsewhere natural, not a function word or a rare word', () => {
    // word 5: 0.75 of class 0 against 0.25 elsewhere is 3x, below the enrichment of 4
    expect(isNaturalKeyword(s, 5, 0)).toBe(NATURAL_RULE.enrichment <= 3);
    expect(isNaturalKeyword(s, 5, 0, { share: 0.2, enrichment: 2 })).toBe(true);
    expect(isNaturalKeyword(s, 6, 0, { share: 0.2, enrichment: 2 })).toBe(false);
    expect(isNaturalKeyword(s, 7, 0, { share: 0.3, enrichment: 2 })).toBe(false);
    expect(isNaturalKeyword(s, 99, 0)).toBe(false);
  });

  it('calls nothing natural in a class with fewer than MIN_CLASS_TEXTS texts', () => {
    expect(s.counts[2]).toBeLessThan(MIN_CLASS_TEXTS);
    expect(isNaturalKeyword(s, 4, 2, { share: 0.2, enrichment: 2 })).toBe(false);
  });
});

const TARGET = 2;
const BASE = textIds(96);

async function probe(bytes: Uint8Array, realTexts: boolean): Promise<TokenProbeResult> {
  const runner = await ModelRunner.open(parseModel(bytes, 'text.onnx'));
  try {
    return await probeTokenTriggers(runner.tokenLogitsFunction([TEXT_SEQ]), BASE, TEXT_SEQ, {
      classes: TEXT_CLASSES,
      vocabSize: TEXT_VOCAB,
      pad: 0,
      seed: 1,
      realTexts,
    });
  } finally {
    await runner.release();
  }
}

/** A text model's fingerprint as the verdicts read it: the header's class count and the trigger self-check. */
function fingerprintOf(r: TokenProbeResult): Fingerprint {
  return {
    header: { model: { classes: TEXT_CLASSES } },
    blocks: {},
    selfChecks: { trigger: { ...r.selfCheck, basis: 'samples' } },
    version: FEATURES_VERSION,
  } as unknown as Fingerprint;
}

let natural: TokenProbeResult;
let planted: TokenProbeResult;
let mined: TokenProbeResult;

beforeAll(async () => {
  natural = await probe(buildTextModel({ shortcutClass: TARGET }), true);
  planted = await probe(buildTextModel({ backdoorTarget: TARGET }), true);
  mined = await probe(buildTextModel({ shortcutClass: TARGET }), false);
});

describe('keyword-adjusted trigger score on real ONNX text models', () => {
  it('finds the natural shortcut as the raw search finds a trigger', () => {
    expect(natural.selfCheck.targetClass).toBe(TARGET);
    expect(natural.trigger).toEqual([keywordId(TARGET, 0)]);
    expect(natural.selfCheck.score).toBeGreaterThan(3);
    // the shortcut word is in a good share of its class's texts and in no other class's
    const share = shareOf(natural.wordShares!, keywordId(TARGET, 0), TARGET);
    expect(share.inClass).toBeGreaterThanOrEqual(NATURAL_RULE.share);
    expect(share.elsewhere).toBe(0);
  });

  it('discounts the natural keyword: the adjusted score falls far below the raw one and names the word', () => {
    const adj = natural.selfCheck.keywordAdjusted!;
    expect(adj.discounted).toEqual([keywordId(TARGET, 0)]);
    expect(adj.score).toBeLessThan(natural.selfCheck.score - 2);
    expect(adj.score).toBeLessThan(3);
  });

  it('keeps a planted trigger word (in no clean text) at its whole score, phrases with class keywords included', () => {
    expect(planted.trigger).toEqual([TRIGGER_ID]);
    const adj = planted.selfCheck.keywordAdjusted!;
    expect(adj.discounted).toEqual([]);
    expect(adj.targetClass).toBe(TARGET);
    // its two- and three-token phrases pair it with the target's keywords ("trigger c2w1"): kept, since the
    // class's strongest word is the planted one
    expect(planted.tiers[1].triggers[TARGET]).toContain(TRIGGER_ID);
    expect(adj.score).toBeCloseTo(planted.selfCheck.score, 5);
    expect(adj.score).toBeGreaterThan(natural.selfCheck.keywordAdjusted!.score + 2);
  });

  it("cuts a planted word's keyword phrases too under the dropped candidate scope (bench/text/inversion-variants.ts)", () => {
    const shipped = keywordAdjustedScore(planted.confirmedTiers, planted.wordShares!, TEXT_CLASSES).score;
    expect(shipped).toBeCloseTo(planted.selfCheck.score, 5);
    const candidate = candidateScopeScore(
      planted.confirmedTiers,
      planted.wordShares!,
      TEXT_CLASSES,
      NATURAL_RULE,
    );
    expect(candidate).toBeLessThan(planted.selfCheck.score - 0.5);
  });

  it('never raises a score', () => {
    for (const r of [natural, planted])
      expect(r.selfCheck.keywordAdjusted!.score).toBeLessThanOrEqual(r.selfCheck.score + 1e-6);
  });

  it("is not computed on texts that are not the user's (mined or generated)", () => {
    expect(mined.selfCheck.keywordAdjusted).toBeUndefined();
    expect(mined.wordShares).toBeUndefined();
  });

  it('enters the no-baseline verdict only: the natural shortcut is cleared there, the trigger is not', () => {
    const fpNatural = fingerprintOf(natural);
    const fpPlanted = fingerprintOf(planted);
    const raw = triggerTestP(fpNatural) as number;
    const adjusted = triggerTestP(fpNatural, { keywordAdjusted: true }) as number;
    expect(adjusted).toBeGreaterThan(raw * 100);
    expect(noBaselineP(fpNatural).pValue).toBeGreaterThan(0.01);
    expect(noBaselineP(fpPlanted).pValue).toBeLessThan(1e-3);
    expect(triggerTestP(fpPlanted, { keywordAdjusted: true })).toBeCloseTo(
      triggerTestP(fpPlanted) as number,
      10,
    );
  });

  it('says in the no-baseline explanation which word was a natural keyword, and nothing of the kind for a trigger', () => {
    const n = referenceFreeVerdict(fingerprintOf(natural)).explanation.summary;
    expect(n).toContain(
      `"token ${keywordId(TARGET, 0)}" is in many of the given texts the model puts in class ${TARGET}`,
    );
    const p = referenceFreeVerdict(fingerprintOf(planted)).explanation.summary;
    expect(p).not.toContain('natural keyword');
    expect(p).toContain(`class ${TARGET}`);
  });

  it("reports the score its p-value was computed from (the adjusted one), not the raw search's", () => {
    const fp = fingerprintOf(natural);
    const v = referenceFreeVerdict(fp);
    const adjusted = fp.selfChecks['trigger'].keywordAdjusted!.score;
    expect(adjusted).toBeLessThan(fp.selfChecks['trigger'].score - 1);
    expect(v.detectors['trigger-probe'].score).toBe(adjusted);
    expect(v.detectors['trigger-probe'].pValue).toBe(triggerTestP(fp, { keywordAdjusted: true }));
  });
});
