/**
 * The patch map as a separate test, end to end on synthetic fingerprints through the real ensemble, the
 * final verdict and the explanation: one patch position that sends inputs into one class far more often
 * than in any reference decides the verdict, and the report names that position and class (not trigger
 * probing's class), so the PR comment points at the trigger.
 */
import type { Fingerprint } from '../../src/fingerprint/types.js';
import { TRIGGER_MAP_BLOCK, TRIGGER_MAP_MAD_FLOOR } from '../../src/baseline/config.js';
import { Rng } from '../../src/probes/rng.js';
import { scoreEnsemble } from '../../src/score/ensemble.js';
import { EMPTY_MANIFEST, separateTestState } from '../helpers/separate-test-state.js';
import { finalVerdict } from '../../src/score/final.js';
import { explain, mapFinding } from '../../src/scan/explain.js';
import { mapFeature, sweepPatches } from '../../src/selfcheck/sweep.js';
import type { ImageGeometry } from '../../src/selfcheck/triggers.js';

const G14: ImageGeometry = { c: 1, h: 14, w: 14 };
const K = 10;
const P = sweepPatches(G14, { lo: 0, hi: 1 }, 1).length;

function blocks(rng: Rng): Record<string, Float32Array> {
  // clean models: most positions send no input anywhere; now and then one input (1/8) somewhere
  const map = Float32Array.from({ length: P * K }, () => (rng.next() < 0.03 ? 0.125 : 0));
  const logits = Float32Array.from({ length: 20 }, () => rng.normal());
  return { logits, [TRIGGER_MAP_BLOCK]: map };
}

function fp(b: Record<string, Float32Array>, basis = 'samples'): Fingerprint {
  const selfChecks = { trigger: { score: 0, pValue: 1, targetClass: 0, detail: '', basis } };
  return { header: { model: { classes: K } }, blocks: b, selfChecks } as unknown as Fingerprint;
}

const rng = new Rng('patch-map-finding');
const refs = Array.from({ length: 40 }, () => blocks(rng));
const state = separateTestState(refs, TRIGGER_MAP_BLOCK, TRIGGER_MAP_MAD_FLOOR);
const manifest = EMPTY_MANIFEST;

test('mapFeature: a feature index is (solid patch, class), in sweepPatches order', () => {
  const patches = sweepPatches(G14, { lo: 0, hi: 1 }, 1);
  const f = mapFeature(G14, { lo: 0, hi: 1 }, K, 37 * K + 4, P * K);
  expect(f?.cls).toBe(4);
  expect(f?.trigger.location).toBe(patches[37].location);
  expect(mapFeature(G14, { lo: 0, hi: 1 }, K, P * K, P * K)).toBeUndefined();
  expect(mapFeature(G14, { lo: 0, hi: 1 }, K, -1, P * K)).toBeUndefined();
  // a map of another length was made on another geometry
  expect(mapFeature(G14, { lo: 0, hi: 1 }, K, 4, (P - 1) * K)).toBeUndefined();
});

test('one position lighting up one class decides the verdict, and the report names it', () => {
  const patch = sweepPatches(G14, { lo: 0, hi: 1 }, 1).findIndex(
    (t) => t.kind === 'patch' && t.patch?.size === 5 && t.patch.top === 0 && t.patch.left === 0,
  );
  const b = blocks(new Rng('backdoored'));
  b[TRIGGER_MAP_BLOCK][patch * K + 8] = 0.875; // 7 of 8 inputs into class 8
  const model = fp(b);
  const v = scoreEnsemble(state, b);
  const final = finalVerdict(v.pValue, model, 'bonferroni', undefined, v.separate);
  expect(final.decidedBy).toBe(TRIGGER_MAP_BLOCK);
  expect(final.combined).toEqual(['ensemble', 'trigger', TRIGGER_MAP_BLOCK]);
  expect(final.pValue).toBeLessThan(0.0153); // high
  const found = mapFinding(v, model, ['N', 1, 14, 14]);
  expect(found).toMatchObject({ cls: 8, flipRate: 0.875 });
  expect(found?.location).toBe('bright 5x5 patch at the top-left corner (row 0, column 0)');
  const e = explain(v, final, model, manifest, ['N', 1, 14, 14]);
  expect(e.suspectedTargetClass).toBe(8);
  expect(e.trigger).toMatchObject({ kind: 'patch:solid', flipRate: 0.875 });
  expect(e.summary).toMatch(
    /Patch map: a bright 5x5 patch at the top-left corner \(row 0, column 0\) sends 88% of the samples into class 8/,
  );
  expect(e.summary).toMatch(/with the trigger test and the patch map, Bonferroni/);
  // without samples the map was measured on the inputs mined from the model: the words say so
  const mined = explain(v, final, fp(b, 'mined'), manifest, ['N', 1, 14, 14]);
  expect(mined.summary).toMatch(/sends 88% of the inputs mined from the model into class 8/);
  // an input shape the map was not made on: the verdict stands, the words stay general
  const other = explain(v, final, model, manifest, ['N', 3, 32, 32]);
  expect(other.summary).toMatch(/Patch map: a patch at one position/);
});

test('a clean model: the map does not decide and the explanation does not mention it', () => {
  const b = blocks(new Rng('clean-test'));
  const v = scoreEnsemble(state, b);
  const final = finalVerdict(v.pValue, fp(b), 'bonferroni', undefined, v.separate);
  expect(final.riskLevel).not.toBe('high');
  expect(explain(v, final, fp(b), manifest, ['N', 1, 14, 14]).summary).not.toMatch(/Patch map:/);
});
