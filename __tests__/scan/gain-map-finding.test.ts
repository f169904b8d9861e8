/**
 * A text model's token gain map as a separate test, end to end on synthetic fingerprints through the real
 * ensemble, the final verdict and the explanation: one word whose margin gain into one class is far beyond the
 * references' decides the verdict, and the report names that word and class with its gain and flip share.
 */
import type { Fingerprint } from '../../src/fingerprint/types.js';
import {
  TOKEN_GAIN_MAP_BLOCK,
  TOKEN_GAIN_MAP_MAD_FLOOR,
  TRIGGER_MAP_BLOCK,
} from '../../src/baseline/config.js';
import { Rng } from '../../src/probes/rng.js';
import { scoreEnsemble } from '../../src/score/ensemble.js';
import { EMPTY_MANIFEST, separateTestState } from '../helpers/separate-test-state.js';
import { finalVerdict } from '../../src/score/final.js';
import { explain } from '../../src/scan/explain.js';
import { gainMapFinding } from '../../src/scan/gain-map-finding.js';
import type { Vocabulary } from '../../src/probes/vocab.js';

const K = 6;
const V = 300;

function blocks(rng: Rng): Record<string, Float32Array> {
  // clean models: every word moves texts a little (gains ~0.3 spreads), rarely flips one of 8 texts
  const gains = Float32Array.from({ length: V * K }, () => 0.3 + 0.1 * rng.normal());
  const flips = Float32Array.from({ length: V * K }, () => (rng.next() < 0.01 ? 0.125 : 0));
  const logits = Float32Array.from({ length: 20 }, () => rng.normal());
  return { logits, [TOKEN_GAIN_MAP_BLOCK]: gains, [TRIGGER_MAP_BLOCK]: flips };
}

function fp(b: Record<string, Float32Array>): Fingerprint {
  const trigger = { kind: 'tokens', location: 'inserted at a random position', flipRate: 0, zScore: 0 };
  const selfChecks = {
    trigger: { score: 0, pValue: 1, targetClass: 0, detail: '', basis: 'samples', trigger },
    'embedding-outlier': { score: 0, detail: '' },
  };
  return { header: { model: { classes: K } }, blocks: b, selfChecks } as unknown as Fingerprint;
}

const rng = new Rng('gain-map-finding');
const refs = Array.from({ length: 40 }, () => blocks(rng));
const state = separateTestState(refs, TOKEN_GAIN_MAP_BLOCK, TOKEN_GAIN_MAP_MAD_FLOOR);
const manifest = EMPTY_MANIFEST;
const WORD = 123;
const vocab = {
  words: Array.from({ length: V }, (_, i) => `w${i}`),
  ids: new Map(),
  pad: 0,
} as unknown as Vocabulary;

test('one word moving texts into one class far beyond the references decides, and the report names it', () => {
  const b = blocks(new Rng('backdoored'));
  b[TOKEN_GAIN_MAP_BLOCK][WORD * K + 4] = 3.5; // no flip needed: a sentence trigger's word moves the margin
  b[TRIGGER_MAP_BLOCK][WORD * K + 4] = 0.25;
  const model = fp(b);
  const v = scoreEnsemble(state, b);
  const final = finalVerdict(v.pValue, model, 'bonferroni', undefined, v.separate);
  expect(final.decidedBy).toBe(TOKEN_GAIN_MAP_BLOCK);
  expect(final.pValue).toBeLessThan(0.0153); // high
  const found = gainMapFinding(v, model);
  expect(found).toMatchObject({ cls: 4, token: WORD, flipRate: 0.25 });
  expect(found?.gain).toBeCloseTo(3.5, 5);
  expect(found?.zScore).toBeGreaterThan(10);
  const e = explain(v, final, model, manifest, ['N', 48], vocab);
  expect(e.suspectedTargetClass).toBe(4);
  expect(e.trigger).toMatchObject({ kind: 'tokens', tokens: [WORD], words: ['w123'], flipRate: 0.25 });
  expect(e.summary).toMatch(
    /Token gain map: inserting the word "w123" into the samples moves them toward class 4 by 3\.50 logit spreads on average \(25% sent there\)/,
  );
  expect(e.summary).toMatch(/with the trigger test and the token gain map, Bonferroni/);
});

test('a clean model: the gain map does not decide and the explanation does not mention it', () => {
  const b = blocks(new Rng('clean-test'));
  const v = scoreEnsemble(state, b);
  const final = finalVerdict(v.pValue, fp(b), 'bonferroni', undefined, v.separate);
  expect(final.riskLevel).not.toBe('high');
  expect(explain(v, final, fp(b), manifest, ['N', 48], vocab).summary).not.toMatch(/gain map/);
});

test('a gain map that does not fit the classes names nothing', () => {
  const b = blocks(new Rng('odd'));
  const v = scoreEnsemble(state, b);
  const odd = fp({ ...b, [TOKEN_GAIN_MAP_BLOCK]: new Float32Array(V * K - 1) });
  expect(gainMapFinding(v, odd)).toBeUndefined();
});
