/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * A text model's fingerprint (src/fingerprint/token-trigger-check.ts, embedding-stats.ts, wired in
 * extract.ts), on code-built embedding bags in real onnxruntime-node: the token family runs instead of the
 * image one, on the user's texts or on texts mined from the model; its blocks have the documented lengths;
 * the embedding statistics find the padding row and the planted trigger row; the scan budget plans its
 * passes as it does an image model's; a vocabulary names the trigger words.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { STORED_BLOCKS } from '../../src/baseline/build.js';
import { parseModel } from '../../src/model/read.js';
import { fingerprintModel } from '../../src/fingerprint/extract.js';
import { DEFAULT_SCAN_BUDGET, largerBudget, parseBudget, planBudget } from '../../src/fingerprint/budget.js';
import { TOKEN_MINE_BUDGET_SHARE } from '../../src/limits.js';
import { forwardMacs } from '../../src/model/macs.js';
import { generateProbes } from '../../src/probes/generate.js';
import {
  embeddingSelfCheck,
  embeddingStats,
  findEmbedding,
  EMBEDDING_BLOCK,
} from '../../src/fingerprint/embedding-stats.js';
import { MIN_TRIGGER_BUDGET } from '../../src/selfcheck/trigger-probe.js';
import {
  DEFAULT_TOKEN_BUDGET,
  MIN_SCREEN_TEXTS,
  SCREEN_SHARE,
  tokenPassesWanted,
} from '../../src/selfcheck/token-probe.js';
import {
  buildTextModel,
  sampleTexts,
  TEXT_CLASSES,
  TEXT_SEQ,
  TEXT_VOCAB,
  TEXT_VOCAB_LINES,
  TRIGGER_ID,
} from '../fixtures/text-models.js';

const dir = mkdtempSync(path.join(tmpdir(), 'token-check-'));
const vocabFile = path.join(dir, 'vocab.txt');
const textFile = path.join(dir, 'texts.txt');
writeFileSync(vocabFile, TEXT_VOCAB_LINES.join('\n') + '\n');
writeFileSync(textFile, sampleTexts(48).join('\n') + '\n');

describe('the scan budget of a text model (planBudget, as for images)', () => {
  const model = () => parseModel(buildTextModel(), 'm.onnx');
  const textProbes = (m: ReturnType<typeof model>) =>
    generateProbes(m.inputs, {}, { file: m.path, vocabByInput: { input_ids: TEXT_VOCAB } });

  it('gives a small model every pass the vocabulary wants at every named setting, and no patch map', () => {
    const m = model();
    const probes = textProbes(m);
    const macs = forwardMacs(m, new Map([['input_ids', [1, TEXT_SEQ]]])).macs;
    for (const setting of ['fast', 'default', 'thorough']) {
      const plan = planBudget(m, probes, parseBudget(setting));
      expect(plan.macsPerPass).toBe(macs);
      expect(plan.triggerPasses).toBe(tokenPassesWanted(TEXT_VOCAB));
      expect(plan.mapInputs).toBe(0);
      expect(plan.mapPositions).toBe(0);
    }
  });

  it('cuts the passes to what a numeric setting buys, and none below the minimum', () => {
    const m = model();
    const probes = textProbes(m);
    const macs = planBudget(m, probes, DEFAULT_SCAN_BUDGET).macsPerPass;
    const some = { setting: 'n', macs: macs * 5000 + 1 };
    expect(planBudget(m, probes, some).triggerPasses).toBe(5000);
    const tooFew = { setting: 'n', macs: macs * (MIN_TRIGGER_BUDGET - 1) };
    expect(planBudget(m, probes, tooFew).triggerPasses).toBeNull();
  });

  it('wants more passes for a large vocabulary: every entry screened, mining and the phrase search beside', () => {
    expect(tokenPassesWanted(3000)).toBe(DEFAULT_TOKEN_BUDGET);
    const big = tokenPassesWanted(30000);
    expect(big).toBeGreaterThan(DEFAULT_TOKEN_BUDGET);
    // screening 30,000 entries on MIN_SCREEN_TEXTS texts takes SCREEN_SHARE of what mining leaves
    expect(big * (1 - TOKEN_MINE_BUDGET_SHARE) * SCREEN_SHARE).toBeGreaterThanOrEqual(
      30000 * MIN_SCREEN_TEXTS,
    );
  });

  it('spends the planned passes, records them per check, and a larger setting screens what a short one cut', async () => {
    const m = model();
    const macs = planBudget(m, textProbes(m), DEFAULT_SCAN_BUDGET).macsPerPass;
    const short = { setting: 'short', macs: macs * 300 };
    const fp = await fingerprintModel(parseModel(buildTextModel({ backdoorTarget: 3 }), 'bad.onnx'), {
      probes: { samplesDir: textFile, vocabFile },
      budget: short,
    });
    const b = fp.header.budget!;
    expect(b.setting).toBe('short');
    expect(b.checks['trigger-probe'].passes).toBeGreaterThan(0);
    expect(b.checks['trigger-probe'].passes).toBeLessThanOrEqual(300);
    expect(b.triggerCandidates!.screened).toBeLessThan(b.triggerCandidates!.total);
    const full = await fingerprintModel(parseModel(buildTextModel({ backdoorTarget: 3 }), 'bad.onnx'), {
      probes: { samplesDir: textFile, vocabFile },
      budget: largerBudget({ setting: 'short', macs: macs * 300 }),
    });
    const fb = full.header.budget!;
    expect(fb.checks['trigger-probe'].passes).toBeGreaterThan(300);
    expect(fb.triggerCandidates!.screened).toBe(fb.triggerCandidates!.total);
  }, 120_000);

  it('below the minimum: no token probing, recorded as skipped for the budget', async () => {
    const m = model();
    const macs = planBudget(m, textProbes(m), DEFAULT_SCAN_BUDGET).macsPerPass;
    const fp = await fingerprintModel(parseModel(buildTextModel(), 'm.onnx'), {
      probes: { samplesDir: textFile, vocabFile },
      budget: { setting: 'tiny', macs: macs * 10 },
    });
    expect(fp.selfChecks.trigger).toBeUndefined();
    expect(fp.header.budget!.checks['trigger-probe']).toEqual({ passes: 0, skipped: 'budget' });
  }, 120_000);
});

describe('embedding statistics', () => {
  it('find the padding row and put the planted trigger row first', () => {
    const model = parseModel(buildTextModel({ backdoorTarget: 1 }), 'bad.onnx');
    const s = embeddingStats(findEmbedding(model, 'input_ids')!);
    expect(s.zeroRow).toBe(0);
    expect(s.normZ[0]).toBe(0);
    const check = embeddingSelfCheck(s);
    expect(check.detail).toContain(`token ${TRIGGER_ID} `);
    const clean = embeddingSelfCheck(
      embeddingStats(findEmbedding(parseModel(buildTextModel(), 'c.onnx'), 'input_ids')!),
    );
    expect(check.score).toBeGreaterThan(clean.score * 3);
  });

  it('find no table when the token input does not feed a Gather of a constant', () => {
    const model = parseModel(buildTextModel(), 'm.onnx');
    expect(findEmbedding(model, 'not-an-input')).toBeNull();
  });
});

describe('fingerprintModel on a text model', () => {
  it('with texts and a vocabulary: token trigger probing on the samples, its blocks, the trigger word', async () => {
    const fp = await fingerprintModel(parseModel(buildTextModel({ backdoorTarget: 3 }), 'bad.onnx'), {
      probes: { samplesDir: textFile, vocabFile },
    });
    const trig = fp.selfChecks.trigger;
    expect(trig.basis).toBe('samples');
    expect(trig.targetClass).toBe(3);
    expect(trig.trigger).toMatchObject({
      kind: 'tokens',
      tokens: [TRIGGER_ID],
      words: [TEXT_VOCAB_LINES[TRIGGER_ID]],
    });
    expect(fp.blocks.trigger.length).toBe(2 * TEXT_CLASSES);
    expect(fp.blocks['trigger-tiers'].length).toBe(6 * TEXT_CLASSES);
    expect(fp.blocks['trigger-map'].length).toBe(TEXT_VOCAB * TEXT_CLASSES);
    expect(fp.blocks[EMBEDDING_BLOCK].length).toBe(TEXT_VOCAB);
    expect(fp.selfChecks['embedding-outlier'].score).toBeGreaterThan(3);
  }, 120_000);

  it('without samples: texts mined from the model, the same blocks, token ids without a vocabulary', async () => {
    const fp = await fingerprintModel(parseModel(buildTextModel({ backdoorTarget: 3 }), 'bad.onnx'), {
      probes: {},
    });
    expect(fp.selfChecks.trigger.basis).toBe('mined');
    expect(fp.selfChecks.trigger.trigger?.tokens).toEqual([TRIGGER_ID]);
    expect(fp.selfChecks.trigger.trigger?.words).toBeUndefined();
    expect(fp.blocks['trigger-map'].length).toBe(TEXT_VOCAB * TEXT_CLASSES);
  }, 120_000);

  it('stores the embedding norms for a baseline build, and skips them for a scan that does not read them', async () => {
    const model = parseModel(buildTextModel({ backdoorTarget: 3 }), 'bad.onnx');
    const stored = await fingerprintModel(model, { probes: {}, blocks: STORED_BLOCKS });
    expect(stored.blocks[EMBEDDING_BLOCK].length).toBe(TEXT_VOCAB);
    const scan = await fingerprintModel(model, { probes: {}, blocks: ['logits'] });
    expect(scan.blocks[EMBEDDING_BLOCK]).toBeUndefined();
    // the reference-free embedding check needs no block and still runs
    expect(scan.selfChecks['embedding-outlier'].score).toBeCloseTo(
      stored.selfChecks['embedding-outlier'].score,
      6,
    );
  }, 120_000);
});
