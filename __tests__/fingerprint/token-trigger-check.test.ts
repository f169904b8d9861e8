/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * A text model's fingerprint (src/fingerprint/token-trigger-check.ts, embedding-stats.ts, wired in
 * extract.ts), on code-built embedding bags in real onnxruntime-node: the token family runs instead of the
 * image one, on the user's texts or on texts mined from the model; its blocks have the documented lengths;
 * the embedding statistics find the padding row and the planted trigger row; the compute budget counts an
 * embedding table by the rows a text reads; a vocabulary names the trigger words.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseModel } from '../../src/model/read.js';
import { fingerprintModel } from '../../src/fingerprint/extract.js';
import { estimateTokenMacs, tokenTriggerBudget } from '../../src/fingerprint/token-trigger-check.js';
import {
  embeddingSelfCheck,
  embeddingStats,
  findEmbedding,
  EMBEDDING_BLOCK,
} from '../../src/fingerprint/embedding-stats.js';
import { MIN_TRIGGER_BUDGET } from '../../src/selfcheck/trigger-probe.js';
import { DEFAULT_TOKEN_BUDGET } from '../../src/selfcheck/token-probe.js';
import {
  buildTextModel,
  sampleTexts,
  TEXT_CLASSES,
  TEXT_DIM,
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

describe('the compute budget of a text model', () => {
  it('counts an embedding table by the rows one text reads, other weights once per position', () => {
    const model = parseModel(buildTextModel(), 'm.onnx');
    const table = findEmbedding(model, 'input_ids')!;
    const macs = estimateTokenMacs(model, table, TEXT_SEQ);
    // embedding: seq x dim; fc weight and bias: elements x seq
    expect(macs).toBe(TEXT_SEQ * TEXT_DIM + (TEXT_CLASSES * TEXT_DIM + TEXT_CLASSES) * TEXT_SEQ);
  });

  it('affords the default passes to a small model, fewer to a big one, none below the minimum', () => {
    expect(tokenTriggerBudget(1000)).toBe(DEFAULT_TOKEN_BUDGET);
    expect(tokenTriggerBudget(1e6, 3e10)).toBe(30000);
    expect(tokenTriggerBudget(1e9, 3e10)).toBeNull();
    expect(tokenTriggerBudget(3e10 / MIN_TRIGGER_BUDGET, 3e10)).toBe(MIN_TRIGGER_BUDGET);
  });
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
});
