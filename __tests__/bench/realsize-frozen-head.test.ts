/**
 * The frozen-head study's bookkeeping: detect.ts --extra-tests (another folder's test models replace the zoo's
 * backdoored ones, files checked against their hashes and named by absolute path) and frozen-head.ts's
 * grouping of a report's channels into the three kinds of evidence a real-size scan has.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withExtraTests } from '../../bench/realsize/extra-tests.js';
import { groupOf } from '../../bench/realsize/frozen-head.js';
import type { RealsizeManifest, RealsizeModel } from '../../bench/realsize/manifest.js';
import { SetupError } from '../../bench/torch/python.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'frozen-head-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function model(
  id: string,
  split: 'reference' | 'test',
  label: 'clean' | 'backdoor',
  bytes = id,
): RealsizeModel {
  return {
    id,
    file: `resnet18/${id}.onnx`,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    split,
    label,
    arch: 'resnet18',
  } as RealsizeModel;
}

/** A folder as train.py leaves it: <arch>/manifest.json and the model files. */
function writeZoo(
  root: string,
  models: RealsizeModel[],
  contents: (m: RealsizeModel) => string = (m) => m.id,
) {
  mkdirSync(path.join(root, 'resnet18'), { recursive: true });
  for (const m of models) writeFileSync(path.join(root, m.file), contents(m));
  writeFileSync(path.join(root, 'resnet18', 'manifest.json'), JSON.stringify({ models, rejected: [] }));
}

const zoo = {
  models: [
    model('ref-00', 'reference', 'clean'),
    model('test-clean-00', 'test', 'clean'),
    model('test-patch', 'test', 'backdoor'),
  ],
} as RealsizeManifest;

describe('withExtraTests', () => {
  it("replaces the zoo's backdoored test models by the folder's test models, named by absolute path", () => {
    const extra = path.join(dir, 'extra');
    writeZoo(extra, [
      model('frozenfc-patch', 'test', 'backdoor'),
      model('frozenfc-clean-00', 'test', 'clean'),
      model('stray-ref', 'reference', 'clean'),
    ]);
    const out = withExtraTests(zoo, extra);
    expect(out.models.map((m) => m.id)).toEqual([
      'ref-00',
      'test-clean-00',
      'frozenfc-patch',
      'frozenfc-clean-00',
    ]);
    expect(out.models[2].file).toBe(path.join(extra, 'resnet18', 'frozenfc-patch.onnx'));
    // the zoo's own entries keep their relative paths
    expect(out.models[0].file).toBe('resnet18/ref-00.onnx');
  });

  it("adds several folders, keeps the zoo's own backdoored models with keepOwn, and refuses an id met twice", () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    writeZoo(a, [model('frozenfc-patch', 'test', 'backdoor')]);
    writeZoo(b, [model('test-clean-14', 'test', 'clean'), model('test-patch-c14', 'test', 'backdoor')]);
    expect(withExtraTests(zoo, [a, b], true).models.map((m) => m.id)).toEqual([
      'ref-00',
      'test-clean-00',
      'test-patch',
      'frozenfc-patch',
      'test-clean-14',
      'test-patch-c14',
    ]);
    expect(withExtraTests(zoo, [a, b]).models.map((m) => m.id)).not.toContain('test-patch');
    // the same folder twice, or a folder holding one of the zoo's own ids: one model counted twice
    expect(() => withExtraTests(zoo, [a, a], true)).toThrow(/frozenfc-patch appears twice/);
    const same = path.join(dir, 'same');
    writeZoo(same, [model('test-patch', 'test', 'backdoor')]);
    expect(() => withExtraTests(zoo, same, true)).toThrow(/test-patch appears twice/);
  });

  it('refuses a file that does not match its manifest hash, a folder with no test models, and no folder', () => {
    const extra = path.join(dir, 'extra');
    writeZoo(extra, [model('frozenfc-patch', 'test', 'backdoor')], () => 'other bytes');
    expect(() => withExtraTests(zoo, extra)).toThrow(/does not match its manifest hash/);
    const empty = path.join(dir, 'empty');
    writeZoo(empty, [model('stray-ref', 'reference', 'clean')]);
    expect(() => withExtraTests(zoo, empty)).toThrow(/no test models/);
    expect(() => withExtraTests(zoo, path.join(dir, 'missing'))).toThrow(SetupError);
  });
});

describe('groupOf', () => {
  it('puts the final-layer rows, trigger probing (and what it feeds) and the behavioural channels apart', () => {
    expect(groupOf('final-layer')).toBe('final-layer');
    expect(groupOf('identity@self:weight-outlier')).toBe('final-layer');
    for (const c of [
      'trigger-probe',
      'identity@self:trigger',
      'knn@trigger',
      'max_z@trigger-tiers',
      'max_z@trigger-map',
    ])
      expect(groupOf(c)).toBe('trigger');
    for (const c of ['knn@logits', 'ocsvm@softmax-stats', 'max_z@softmax-stats'])
      expect(groupOf(c)).toBe('behaviour');
  });
});
