/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * readModel and inspectModel on real files: every refusal with its code and message, a PyTorch-style export
 * read and inspected with all layers and shapes, and external data (allowed inside the folder only).
 */
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { InputError } from '../../src/errors.js';
import { formatInspect, inspectModel } from '../../src/model/inspect.js';
import { readModel } from '../../src/model/read.js';
import { runProbes } from '../../src/model/session.js';
import { GraphBuilder, attr, encodeTensorData } from '../../src/model/write.js';
import { generateProbes } from '../../src/probes/generate.js';
import { buildCnn, buildMlp, buildPytorchStyle, buildTokenModel, buildTwoInput } from '../fixtures/models.js';

const { onnx } = onnxProto;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mfp-read-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function put(name: string, bytes: Uint8Array | string): string {
  const p = path.join(dir, name);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, bytes);
  return p;
}

async function refusal(p: string): Promise<InputError> {
  try {
    await readModel(p);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error(`${p} was accepted`);
}

/** A tiny model whose weight lives in an external file at `location`. */
function externalModel(location: string): Uint8Array {
  const g = new GraphBuilder();
  g.addInput('x', 'float32', ['N', 2]);
  g.addInitializer('w', 'float32', [3, 2], null, { location, offset: 0, length: 24 });
  g.addNode('Gemm', ['x', 'w'], ['y'], { transB: attr.int(1) });
  g.addOutput('y', 'float32', ['N', 3]);
  return g.toBytes();
}

describe('readModel refusals', () => {
  test.each([
    ['empty.onnx', 'empty-file', new Uint8Array(0), /empty/],
    [
      'lfs.onnx',
      'lfs-pointer',
      'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1234\n',
      /Git LFS pointer.*lfs: true.*git lfs pull/,
    ],
    [
      'model.pt',
      'pickle-file',
      new Uint8Array([0x80, 0x04, 0x95, 0x10, 0, 0]),
      /pickle.*torch\.onnx\.export/,
    ],
    [
      'model.pth',
      'zip-file',
      new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]),
      /zip archive.*torch\.onnx\.export/,
    ],
    ['notes.onnx', 'not-onnx', 'this is a readme, not a model\n', /text file/],
    ['garbage.onnx', 'not-onnx', new Uint8Array([0xff, 0x00, 0x13, 0x37]), /not an ONNX model/],
    ['array.npy', 'not-onnx', Uint8Array.from([0x93, ...Buffer.from('NUMPY'), 1, 0]), /numpy/],
    [
      'keras.h5',
      'not-onnx',
      Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0]),
      /HDF5.*tf2onnx/,
    ],
    [
      'w.safetensors',
      'not-onnx',
      Uint8Array.from([16, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from('{"a":1}       ')]),
      /safetensors/,
    ],
  ])('%s is refused as %s', async (name, code, bytes, message) => {
    const p = put(name, bytes);
    const e = await refusal(p);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    expect(e.message).toContain(p);
  });

  test('a model cut in half is reported as truncated, naming the file', async () => {
    const full = buildCnn();
    const p = put('half.onnx', full.subarray(0, Math.floor(full.length / 2)));
    const e = await refusal(p);
    expect(e.code).toBe('truncated');
    expect(e.message).toContain(p);
  });

  test('a missing file and a directory are refused', async () => {
    expect((await refusal(path.join(dir, 'nope.onnx'))).code).toBe('not-found');
    mkdirSync(path.join(dir, 'adir.onnx'), { recursive: true });
    expect((await refusal(path.join(dir, 'adir.onnx'))).code).toBe('bad-argument');
  });

  test('the size limit is checked before reading', async () => {
    const p = put('big.onnx', buildMlp());
    await expect(readModel(p, { maxFileBytes: 100 })).rejects.toMatchObject({ code: 'too-large' });
  });

  test('the total tensor element limit is enforced from declared dims', async () => {
    const g = new GraphBuilder();
    g.addInput('x', 'float32', ['N', 2]);
    g.addInitializer('w', 'float32', [100000, 100000], null); // declared only: 1e10 elements
    g.addNode('Gemm', ['x', 'w'], ['y'], { transB: attr.int(1) });
    g.addOutput('y');
    const e = await refusal(put('huge-declared.onnx', g.toBytes()));
    expect(e.code).toBe('too-large');
  });

  test.each([
    ['../../x', /leaves the model directory/],
    ['/etc/passwd', /absolute path/],
    ['sub/../../y', /leaves the model directory/],
  ])('external data at %s is refused', async (location, message) => {
    const p = put(`ext-${location.replace(/\W/g, '_')}/m.onnx`, externalModel(location));
    const e = await refusal(p);
    expect(e.code).toBe('external-data');
    expect(e.message).toContain(location);
    expect(e.message).toContain(p);
    expect(e.message).toMatch(message);
  });

  test('external data through a symlink leaving the folder is refused', async () => {
    const secret = put('outside/secret.bin', new Uint8Array(24));
    const p = put('linked/m.onnx', externalModel('weights.bin'));
    symlinkSync(secret, path.join(dir, 'linked', 'weights.bin'));
    const e = await refusal(p);
    expect(e.code).toBe('external-data');
    expect(e.message).toMatch(/symlink/);
  });

  test('external data inside the folder is read and runs like embedded weights', async () => {
    const w = Float32Array.from([1, 2, 3, 4, 5, 6]);
    put('extok/weights.bin', encodeTensorData('float32', w));
    const p = put('extok/m.onnx', externalModel('weights.bin'));
    const model = await readModel(p);
    expect(model.initializers[0].externalPath).toMatch(/extok[/\\]weights\.bin$/);
    const probes = generateProbes(model.inputs, { count: 3, seed: 1 });
    const run = await runProbes(model, probes);
    const x = probes.inputs[0].data as Float32Array;
    const y = run.tensors.get('y')!.data;
    for (let b = 0; b < 3; b++)
      for (let o = 0; o < 3; o++) {
        const want = w[o * 2] * x[b * 2] + w[o * 2 + 1] * x[b * 2 + 1];
        expect(y[b * 3 + o]).toBeCloseTo(want, 5);
      }
  });

  test('a cycle (a node reading its own output) is refused as invalid-graph', async () => {
    const g = new GraphBuilder();
    g.addInput('x', 'float32', ['N', 2]);
    g.addNode('Add', ['x', 'loop'], ['loop'], {}, { name: 'selfish' });
    g.addOutput('loop');
    const e = await refusal(put('cycle.onnx', g.toBytes()));
    expect(e.code).toBe('invalid-graph');
    expect(e.message).toMatch(/cycle.*selfish/);
  });

  test('an operator from an unknown domain is refused before ORT sees it', async () => {
    const g = new GraphBuilder({ extraOpsets: [{ domain: 'com.evil', version: 1 }] });
    g.addInput('x', 'float32', ['N', 2]);
    g.addNode('Backdoor', ['x'], ['y'], {}, { domain: 'com.evil', name: 'trojan' });
    g.addOutput('y');
    const e = await refusal(put('custom-op.onnx', g.toBytes()));
    expect(e.code).toBe('unknown-operator');
    expect(e.message).toMatch(/com\.evil::Backdoor/);
  });

  test('a second graph record appended to a valid model (ORT would merge it) is refused', async () => {
    const g = new GraphBuilder();
    g.addInitializer('hidden', 'float32', [1], null, { location: '/etc/passwd' });
    const extra = g.toBytes();
    const mlp = buildMlp();
    const e = await refusal(put('two-graphs.onnx', Buffer.concat([mlp, extra])));
    expect(e.code).toBe('invalid-graph');
    expect(e.message).toMatch(/2 "graph" records/);
  });

  test('external data outside graph initializers (a Constant attribute) is refused', async () => {
    const g = new GraphBuilder();
    g.addInput('x', 'float32', ['N', 2]);
    g.addNode('Constant', [], ['c'], {
      value: { tensor: { dtype: 'float32', dims: [2], data: [1, 2] } },
    });
    g.addNode('Add', ['x', 'c'], ['y']);
    g.addOutput('y');
    const proto = g.toProto();
    const t = proto.graph!.node![0].attribute![0].t!;
    t.rawData = new Uint8Array(0);
    t.dataLocation = 1;
    t.externalData = [{ key: 'location', value: '/etc/passwd' }];
    const e = await refusal(put('const-ext.onnx', onnx.ModelProto.encode(proto).finish()));
    expect(e.code).toBe('external-data');
    expect(e.message).toMatch(/only allowed for graph initializers/);
  });

  test('an absurd input dimension is refused', async () => {
    const g = new GraphBuilder();
    g.addInput('x', 'float32', ['N', 1_000_000]);
    g.addNode('Relu', ['x'], ['y']);
    g.addOutput('y');
    const e = await refusal(put('wide.onnx', g.toBytes()));
    expect(e.code).toBe('unsupported-input');
    expect(e.message).toMatch(/1000000/);
  });
});

describe('readModel on valid models', () => {
  test('an MLP: inputs exclude initializers, layers in topological order, hash and opsets', async () => {
    const p = put('mlp.onnx', buildMlp());
    const m = await readModel(p);
    expect(m.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: ['N', 16] }]);
    expect(m.outputs[0]).toEqual({ name: 'logits', dtype: 'float32', shape: ['N', 4] });
    expect(m.layers.map((l) => l.op)).toEqual(['Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
    expect(m.opsets).toEqual([{ domain: '', version: 13 }]);
    expect(m.irVersion).toBe(8);
    expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.initializers.map((t) => t.dims)).toEqual([[12, 16], [12], [8, 12], [8], [4, 8], [4]]);
  });

  test('a model starting with a long text doc_string is not mistaken for a text file', async () => {
    const g = new GraphBuilder({ docString: 'A model card. '.repeat(80) });
    g.addInput('x', 'float32', ['N', 2]);
    g.addNode('Relu', ['x'], ['y']);
    g.addOutput('y');
    const proto = g.toProto();
    // Put doc_string (field 6) first, as a hand-made file might, so the first 512 bytes are all text.
    const { onnx: o } = onnxProto;
    const doc = o.ModelProto.encode({ docString: proto.docString }).finish();
    const rest = o.ModelProto.encode({
      irVersion: proto.irVersion,
      opsetImport: proto.opsetImport,
      graph: proto.graph,
    }).finish();
    const m = await readModel(put('doc-first.onnx', Buffer.concat([doc, rest])));
    expect(m.proto.docString).toMatch(/^A model card/);
    expect(m.layers.map((l) => l.op)).toEqual(['Relu']);
  });

  test('nodes listed out of order are sorted topologically', async () => {
    const g = new GraphBuilder();
    g.addInput('x', 'float32', ['N', 2]);
    g.addNode('Relu', ['a'], ['b'], {}, { name: 'second' });
    g.addNode('Neg', ['x'], ['a'], {}, { name: 'first' });
    g.addOutput('b');
    const m = await readModel(put('unsorted.onnx', g.toBytes()));
    expect(m.layers.map((l) => l.node)).toEqual(['first', 'second']);
  });

  test('a model as PyTorch exports it reads and inspects with every layer and shape', async () => {
    const p = put('torch.onnx', buildPytorchStyle());
    const r = await inspectModel(p);
    expect(r.producer).toBe('pytorch 2.1.0');
    expect(r.inputs[0]).toEqual({ name: 'input', dtype: 'float32', shape: ['batch_size', 1, 12, 12] });
    expect(r.shapeNote).toBeUndefined();
    expect(r.layers.map((l) => [l.name, l.op, l.shape])).toEqual([
      ['/conv1/Conv_output_0', 'Conv', [-1, 4, 12, 12]],
      ['/relu1/Relu_output_0', 'Relu', [-1, 4, 12, 12]],
      ['/pool/MaxPool_output_0', 'MaxPool', [-1, 4, 6, 6]],
      ['/bn2/BatchNormalization_output_0', 'BatchNormalization', [-1, 4, 6, 6]],
      ['/pool2/AveragePool_output_0', 'AveragePool', [-1, 4, 5, 5]],
      ['/Flatten_output_0', 'Flatten', [-1, 100]],
      ['output', 'Gemm', [-1, 6]],
    ]);
    const text = formatInspect(r);
    expect(text).toContain('/bn2/BatchNormalization_output_0');
    expect(text).toContain('[N, 4, 6, 6]');
    expect(text).toContain('input  float32[batch_size, 1, 12, 12]');
  });

  test('inspect fills shapes for two-input and token-id models', async () => {
    const two = await inspectModel(put('two.onnx', buildTwoInput()));
    expect(two.inputs.map((i) => i.name)).toEqual(['a', 'b']);
    expect(two.layers.find((l) => l.name === '/Add_output_0')?.shape).toEqual([-1, 6]);
    const tok = await inspectModel(put('tok.onnx', buildTokenModel()));
    expect(tok.inputs[0].dtype).toBe('int64');
    expect(tok.layers.find((l) => l.op === 'Gather')?.shape).toEqual([-1, 6, 8]);
  });

  test('inspect keeps going with null shapes when a symbolic dim has no size', async () => {
    const g = new GraphBuilder();
    g.addInput('x', 'float32', ['N', 'features']);
    g.addNode('Relu', ['x'], ['y']);
    g.addOutput('y');
    const r = await inspectModel(put('symbolic.onnx', g.toBytes()));
    expect(r.layers[0].shape).toBeNull();
    expect(r.shapeNote).toMatch(/symbolic dimension "features"/);
  });
});
