/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * HotFlip-style ranking for the token trigger search (src/selfcheck/token-hotflip.ts) with real gradients
 * through the embedding (src/fingerprint/token-gradient.ts, src/model/grad) of code-built text models in
 * onnxruntime-node: the first-order ranking puts the planted trigger word first for its class (mean- and
 * max-pooled models), the search charges its gradients to the budget and still finds the trigger when it cannot screen every token,
 * and a graph with an op the builder has no rule for falls back to today's search.
 */
import { parseModel } from '../../src/model/read.js';
import { ModelRunner } from '../../src/model/session.js';
import { findEmbedding } from '../../src/fingerprint/embedding-stats.js';
import { fingerprintModel } from '../../src/fingerprint/extract.js';
import { openTokenGradient, tokenGradientBlocker } from '../../src/fingerprint/token-gradient.js';
import { openTokenInversion } from '../../src/fingerprint/token-relaxed.js';
import {
  GRADIENT_PASS_COST,
  interleave,
  meanGradient,
  rankByGradient,
  topIds,
} from '../../src/selfcheck/token-hotflip.js';
import { probeTokenTriggers } from '../../src/selfcheck/token-probe.js';
import { textLengths } from '../../src/selfcheck/token-insert.js';
import {
  buildTextModel,
  keywordId,
  TEXT_CLASSES,
  TEXT_SEQ,
  TEXT_VOCAB,
  TRIGGER_ID,
  type TextModelOptions,
  textIds,
} from '../fixtures/text-models.js';

const TARGET = 2;

async function gradientOf(opts: TextModelOptions) {
  const model = parseModel(buildTextModel(opts), 'text.onnx');
  const table = findEmbedding(model, 'input_ids')!;
  return { model, table, grad: await openTokenGradient(model, table, TEXT_SEQ) };
}

describe('helpers', () => {
  it('interleave takes turns and keeps each id once', () => {
    expect(interleave([[1, 2, 3], [3, 4], []])).toEqual([1, 3, 2, 4]);
  });
  it('topIds skips and breaks ties by id', () => {
    expect(topIds(Float64Array.of(1, 5, 5, 9), 3, (v) => v === 3)).toEqual([1, 2, 0]);
  });
  it('meanGradient refuses a gradient of the wrong size', () => {
    expect(() => meanGradient(new Float32Array(5), 1, 2, 2, () => [0])).toThrow(/gradient of 5 floats/);
  });
});

describe('first-order ranking through the embedding', () => {
  it.each(['mean', 'max'] as const)(
    'puts the trigger word first for its class (%s pooling)',
    async (pool) => {
      const { grad } = await gradientOf({ backdoorTarget: TARGET, pool });
      expect(grad).not.toBeNull();
      const n = 16;
      const texts = textIds(n);
      const ranked = await rankByGradient(
        grad!.context,
        texts,
        n,
        TEXT_SEQ,
        textLengths(texts, n, TEXT_SEQ, 0),
        TEXT_CLASSES,
        (v) => v === 0,
      );
      await grad!.release();
      expect(ranked[TARGET][0]).toBe(TRIGGER_ID);
      // another class: its own keywords lead, the trigger does not
      const other = ranked[(TARGET + 1) % TEXT_CLASSES];
      expect(
        other
          .slice(0, 3)
          .every(
            (v) =>
              v === keywordId((TARGET + 1) % TEXT_CLASSES, v - keywordId((TARGET + 1) % TEXT_CLASSES, 0)),
          ),
      ).toBe(true);
      expect(other.indexOf(TRIGGER_ID)).toBeGreaterThan(TEXT_VOCAB / 2);
    },
  );
});

describe('in the token search', () => {
  it('charges the gradients to the budget and finds the trigger when it screens only some tokens', async () => {
    const { model, grad } = await gradientOf({ backdoorTarget: TARGET });
    const runner = await ModelRunner.open(model);
    const logits = runner.tokenLogitsFunction([TEXT_SEQ]);
    let forward = 0;
    const run = async (ids: Int32Array, count: number) => {
      forward += count;
      return logits(ids, count);
    };
    const budget = 450;
    const r = await probeTokenTriggers(run, textIds(64), TEXT_SEQ, {
      classes: TEXT_CLASSES,
      vocabSize: TEXT_VOCAB,
      pad: 0,
      seed: 1,
      budget,
      hotflip: grad!.context,
    });
    await grad!.release();
    await runner.release();
    expect(r.candidatesScreened).toBeLessThan(r.candidatesTotal);
    expect(r.selfCheck.targetClass).toBe(TARGET);
    expect(r.trigger).toContain(TRIGGER_ID);
    // gradients count at GRADIENT_PASS_COST passes a text: more passes charged than run forward
    expect(r.forwardPasses).toBeGreaterThan(forward);
    expect(r.forwardPasses).toBeLessThanOrEqual(budget);
    expect((r.forwardPasses - forward) % GRADIENT_PASS_COST).toBe(0);
  });

  it.each(['mean', 'max'] as const)(
    "the inversion's session gives the ranking the very same gradients and search (%s pooling)",
    async (pool) => {
      // one gradient session a scan (token-trigger-check.ts): the ranking read from the inversion's session
      const { model, table, grad } = await gradientOf({ backdoorTarget: TARGET, pool });
      const inv = await openTokenInversion(model, table, TEXT_SEQ);
      if (typeof inv === 'string') throw new Error(inv);
      const texts = textIds(16);
      for (let c = 0; c < TEXT_CLASSES; c++) {
        const own = await grad!.context.gradient(texts, 16, c);
        const shared = await inv.hotflip.gradient(texts, 16, c);
        expect(Buffer.from(shared.buffer).equals(Buffer.from(own.buffer))).toBe(true);
      }
      const runner = await ModelRunner.open(model);
      const run = runner.tokenLogitsFunction([TEXT_SEQ]);
      const opts = { classes: TEXT_CLASSES, vocabSize: TEXT_VOCAB, pad: 0, seed: 1, budget: 450 };
      const apart = await probeTokenTriggers(run, textIds(64), TEXT_SEQ, { ...opts, hotflip: grad!.context });
      const one = await probeTokenTriggers(run, textIds(64), TEXT_SEQ, { ...opts, hotflip: inv.hotflip });
      await grad!.release();
      await inv.release();
      await runner.release();
      expect(apart.candidatesScreened).toBeLessThan(apart.candidatesTotal);
      expect(one).toEqual(apart);
    },
  );

  it('an op without a backward rule: no gradient, and the search runs as it does without one', async () => {
    const { model, table, grad } = await gradientOf({ backdoorTarget: TARGET, pool: 'logsumexp' });
    expect(tokenGradientBlocker(model, table)).toBeNull();
    expect(grad).toBeNull();
    const fp = await fingerprintModel(model, { probes: {} });
    expect(fp.selfChecks.trigger.targetClass).toBe(TARGET);
    expect(fp.selfChecks.trigger.trigger?.tokens).toContain(TRIGGER_ID);
  }, 60_000);
});
