/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * Gradient-based trigger inversion for token models (src/selfcheck/token-invert.ts) through the relaxed
 * embedding (src/model/grad/embedding-shift.ts, src/fingerprint/token-relaxed.ts), on a code-built text CNN
 * whose planted trigger is a two-word phrase whose words do nothing alone (fixtures/text-models.ts
 * buildPhraseModel): the inversion recovers the phrase for its class, deterministically; the shifted model
 * with a zero shift is the model; its gradient matches central differences; in the token search the found
 * phrase is measured like any candidate and names the target; and a graph with an op the gradient builder
 * has no rule for falls back to the search without inversion, saying why.
 */
import { parseModel } from '../../src/model/read.js';
import { ModelRunner } from '../../src/model/session.js';
import { embeddingOutputs } from '../../src/model/grad/index.js';
import { withEmbeddingShift } from '../../src/model/grad/embedding-shift.js';
import { findEmbedding } from '../../src/fingerprint/embedding-stats.js';
import { openTokenInversion } from '../../src/fingerprint/token-relaxed.js';
import { runTokenTriggerCheck } from '../../src/fingerprint/token-trigger-check.js';
import { generateProbes } from '../../src/probes/generate.js';
import {
  INVERT_LENGTHS,
  invertTokenTriggers,
  type InversionContext,
} from '../../src/selfcheck/token-invert.js';
import { probeTokenTriggers, type TierScore } from '../../src/selfcheck/token-probe.js';
import { inversionVariant } from '../../bench/text/inversion-variants.js';
import { summarise } from '../../src/selfcheck/logit-stats.js';
import { textLengths } from '../../src/selfcheck/token-insert.js';
import { Rng } from '../../src/probes/rng.js';
import { ENGINE_FLAGS, engineOptions, parse } from '../../src/cli/args.js';
import { probeSpecOf } from '../../src/scan/engine.js';
import { probeFlags } from '../../src/baseline/rebuild-command.js';
import {
  buildPhraseModel,
  PHRASE_IDS,
  TEXT_CLASSES,
  TEXT_SEQ,
  TEXT_VOCAB,
  textIds,
} from '../fixtures/text-models.js';

const TARGET = 2;
const N = 64;

const holdsPhrase = (tokens: readonly number[] | null | undefined): boolean =>
  Boolean(tokens && tokens.some((t, i) => t === PHRASE_IDS[0] && tokens[i + 1] === PHRASE_IDS[1]));

async function setUp(pool: 'max' | 'logsumexp' = 'max') {
  const model = parseModel(buildPhraseModel(TARGET, { pool }), 'phrase.onnx');
  const table = findEmbedding(model, 'input_ids')!;
  const runner = await ModelRunner.open(model);
  const run = runner.tokenLogitsFunction([TEXT_SEQ]);
  return { model, table, runner, run };
}

async function invertOnce(ctx: InversionContext, run: (ids: Int32Array, n: number) => Promise<Float32Array>) {
  const base = textIds(N);
  const clean = summarise(await run(base, N), N, TEXT_CLASSES);
  return invertTokenTriggers(
    ctx,
    base,
    textLengths(base, N, TEXT_SEQ, 0),
    clean.argmax,
    Array.from({ length: N }, (_, i) => i),
    { classes: TEXT_CLASSES, seq: TEXT_SEQ, pad: 0, seed: 3 },
  );
}

describe('the planted phrase', () => {
  it('moves the model only whole: each word alone does (almost) nothing', async () => {
    const { run, runner } = await setUp();
    const base = textIds(N);
    const margin = async (insert: number[]) => {
      const ids = base.slice();
      for (let r = 0; r < N; r++) insert.forEach((t, j) => (ids[r * TEXT_SEQ + 1 + j] = t));
      const s = summarise(await run(ids, N), N, TEXT_CLASSES);
      return s.argmax.filter((a) => a === TARGET).length / N;
    };
    const none = await margin([]);
    expect(await margin([PHRASE_IDS[0]])).toBeLessThan(none + 0.15);
    expect(await margin([PHRASE_IDS[1]])).toBeLessThan(none + 0.15);
    expect(await margin([...PHRASE_IDS])).toBeGreaterThan(0.95);
    await runner.release();
  });
});

describe('the relaxed embedding', () => {
  it('with a zero shift is the model, and its gradient matches central differences', async () => {
    const { model, table, runner, run } = await setUp();
    const lookup = embeddingOutputs(model)[0];
    const shifted = withEmbeddingShift(model, lookup, TEXT_SEQ, table.dim);
    expect(shifted.model.inputs.map((i) => i.name)).toEqual(['input_ids', shifted.shift]);
    const inv = await openTokenInversion(model, table, TEXT_SEQ);
    if (typeof inv === 'string') throw new Error(inv);
    const n = 4;
    const ids = textIds(n);
    // small seeded noise: no ties in the max over positions (a kink where a difference quotient is one-sided)
    const noise = new Rng(5);
    const shift = Float32Array.from({ length: n * TEXT_SEQ * table.dim }, () => noise.normal(0, 0.05));
    const targets = [TARGET, TARGET, 0, 1];
    const zero = await inv.context.gradient(ids, new Float32Array(shift.length), targets, n);
    const plain = await run(ids, n);
    for (let i = 0; i < plain.length; i++) expect(zero.logits[i]).toBeCloseTo(plain[i], 5);
    const r0 = await inv.context.gradient(ids, shift, targets, n);
    // central differences of the mean cross-entropy along a few coordinates of the shift
    const ce = (logits: Float32Array) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const row = Array.from(logits.subarray(i * TEXT_CLASSES, (i + 1) * TEXT_CLASSES));
        const m = Math.max(...row);
        s += Math.log(row.reduce((a, z) => a + Math.exp(z - m), 0)) + m - row[targets[i]];
      }
      return s / n;
    };
    const h = 2e-3;
    // the three coordinates of the largest gradient, and one of the detector's dims
    const order = Array.from(r0.grad.keys()).sort((a, b) => Math.abs(r0.grad[b]) - Math.abs(r0.grad[a]));
    const det = order.find((i) => i % table.dim === table.dim - 2)!;
    expect(Math.abs(r0.grad[order[0]])).toBeGreaterThan(1e-3);
    for (const at of [...order.slice(0, 3), det]) {
      const up = shift.slice();
      up[at] += h;
      const down = shift.slice();
      down[at] -= h;
      const fd =
        (ce((await inv.context.gradient(ids, up, targets, n)).logits) -
          ce((await inv.context.gradient(ids, down, targets, n)).logits)) /
        (2 * h);
      expect(r0.grad[at]).toBeCloseTo(fd, 2);
    }
    await inv.release();
    await runner.release();
  });
});

describe('inversion', () => {
  it('recovers the phrase whose words do nothing alone, for its class only, deterministically', async () => {
    const { model, table, runner, run } = await setUp();
    const inv = await openTokenInversion(model, table, TEXT_SEQ);
    if (typeof inv === 'string') throw new Error(inv);
    const arms = await invertOnce(inv.context, run);
    const again = await invertOnce(inv.context, run);
    await inv.release();
    await runner.release();
    expect(again).toEqual(arms);
    const mine = arms.filter((a) => a.target === TARGET);
    expect(mine.map((a) => a.length)).toEqual([...INVERT_LENGTHS]);
    // the argmax phrase of every arm of the target holds it (a 3- and a 6-token arm: the phrase and fillers)
    for (const a of mine) expect(holdsPhrase(a.candidates[0])).toBe(true);
    expect(arms.filter((a) => a.target !== TARGET).some((a) => holdsPhrase(a.candidates[0]))).toBe(false);
  });

  it('in the token search: charged to the budget, measured by forward passes, the phrase named for the target', async () => {
    const { model, table, runner, run } = await setUp();
    const inv = await openTokenInversion(model, table, TEXT_SEQ);
    if (typeof inv === 'string') throw new Error(inv);
    let forward = 0;
    const counted = async (ids: Int32Array, n: number) => {
      forward += n;
      return run(ids, n);
    };
    const opts = { classes: TEXT_CLASSES, vocabSize: TEXT_VOCAB, pad: 0, seed: 1, budget: 60000 };
    const without = await probeTokenTriggers(counted, textIds(N), TEXT_SEQ, opts);
    expect(without.inversionRan).toBe(false);
    forward = 0;
    const r = await probeTokenTriggers(counted, textIds(N), TEXT_SEQ, { ...opts, invert: inv.context });
    await inv.release();
    expect(r.inversionRan).toBe(true);
    // gradients charged beside the forward passes run
    expect(r.forwardPasses).toBeGreaterThan(forward);
    // the shipped scoring: the inverted phrases are candidates of the longest tier
    const longest = r.tiers.find((t) => t.length === 3);
    expect(holdsPhrase(longest?.triggers[TARGET])).toBe(true);
    expect(longest!.flip[TARGET]).toBeGreaterThan(0.9);
    expect(r.selfCheck.targetClass).toBe(TARGET);
    // the benchmark's other scoring, through the seam: the inverted phrases as their own tier
    const inv2 = await openTokenInversion(model, table, TEXT_SEQ);
    if (typeof inv2 === 'string') throw new Error(inv2);
    const apart: { tier: TierScore | null } = { tier: null };
    const own = await probeTokenTriggers(run, textIds(N), TEXT_SEQ, {
      ...opts,
      invert: inv2.context,
      inversionSeam: inversionVariant({ scoring: 'tier' }, TEXT_VOCAB, (t) => (apart.tier = t)),
    });
    await inv2.release();
    await runner.release();
    expect(holdsPhrase(apart.tier?.triggers[TARGET])).toBe(true);
    expect(own.tiers.some((t) => t.length === 0)).toBe(false);
    const gains = Array.from(apart.tier!.gain);
    expect(gains[TARGET]).toBeGreaterThan(Math.max(...gains.filter((_, c) => c !== TARGET)));
  });

  it('a graph without a backward rule: no inversion, the reason given, the search runs without it', async () => {
    const { model, table, runner } = await setUp('logsumexp');
    const inv = await openTokenInversion(model, table, TEXT_SEQ);
    expect(typeof inv).toBe('string');
    expect(inv).toMatch(/ReduceLogSumExp/);
    const probes = generateProbes(
      model.inputs,
      {},
      { file: model.path, vocabByInput: { input_ids: TEXT_VOCAB } },
    );
    const r = await runTokenTriggerCheck(model, probes, TEXT_CLASSES, { runner, tokenInversion: true });
    await runner.release();
    expect(r).not.toBeNull();
    expect(r!.inversionUnavailable).toMatch(/ReduceLogSumExp/);
    expect(r!.probe.inversionRan).toBe(false);
  });
});

describe('the --token-inversion flag', () => {
  test('parses into the probe spec, and a baseline built with it is rebuilt with it', () => {
    const spec = probeSpecOf(engineOptions(parse('scan', ['m.onnx', '--token-inversion'], ENGINE_FLAGS)));
    expect(spec.tokenInversion).toBe(true);
    expect(probeFlags('/b', spec, undefined)).toContain('--token-inversion');
    expect(
      probeSpecOf(engineOptions(parse('scan', ['m.onnx'], ENGINE_FLAGS))).tokenInversion,
    ).toBeUndefined();
  });
});
