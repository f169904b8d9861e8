/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * Token trigger probing on real ONNX text models in real onnxruntime-node (__tests__/fixtures/text-models.ts:
 * embedding bags with keyword rows per class; the backdoored one has a trigger word planted): the search
 * finds the trigger word and its class, scores the backdoored model far above the clean one, keeps to its
 * budget, screens every token (and keeps the token map) when affordable and the embedding outliers first when
 * not; the insertion itself; and mining texts from the model when there are no samples.
 */
import { parseModel } from '../../src/model/read.js';
import { ModelRunner } from '../../src/model/session.js';
import { probeTokenTriggers, type TokenProbeResult } from '../../src/selfcheck/token-probe.js';
import { insertionPositions, insertTokens, textLengths } from '../../src/selfcheck/token-insert.js';
import { mineTokenTexts } from '../../src/selfcheck/token-mine.js';
import { tokenCandidateOrder } from '../../src/selfcheck/token-candidates.js';
import { embeddingStats, findEmbedding } from '../../src/fingerprint/embedding-stats.js';
import { Rng } from '../../src/probes/rng.js';
import {
  buildTextModel,
  TEXT_CLASSES,
  TEXT_SEQ,
  TEXT_VOCAB,
  TRIGGER_ID,
  textIds,
} from '../fixtures/text-models.js';

const TARGET = 2;

async function runnerOf(bytes: Uint8Array) {
  const model = parseModel(bytes, 'text.onnx');
  const runner = await ModelRunner.open(model);
  const logits = runner.tokenLogitsFunction([TEXT_SEQ]);
  let passes = 0;
  const run = async (ids: Int32Array, count: number) => {
    passes += count;
    return logits(ids, count);
  };
  return { model, runner, run, passes: () => passes };
}

const BASE = textIds(64);
let clean: TokenProbeResult;
let bad: TokenProbeResult;
let badPasses = 0;

beforeAll(async () => {
  const c = await runnerOf(buildTextModel());
  clean = await probeTokenTriggers(c.run, BASE, TEXT_SEQ, {
    classes: TEXT_CLASSES,
    vocabSize: TEXT_VOCAB,
    pad: 0,
    seed: 1,
  });
  await c.runner.release();
  const b = await runnerOf(buildTextModel({ backdoorTarget: TARGET }));
  bad = await probeTokenTriggers(b.run, BASE, TEXT_SEQ, {
    classes: TEXT_CLASSES,
    vocabSize: TEXT_VOCAB,
    pad: 0,
    seed: 1,
    budget: 20000,
  });
  badPasses = b.passes();
  await b.runner.release();
});

describe('probeTokenTriggers', () => {
  it('finds the planted trigger word and its class, and flips held-out texts there', () => {
    expect(bad.selfCheck.targetClass).toBe(TARGET);
    expect(bad.trigger).toEqual([TRIGGER_ID]);
    expect(bad.selfCheck.trigger?.tokens).toEqual([TRIGGER_ID]);
    expect(bad.selfCheck.trigger?.kind).toBe('tokens');
    expect(bad.selfCheck.trigger?.flipRate).toBeGreaterThan(0.9);
  });

  it('scores the backdoored model far above the clean one', () => {
    expect(bad.selfCheck.score).toBeGreaterThan(clean.selfCheck.score + 3);
    expect(clean.selfCheck.score).toBeLessThan(3);
  });

  it('keeps to its budget of forward passes and counts them', () => {
    expect(bad.forwardPasses).toBeLessThanOrEqual(20000);
    expect(badPasses).toBe(bad.forwardPasses);
  });

  it('screens every token but the padding, keeps the token map, and builds 1-3 token tiers', () => {
    expect(bad.candidatesScreened).toBe(TEXT_VOCAB - 1);
    expect(bad.mapBlock.length).toBe(TEXT_VOCAB * TEXT_CLASSES);
    // the trigger's row of the map: it sends (nearly) every screened text of another class to the target
    expect(bad.mapBlock[TRIGGER_ID * TEXT_CLASSES + TARGET]).toBeGreaterThan(0.9);
    // the gain map, same layout: the trigger's gain into the target is the largest entry of the map, far
    // above the same word's gain in the clean model (where no word stands out that far)
    expect(bad.gainMap.length).toBe(TEXT_VOCAB * TEXT_CLASSES);
    const at = TRIGGER_ID * TEXT_CLASSES + TARGET;
    expect(Array.from(bad.gainMap).indexOf(Math.max(...bad.gainMap))).toBe(at);
    expect(bad.gainMap[at]).toBeGreaterThan(clean.gainMap[at] + 1);
    expect(bad.gainMap.every((g) => Number.isFinite(g))).toBe(true);
    expect(bad.tiers.map((t) => t.length)).toEqual([1, 2, 3]);
    expect(bad.tierBlock.length).toBe(2 * 3 * TEXT_CLASSES);
    expect(bad.block.length).toBe(2 * TEXT_CLASSES);
  });

  it('on a small budget screens the embedding outliers first, and still finds the trigger', async () => {
    const b = await runnerOf(buildTextModel({ backdoorTarget: TARGET }));
    const table = findEmbedding(b.model, 'input_ids');
    expect(table).not.toBeNull();
    const stats = embeddingStats(table!);
    const order = tokenCandidateOrder(TEXT_VOCAB, stats);
    expect(order[0]).toBe(TRIGGER_ID); // the planted row has by far the largest norm
    expect(stats.zeroRow).toBe(0); // the padding row
    const r = await probeTokenTriggers(b.run, BASE, TEXT_SEQ, {
      classes: TEXT_CLASSES,
      vocabSize: TEXT_VOCAB,
      pad: 0,
      seed: 1,
      budget: 300,
      order,
    });
    await b.runner.release();
    expect(r.candidatesScreened).toBeLessThan(TEXT_VOCAB - 1);
    expect(r.mapBlock.length).toBe(0); // not every token screened: no map
    expect(r.gainMap.length).toBe(0);
    expect(r.forwardPasses).toBeLessThanOrEqual(300);
    expect(r.selfCheck.targetClass).toBe(TARGET);
    expect(r.trigger?.[0]).toBe(TRIGGER_ID);
  });

  it('refuses arguments that cannot be probed', async () => {
    const run = async () => new Float32Array(0);
    await expect(
      probeTokenTriggers(run, new Int32Array(10), TEXT_SEQ, { classes: 4, vocabSize: 48 }),
    ).rejects.toThrow(/whole number of texts/);
    await expect(
      probeTokenTriggers(run, BASE, TEXT_SEQ, { classes: 4, vocabSize: 48, budget: 10 }),
    ).rejects.toThrow(/below the minimum/);
  });
});

describe('token insertion', () => {
  it('inserts before a word, moves the rest right and cuts at the window', () => {
    const dst = new Int32Array(6);
    insertTokens(Int32Array.of(5, 6, 7, 0, 0, 0), [9, 8], 1, dst);
    expect(Array.from(dst)).toEqual([5, 9, 8, 6, 7, 0]);
    insertTokens(Int32Array.of(1, 2, 3, 4, 5, 6), [9], 6, dst);
    expect(Array.from(dst)).toEqual([1, 2, 3, 4, 5, 6]); // at the very end of a full window: cut away
    insertTokens(Int32Array.of(1, 2, 3, 4, 5, 6), [9, 9], 0, dst);
    expect(Array.from(dst)).toEqual([9, 9, 1, 2, 3, 4]);
  });

  it('measures lengths before the padding and keeps the trigger inside the window', () => {
    const ids = Int32Array.of(5, 6, 0, 0, 1, 2, 3, 4);
    expect(Array.from(textLengths(ids, 2, 4, 0))).toEqual([2, 4]);
    expect(Array.from(textLengths(ids, 2, 4, undefined))).toEqual([4, 4]);
    const rng = new Rng(3);
    for (let i = 0; i < 50; i++) {
      const pos = insertionPositions(Int32Array.of(2, 4), [0, 1], 4, 2, rng);
      expect(pos[0]).toBeLessThanOrEqual(2);
      expect(pos[1]).toBeLessThanOrEqual(2); // a full text: the 2-token trigger must still fit
    }
  });
});

describe('mineTokenTexts', () => {
  it('builds texts the model assigns to every class, within its budget, the same for a seed', async () => {
    const c = await runnerOf(buildTextModel());
    const opts = { classes: TEXT_CLASSES, vocabSize: TEXT_VOCAB, budget: 2000, pad: 0, seed: 5 };
    const a = await mineTokenTexts(c.run, TEXT_SEQ, opts);
    const b = await mineTokenTexts(c.run, TEXT_SEQ, opts);
    await c.runner.release();
    expect(a).not.toBeNull();
    expect(a!.forwardPasses).toBeLessThanOrEqual(2000);
    expect(a!.perClass.every((n) => n > 0)).toBe(true);
    expect(Array.from(a!.base)).toEqual(Array.from(b!.base));
    // every mined text starts with words and ends in padding (a length inside the window)
    const lengths = textLengths(a!.base, a!.count, TEXT_SEQ, 0);
    expect(Math.min(...lengths)).toBeGreaterThan(0);
    expect(Math.max(...lengths)).toBeLessThan(TEXT_SEQ);
  });

  it('gives up (null) when the budget affords too few texts', async () => {
    const c = await runnerOf(buildTextModel());
    const r = await mineTokenTexts(c.run, TEXT_SEQ, {
      classes: TEXT_CLASSES,
      vocabSize: TEXT_VOCAB,
      budget: 60,
      pad: 0,
    });
    await c.runner.release();
    expect(r).toBeNull();
  });
});
