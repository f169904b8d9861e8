/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * Running probes through one real ORT session: exposed intermediates leave the logits bit-identical (Relu
 * exposures at ORT's 'all' level, any exposure with optimisations off),
 * batching does not change results, fixed-batch models are padded, and failures map to InputErrors
 * (NaN weights, runtime errors, time and memory limits).
 */
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXPOSE_SPARE_BYTES, exposeOutputs, exposeOutputsLease } from '../../src/model/graph.js';
import { parseModel, readModel } from '../../src/model/read.js';
import { ModelRunner, optimizationLevelFor, runProbes } from '../../src/model/session.js';
import { GraphBuilder, attr, writeSequentialModel, type LayerSpec } from '../../src/model/write.js';
import { Rng } from '../../src/probes/rng.js';
import { generateProbes } from '../../src/probes/generate.js';
import { buildCnn, buildMlp, buildTwoInput, cnnLayers } from '../fixtures/models.js';

const { onnx } = onnxProto;

describe('exposeOutputs', () => {
  test('appends outputs after the original bytes (kept byte for byte), merged by ORT', async () => {
    const bytes = buildMlp();
    const out = exposeOutputs(bytes, ['/layers.1/Relu_output_0'], ['logits'], {
      '/layers.1/Relu_output_0': 'float32',
    });
    expect(Buffer.from(out.subarray(0, bytes.length)).equals(Buffer.from(bytes))).toBe(true);
    // protobufjs replaces a repeated sub-message instead of merging it; ORT (C++ protobuf) merges.
    const appended = onnx.ModelProto.decode(out.subarray(bytes.length));
    expect(appended.graph!.output!.map((o) => o.name)).toEqual(['/layers.1/Relu_output_0']);
    const session = await ort.InferenceSession.create(out);
    expect(session.outputNames).toEqual(['logits', '/layers.1/Relu_output_0']);
    await session.release();
    expect(exposeOutputs(bytes, ['logits'], ['logits'])).toBe(bytes);
  });

  test('a model read from disk is exposed in place (no copy), equal to the copying path, one lease at a time', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lease-'));
    try {
      const bytes = buildMlp();
      const file = path.join(dir, 'mlp.onnx');
      writeFileSync(file, bytes);
      const model = await readModel(file);
      expect(Buffer.from(model.bytes).equals(Buffer.from(bytes))).toBe(true);
      expect(model.bytes.buffer.byteLength).toBe(bytes.length + EXPOSE_SPARE_BYTES);
      const layer = '/layers.1/Relu_output_0';
      const copied = exposeOutputs(model.bytes, [layer], ['logits']);
      const first = exposeOutputsLease(model.bytes, [layer], ['logits']);
      expect(first.bytes.buffer).toBe(model.bytes.buffer); // in place
      expect(Buffer.from(first.bytes).equals(Buffer.from(copied))).toBe(true);
      // while lent, a second exposure (other outputs) must not overwrite the first: it gets a copy
      const second = exposeOutputsLease(model.bytes, ['/layers.3/Relu_output_0'], ['logits']);
      expect(second.bytes.buffer).not.toBe(model.bytes.buffer);
      expect(Buffer.from(first.bytes).equals(Buffer.from(copied))).toBe(true);
      const session = await ort.InferenceSession.create(first.bytes);
      expect(session.outputNames).toEqual(['logits', layer]);
      await session.release();
      first.release();
      second.release();
      expect(exposeOutputsLease(model.bytes, [layer], ['logits']).bytes.buffer).toBe(model.bytes.buffer);
      // the model's own bytes never change
      expect(Buffer.from(model.bytes).equals(Buffer.from(bytes))).toBe(true);
      // runProbes through the leased session: the same activations as from the in-memory model
      const probes = generateProbes(model.inputs, { count: 5, seed: 1 });
      const fromDisk = await runProbes(model, probes, { layers: [layer] });
      const fromMemory = await runProbes(parseModel(bytes, 'mlp.onnx'), probes, { layers: [layer] });
      expect(Array.from(fromDisk.tensors.get(layer)!.data)).toEqual(
        Array.from(fromMemory.tensors.get(layer)!.data),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bytes without room of their own (a pooled Buffer) are copied, never written past their end', () => {
    const bytes = buildMlp();
    const pool = Buffer.alloc(bytes.length + 4096, 7);
    pool.set(bytes, 0);
    const view = new Uint8Array(pool.buffer, pool.byteOffset, bytes.length);
    const lease = exposeOutputsLease(view, ['/layers.1/Relu_output_0'], ['logits']);
    expect(lease.bytes.buffer).not.toBe(pool.buffer);
    expect(pool.subarray(bytes.length).every((b) => b === 7)).toBe(true);
  });

  const bitsOf = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

  test('with optimisations off, exposing every intermediate of a CNN leaves the logits bit-identical', async () => {
    const model = parseModel(buildCnn(), 'cnn.onnx');
    const probes = generateProbes(model.inputs, { count: 9, seed: 3 });
    const every = model.layers.map((l) => l.name);
    // every intermediate includes Conv outputs feeding BatchNormalization: the rule turns optimisations off
    expect(optimizationLevelFor(model, every)).toBe('disabled');
    const plain = await runProbes(model, probes, { graphOptimization: 'disabled' });
    const exposed = await runProbes(model, probes, { layers: every });
    expect(exposed.tensors.size).toBe(model.layers.length);
    const a = plain.tensors.get('logits')!.data;
    const b = exposed.tensors.get('logits')!.data;
    expect(bitsOf(b).equals(bitsOf(a))).toBe(true);
    expect(exposed.tensors.get('/layers.3/MaxPool_output_0')!.shape).toEqual([9, 4, 7, 7]);
  });

  test("Relu exposures run at ORT's 'all' level and leave the logits bit-identical to a plain session", async () => {
    // a residual CNN wide enough for ORT's NCHWc convolutions (which fuse a residual Add into the conv)
    const rng = new Rng(11);
    const conv = (cin: number, cout: number): LayerSpec => ({
      kind: 'conv',
      weight: rng.normals(cout * cin * 9, 0, Math.sqrt(2 / (cin * 9))),
      inChannels: cin,
      outChannels: cout,
      kernel: 3,
      pad: 1,
      bias: rng.normals(cout, 0, 0.01),
    });
    const layers: LayerSpec[] = [conv(3, 16), { kind: 'relu' }];
    for (let b = 0; b < 2; b++)
      layers.push(
        { kind: 'residual', body: [conv(16, 16), { kind: 'relu' }, conv(16, 16)] },
        { kind: 'relu' },
      );
    layers.push(
      { kind: 'globalavgpool' },
      { kind: 'flatten' },
      { kind: 'dense', weight: rng.normals(16 * 5, 0, 0.3), inFeatures: 16, outFeatures: 5 },
    );
    const model = parseModel(writeSequentialModel({ inputShape: ['N', 3, 8, 8], layers }), 'res.onnx');
    const probes = generateProbes(model.inputs, { count: 6, seed: 2 });
    const relus = model.layers.filter((l) => l.op === 'Relu').map((l) => l.name);
    expect(relus.length).toBe(5);
    expect(optimizationLevelFor(model, relus)).toBe('all');
    expect(optimizationLevelFor(model, [])).toBe('all');
    const conv0 = model.layers.find((l) => l.op === 'Conv')!.name;
    expect(optimizationLevelFor(model, [...relus, conv0])).toBe('disabled');
    const plain = await runProbes(model, probes);
    const logits = plain.tensors.get(model.outputs[0].name)!.data;
    for (const exposeSet of [relus, relus.slice(-2), [relus[2]]]) {
      const exposed = await runProbes(model, probes, { layers: exposeSet });
      expect(bitsOf(exposed.tensors.get(model.outputs[0].name)!.data).equals(bitsOf(logits))).toBe(true);
      for (const l of exposeSet) expect(exposed.tensors.get(l)!.shape[0]).toBe(6);
    }
    // the same graph without optimisations agrees to float32 rounding (the fused kernels round differently)
    const off = await runProbes(model, probes, { graphOptimization: 'disabled' });
    const offLogits = off.tensors.get(model.outputs[0].name)!.data;
    for (let i = 0; i < logits.length; i++) expect(Math.abs(offLogits[i] - logits[i])).toBeLessThan(1e-4);
  });
});

describe('runProbes', () => {
  test('batch size does not change the results', async () => {
    const model = parseModel(buildCnn(), 'cnn.onnx');
    const probes = generateProbes(model.inputs, { count: 10, seed: 5 });
    const one = await runProbes(model, probes, { batchSize: 1, layers: ['/layers.8/Relu_output_0'] });
    const four = await runProbes(model, probes, { batchSize: 4, layers: ['/layers.8/Relu_output_0'] });
    expect(four.batchSize).toBe(4);
    for (const name of ['logits', '/layers.8/Relu_output_0']) {
      const x = one.tensors.get(name)!.data;
      const y = four.tensors.get(name)!.data;
      expect(x.length).toBe(y.length);
      for (let i = 0; i < x.length; i++) expect(Math.abs(x[i] - y[i])).toBeLessThan(1e-5);
    }
  });

  test('a model with a fixed batch of 1 runs probe by probe', async () => {
    const bytes = writeSequentialModel({ inputShape: [1, 1, 14, 14], layers: cnnLayers(2) });
    const model = parseModel(bytes, 'fixed.onnx');
    const probes = generateProbes(model.inputs, { count: 3, seed: 1 });
    const run = await runProbes(model, probes, { batchSize: 32 });
    expect(run.batchSize).toBe(1);
    expect(run.tensors.get('logits')!.shape).toEqual([3, 10]);
  });

  test('a model with a fixed batch of 4 is padded and the padding dropped', async () => {
    const bytes = writeSequentialModel({ inputShape: [4, 1, 14, 14], layers: cnnLayers(2) });
    const fixed = parseModel(bytes, 'fixed4.onnx');
    const dynamic = parseModel(buildCnn(2), 'dyn.onnx');
    const probes = generateProbes(fixed.inputs, { count: 6, seed: 2 });
    const a = await runProbes(fixed, probes);
    const b = await runProbes(dynamic, generateProbes(dynamic.inputs, { count: 6, seed: 2 }));
    expect(a.tensors.get('logits')!.shape).toEqual([6, 10]);
    const x = a.tensors.get('logits')!.data;
    const y = b.tensors.get('logits')!.data;
    for (let i = 0; i < x.length; i++) expect(Math.abs(x[i] - y[i])).toBeLessThan(1e-5);
  });

  test('a ModelRunner reuses one session; its logits function matches runProbes', async () => {
    const model = parseModel(buildCnn(), 'cnn.onnx');
    const probes = generateProbes(model.inputs, { count: 7, seed: 9 });
    const want = (await runProbes(model, probes)).tensors.get('logits')!.data;
    const runner = await ModelRunner.open(model);
    try {
      const logits = runner.logitsFunction([1, 14, 14], { batchSize: 3 });
      const x = probes.inputs[0].data as Float32Array;
      const got = await logits(x, 7);
      expect(got.length).toBe(70);
      for (let i = 0; i < 70; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5);
      const again = await logits(x.subarray(196, 392), 1);
      for (let i = 0; i < 10; i++) expect(Math.abs(again[i] - want[10 + i])).toBeLessThan(1e-5);
    } finally {
      await runner.release();
    }
  });

  test('two inputs are fed together', async () => {
    const model = parseModel(buildTwoInput(), 'two.onnx');
    const probes = generateProbes(model.inputs, { count: 5, seed: 1 });
    expect(probes.inputs.map((i) => i.name)).toEqual(['a', 'b']);
    const run = await runProbes(model, probes);
    expect(run.tensors.get('logits')!.shape).toEqual([5, 3]);
  });

  test('NaN weights are refused as non-finite-output', async () => {
    const model = parseModel(buildMlp(1, { nanWeights: true }), 'nan.onnx');
    const probes = generateProbes(model.inputs, { count: 4, seed: 1 });
    await expect(runProbes(model, probes)).rejects.toMatchObject({
      code: 'non-finite-output',
      message: expect.stringMatching(/nan\.onnx.*NaN in "logits"/),
    });
  });

  test('an ORT failure becomes a runtime-error naming the file', async () => {
    const g = new GraphBuilder();
    g.addInput('x', 'float32', ['N', 4]);
    g.addInitializer('w', 'float32', [3, 5], new Float32Array(15)); // inner dims disagree: 4 vs 5
    g.addNode('Gemm', ['x', 'w'], ['y'], { transB: attr.int(1) });
    g.addOutput('y');
    const model = parseModel(g.toBytes(), 'broken.onnx');
    const probes = generateProbes(model.inputs, { count: 2, seed: 1 });
    await expect(runProbes(model, probes)).rejects.toMatchObject({
      code: 'runtime-error',
      message: expect.stringMatching(/^broken\.onnx: ONNX Runtime/),
    });
  });

  test('the memory budget is checked before running', async () => {
    const model = parseModel(buildCnn(), 'cnn.onnx');
    const probes = generateProbes(model.inputs, { count: 8, seed: 1 });
    await expect(runProbes(model, probes, { memoryBudgetBytes: 100 })).rejects.toMatchObject({
      code: 'too-large',
    });
    await expect(
      runProbes(model, probes, { memoryBudgetBytes: 20_000, layers: model.layers.map((l) => l.name) }),
    ).rejects.toMatchObject({ code: 'too-large', message: expect.stringMatching(/captured activations/) });
  });

  test('the time limit stops a run', async () => {
    const model = parseModel(buildCnn(), 'cnn.onnx');
    const probes = generateProbes(model.inputs, { count: 64, seed: 1 });
    await expect(runProbes(model, probes, { timeLimitMs: 0, batchSize: 1 })).rejects.toMatchObject({
      code: 'timeout',
    });
  });
});
