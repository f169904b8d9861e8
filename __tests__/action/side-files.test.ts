/**
 * A pull request that changes only a model's external tensor data (PyTorch's `model.onnx.data`) must get
 * that model scanned: src/action/side-files.ts on real files, and the action end to end against the fake
 * GitHub server.
 */
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { GraphBuilder, attr } from '../../src/model/write.js';
import { SIDE_FILE_SEARCH_MAX_BYTES } from '../../src/limits.js';
import { modelsUsingSideFiles, SIDE_FILE_MAX_NAMES } from '../../src/action/side-files.js';
import { Harness } from './harness.js';

/** A real ONNX model whose Gemm weight lives in the external file `location` (relative to the model). */
function externalDataModel(location: string): Uint8Array {
  const g = new GraphBuilder();
  g.addInput('input', 'float32', ['N', 1, 14, 14]);
  g.addNode('Flatten', ['input'], ['flat'], { axis: attr.int(1) });
  g.addInitializer('w', 'float32', [10, 196], null, { location, offset: 0, length: 10 * 196 * 4 });
  g.addNode('Gemm', ['flat', 'w'], ['logits'], { transB: attr.int(1) });
  g.addOutput('logits', 'float32', ['N', 10]);
  return g.toBytes();
}

/** A real ONNX model with its weights inline (no side file). */
function inlineModel(): Uint8Array {
  const g = new GraphBuilder();
  g.addInput('input', 'float32', ['N', 1, 14, 14]);
  g.addNode('Flatten', ['input'], ['flat'], { axis: attr.int(1) });
  g.addNode('ReduceMean', ['flat'], ['logits'], { axes: attr.ints([1]), keepdims: attr.int(1) });
  g.addOutput('logits', 'float32', ['N', 1]);
  return g.toBytes();
}

let ws: string;
beforeEach(() => {
  ws = mkdtempSync(join(os.tmpdir(), 'side-files-'));
});
afterEach(() => rmSync(ws, { recursive: true, force: true }));

function put(rel: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(join(ws, rel)), { recursive: true });
  writeFileSync(join(ws, rel), bytes);
}

describe('modelsUsingSideFiles', () => {
  test('a changed .onnx.data selects the model that names it, not its neighbours or other folders', () => {
    put('models/net.onnx', externalDataModel('net.onnx.data'));
    put('models/net.onnx.data', new Uint8Array(10 * 196 * 4));
    put('models/plain.onnx', inlineModel());
    put('other/net.onnx', externalDataModel('net.onnx.data'));
    const models = ['models/net.onnx', 'models/plain.onnx', 'other/net.onnx'];
    expect(modelsUsingSideFiles(ws, ['models/net.onnx.data'], models)).toEqual([
      { model: 'models/net.onnx', sideFile: 'models/net.onnx.data', why: 'reference' },
    ]);
    // a file the model does not name, and the same name in a folder the model cannot read from
    expect(modelsUsingSideFiles(ws, ['models/README.md'], models)).toEqual([]);
    expect(modelsUsingSideFiles(ws, ['elsewhere/net.onnx.data'], models)).toEqual([]);
  });

  test('a side file in a subfolder, a differently cased name, and a model at the repository root', () => {
    put('models/a.onnx', externalDataModel('weights/A.BIN'));
    put('root.onnx', externalDataModel('deep/w.data'));
    expect(modelsUsingSideFiles(ws, ['models/weights/a.bin'], ['models/a.onnx'])).toEqual([
      { model: 'models/a.onnx', sideFile: 'models/weights/a.bin', why: 'reference' },
    ]);
    expect(modelsUsingSideFiles(ws, ['deep/w.data'], ['root.onnx'])).toEqual([
      { model: 'root.onnx', sideFile: 'deep/w.data', why: 'reference' },
    ]);
  });

  test('a name split across two read chunks is still found', () => {
    // 1 MiB chunks: put the name across the first boundary
    const bytes = Buffer.alloc(2 * 1024 * 1024, 0x20);
    Buffer.from('weights.bin').copy(bytes, 1024 * 1024 - 4);
    put('m/big.onnx', bytes);
    expect(modelsUsingSideFiles(ws, ['m/weights.bin'], ['m/big.onnx'])).toHaveLength(1);
    expect(modelsUsingSideFiles(ws, ['m/weights.binx'], ['m/big.onnx'])).toEqual([]);
  });

  test('too large to search, or too many changed names: scanned without searching', () => {
    put('m/huge.onnx', '');
    truncateSync(join(ws, 'm/huge.onnx'), SIDE_FILE_SEARCH_MAX_BYTES + 1); // sparse: no disk used
    expect(modelsUsingSideFiles(ws, ['m/notes.txt'], ['m/huge.onnx'])).toEqual([
      { model: 'm/huge.onnx', sideFile: 'm/notes.txt', why: 'too-large' },
    ]);
    put('n/small.onnx', inlineModel());
    const many = Array.from({ length: SIDE_FILE_MAX_NAMES + 1 }, (_, i) => `n/f${i}.txt`);
    expect(modelsUsingSideFiles(ws, many, ['n/small.onnx'])[0]?.why).toBe('too-many');
    expect(modelsUsingSideFiles(ws, many.slice(0, SIDE_FILE_MAX_NAMES), ['n/small.onnx'])).toEqual([]);
  });
});

describe('the action on a pull request that changes only the weights file', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await new Harness().start();
  });
  afterEach(async () => {
    await h.stop();
  });

  function write(rel: string, bytes: Uint8Array): void {
    mkdirSync(dirname(join(h.workspace, rel)), { recursive: true });
    writeFileSync(join(h.workspace, rel), bytes);
  }

  test('the model reading the changed .onnx.data is scanned, and the log says why', async () => {
    write('models/net.onnx', externalDataModel('net.onnx.data'));
    write('models/net.onnx.data', new Uint8Array(10 * 196 * 4));
    write('models/plain.onnx', inlineModel());
    h.fake.prFiles = [
      { filename: 'models/net.onnx.data', status: 'modified' },
      { filename: 'README.md', status: 'modified' },
    ];
    await h.run({ event: 'pull_request' });
    expect(h.scanCalls[0].paths).toEqual([join(h.workspace, 'models/net.onnx')]);
    expect(h.stdout).toContain('models/net.onnx is scanned: it names models/net.onnx.data, which changed');
  });

  test('a renamed weights file gets the model naming its old name scanned (it no longer loads)', async () => {
    write('models/net.onnx', externalDataModel('net.onnx.data'));
    h.fake.prFiles = [
      { filename: 'models/moved.bin', status: 'renamed', previous_filename: 'models/net.onnx.data' },
    ];
    await h.run({ event: 'pull_request' });
    expect(h.scanCalls[0].paths).toEqual([join(h.workspace, 'models/net.onnx')]);
  });

  test('a deleted weights file still gets its model scanned (the scan then fails it, not skips it)', async () => {
    write('models/net.onnx', externalDataModel('net.onnx.data'));
    h.fake.prFiles = [{ filename: 'models/net.onnx.data', status: 'removed' }];
    await h.run({ event: 'pull_request' });
    expect(h.scanCalls[0].paths).toEqual([join(h.workspace, 'models/net.onnx')]);
  });
});
