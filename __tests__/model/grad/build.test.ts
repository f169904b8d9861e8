/**
 * The gradient builder's contract beyond the per-op rules: the forward pass inside the gradient graph is
 * bit-equal to a plain session's; graphs it cannot differentiate raise GradientUnsupported naming every
 * offending node (and nothing off the differentiated path counts); mistakes in the spec or the feeds are
 * GradientSpecErrors with the name in the message; token models give the gradient with respect to the
 * embedding lookup's output.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  buildGradientGraph,
  embeddingOutputs,
  GradientSession,
  GradientSpecError,
  GradientUnsupported,
  openGradientSession,
  supportedOps,
  type GradientSpec,
} from '../../../src/model/grad/index.js';
import { parseModel } from '../../../src/model/read.js';
import { ModelRunner } from '../../../src/model/session.js';
import { constantTensor } from '../../../src/model/tensor-data.js';
import { GraphBuilder, attr, writeSequentialModel, type LayerSpec } from '../../../src/model/write.js';
import { Rng } from '../../../src/probes/rng.js';
import {
  buildCnn,
  buildMlp,
  buildTokenModel,
  conv,
  dense,
  TOKEN_SEQ,
  TOKEN_VOCAB,
} from '../../fixtures/models.js';
import { FIXTURE_DIR } from './fixtures.js';

const { onnx } = onnxProto;
const LOGIT: GradientSpec = { terms: [{ kind: 'logit', target: 1 }] };

/** A small ResNet-style model: the residual Add that ORT fuses into the convolution at level 'all'. */
function residualModel(): Uint8Array {
  const rng = new Rng(11);
  const layers: LayerSpec[] = [
    conv(rng, 3, 8, 3, 1),
    { kind: 'relu' },
    { kind: 'residual', body: [conv(rng, 8, 8, 3, 1), { kind: 'relu' }, conv(rng, 8, 8, 3, 1)] },
    { kind: 'relu' },
    { kind: 'maxpool', kernel: 2 },
    { kind: 'globalavgpool' },
    { kind: 'flatten' },
    dense(rng, 8, 10),
  ];
  return writeSequentialModel({ inputShape: ['N', 3, 12, 12], layers });
}

function exported(name: string): Uint8Array {
  return new Uint8Array(gunzipSync(readFileSync(path.join(FIXTURE_DIR, `${name}.onnx.gz`))));
}

describe('the forward pass of the gradient graph', () => {
  const models: [string, () => Uint8Array][] = [
    ['writer CNN with BatchNorm', () => buildCnn()],
    ['writer residual CNN', residualModel],
    ['torch LeNet (TorchScript, opset 17)', () => exported('lenet-torchscript17')],
    ['torch rgb convnet (dynamo, opset 20)', () => exported('rgb-dynamo')],
    ['torch digits8 (dynamo, unoptimised)', () => exported('digits8-dynamo-raw')],
  ];
  test.each(models)(
    '%s: logits bit-equal to the project session, objective bit-equal to the logit',
    async (name, bytes) => {
      const model = parseModel(bytes(), `${name}.onnx`);
      const sample = model.inputs[0].shape.slice(1) as number[];
      const per = sample.reduce((a, b) => a * b, 1);
      const n = 6;
      const x = new Rng(5).uniforms(n * per, 0, 1);
      const runner = await ModelRunner.open(model, { threads: 1 });
      const plain = await runner.run(
        {
          count: n,
          inputs: [
            { name: model.inputs[0].name, dtype: 'float32', sampleShape: sample, batch: 'dynamic', data: x },
          ],
        },
        { batchSize: n },
      );
      await runner.release();
      const logits = plain.tensors.get(model.outputs[0].name)!.data;
      const session = await openGradientSession(model, LOGIT, { threads: 1 });
      try {
        const r = await session.run({ [model.inputs[0].name]: { data: x, dims: [n, ...sample] } });
        expect(
          Buffer.from(r.outputs[model.outputs[0].name].data.buffer).equals(Buffer.from(logits.buffer)),
        ).toBe(true);
        // batch of one: mean over one sample of logits[0, 1] (times one, plus zeros) is exact
        const one = await session.run({
          [model.inputs[0].name]: { data: x.slice(0, per), dims: [1, ...sample] },
        });
        expect(one.objective).toBe(logits[1]);
      } finally {
        await session.release();
      }
    },
  );
});

/**
 * The stride-1 convolutions' input gradients: a Conv (flipped weights) where the forward convolution reads 8
 * or more channels, a ConvTranspose of its own weights where it reads fewer. Returns [few, many].
 */
function checkConvGradients(bytes: Uint8Array): [number, number] {
  const proto = onnx.ModelProto.decode(bytes).graph!;
  const nodes = proto.node!;
  const isGrad = (n: { name?: string | null }) => (n.name ?? '').startsWith('grad/');
  const cin = (w: string) => Number(proto.initializer!.find((t) => t.name === w)!.dims![1]);
  const forwardConvs = nodes.filter((n) => n.opType === 'Conv' && !isGrad(n));
  const few = forwardConvs.filter((n) => cin(n.input![1]) < 8).map((n) => n.input![1]);
  const transposed = nodes.filter((n) => isGrad(n) && n.opType === 'ConvTranspose').map((n) => n.input![1]);
  expect(transposed.sort()).toEqual([...few].sort());
  expect(nodes.filter((n) => isGrad(n) && n.opType === 'Conv')).toHaveLength(
    forwardConvs.length - few.length,
  );
  return [few.length, forwardConvs.length - few.length];
}

describe('the backward graph', () => {
  test('stride-1 input gradients: Conv from 8 channels up, ConvTranspose below (the faster kernel for each)', () => {
    expect(checkConvGradients(buildGradientGraph(parseModel(buildCnn(), 'cnn.onnx'), LOGIT).bytes)).toEqual([
      2, 0,
    ]);
    const residual = buildGradientGraph(parseModel(residualModel(), 'res.onnx'), LOGIT).bytes;
    expect(checkConvGradients(residual)).toEqual([1, 2]);
  });

  test('a Relu and BatchNormalization before a MaxPool are differentiated in the pooled domain', () => {
    const model = parseModel(buildCnn(), 'cnn.onnx');
    const graph = buildGradientGraph(model, LOGIT);
    const nodes = onnx.ModelProto.decode(graph.bytes).graph!.node!;
    const backward = nodes.filter((n) => (n.name ?? '').startsWith('grad/'));
    // the Relu's output is read only to find each window's maximum again, never masked at full size
    const readers = backward.filter((n) => (n.input ?? []).includes('/layers.2/Relu_output_0'));
    expect(readers.map((n) => n.opType).sort()).toEqual(['MaxPool', 'Shape']);
    expect(backward.filter((n) => n.opType === 'MaxUnpool')).toHaveLength(1);
  });
});

describe('graphs without a rule', () => {
  function withOps(opset: number, build: (g: GraphBuilder) => void): Uint8Array {
    const g = new GraphBuilder({ opset });
    g.addInput('x', 'float32', ['N', 2, 4, 4]);
    build(g);
    return g.toBytes();
  }

  test('every unsupported node on the path is named, with its operator', () => {
    const bytes = withOps(13, (g) => {
      g.addNode('LRN', ['x'], ['a'], { size: attr.int(3) }, { name: '/lrn' });
      g.addNode('GlobalMaxPool', ['a'], ['b'], {}, { name: '/gmp' });
      g.addNode('Flatten', ['b'], ['logits'], {}, { name: '/flat' });
      g.addOutput('logits', 'float32', ['N', 2]);
    });
    const model = parseModel(bytes, 'odd.onnx');
    let err: unknown;
    try {
      buildGradientGraph(model, LOGIT);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GradientUnsupported);
    const u = err as GradientUnsupported;
    expect(u.ops.sort()).toEqual(['GlobalMaxPool', 'LRN']);
    expect(u.items.map((i) => i.node).sort()).toEqual(['/gmp', '/lrn']);
    expect(u.message).toMatch(/^odd\.onnx: no gradient for /);
    expect(u.message).toContain('LRN ("/lrn"): no gradient rule');
  });

  test('an unsupported op off the differentiated path is no obstacle', async () => {
    const bytes = withOps(13, (g) => {
      g.addInitializer('w', 'float32', [3, 32], new Rng(1).normals(96));
      g.addNode('Flatten', ['x'], ['f']);
      g.addNode('Gemm', ['f', 'w'], ['logits'], { transB: attr.int(1) });
      g.addNode('TopK', ['logits', 'k'], ['topv', 'topi'], { axis: attr.int(1) });
      g.addInitializer('k', 'int64', [1], [2]);
      g.addNode('ArgMax', ['logits'], ['pred'], { axis: attr.int(1) });
      g.addOutput('logits', 'float32', ['N', 3]);
      g.addOutput('topv', 'float32');
      g.addOutput('pred', 'int64');
    });
    const model = parseModel(bytes, 'side.onnx');
    const graph = buildGradientGraph(model, LOGIT);
    const s = await GradientSession.open(graph);
    const r = await s.run({ x: { data: new Rng(2).uniforms(32), dims: [1, 2, 4, 4] } });
    await s.release();
    // d logits[0,1] / dx = w[1]
    const w = constantTensor(model, 'w')!.values;
    expect(Array.from(r.grads.input.data)).toEqual(Array.from(w.subarray(32, 64), (v) => Math.fround(v)));
  });

  test('an opset before 11 is refused by name', () => {
    const bytes = writeSequentialModel({
      inputShape: ['N', 16],
      layers: [{ kind: 'relu' }, dense(new Rng(1), 16, 4)],
      opset: 10,
    });
    expect(() => buildGradientGraph(parseModel(bytes, 'old.onnx'), LOGIT)).toThrow(/opset 10/);
  });

  test('overlapping MaxPool windows below opset 16 name the node and the reason', () => {
    const bytes = withOps(13, (g) => {
      g.addNode(
        'MaxPool',
        ['x'],
        ['p'],
        { kernel_shape: attr.ints([3, 3]), strides: attr.ints([1, 1]) },
        { name: '/pool' },
      );
      g.addNode('Flatten', ['p'], ['logits']);
      g.addOutput('logits', 'float32', ['N', 8]);
    });
    expect(() => buildGradientGraph(parseModel(bytes, 'pool.onnx'), LOGIT)).toThrow(
      /MaxPool \("\/pool"\): overlapping MaxPool windows need opset 16/,
    );
  });

  test('absurd integer constants in shape arithmetic are never materialised', () => {
    const g = new GraphBuilder({ opset: 13 });
    g.addInput('x', 'float32', ['N', 4]);
    g.addInitializer('w', 'float32', [3, 4], new Rng(1).normals(12));
    g.addInitializer('big', 'int64', [1], [2_000_000_000]);
    g.addInitializer('zero', 'int64', [], [0]);
    g.addInitializer('huge', 'int64', [], [4_000_000_000_000]);
    g.addInitializer('one', 'int64', [], [1]);
    g.addNode('ConstantOfShape', ['big'], ['filler'], {
      value: { tensor: { dtype: 'int64', dims: [1], data: [7] } },
    });
    g.addNode('Range', ['zero', 'huge', 'one'], ['span']);
    g.addNode('Gemm', ['x', 'w'], ['logits'], { transB: attr.int(1) });
    g.addOutput('logits', 'float32', ['N', 3]);
    g.addOutput('filler', 'int64');
    g.addOutput('span', 'int64');
    const model = parseModel(g.toBytes(), 'absurd.onnx');
    const before = process.memoryUsage().rss;
    const graph = buildGradientGraph(model, LOGIT);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
    expect(graph.grads.input).toBeDefined();
    // and never walked: it builds about as fast as the same Gemm alone, timed in this process (the fastest of
    // three each, so machine load cancels out; an element-wise walk of 4e12 would take hours)
    const plain = new GraphBuilder({ opset: 13 });
    plain.addInput('x', 'float32', ['N', 4]);
    plain.addInitializer('w', 'float32', [3, 4], new Rng(1).normals(12));
    plain.addNode('Gemm', ['x', 'w'], ['logits'], { transB: attr.int(1) });
    plain.addOutput('logits', 'float32', ['N', 3]);
    const plainModel = parseModel(plain.toBytes(), 'plain.onnx');
    const fastest = (m: typeof model) =>
      Math.min(
        ...[0, 1, 2].map(() => {
          const t = performance.now();
          buildGradientGraph(m, LOGIT);
          return performance.now() - t;
        }),
      );
    expect(fastest(model)).toBeLessThan(20 * fastest(plainModel) + 20);
  });

  test('the rule table covers the issue list', () => {
    const wanted =
      'Gemm MatMul Conv Relu LeakyRelu Sigmoid Tanh Elu MaxPool AveragePool GlobalAveragePool BatchNormalization Add Sub Mul Div Concat Flatten Reshape Transpose Squeeze Unsqueeze Softmax LogSoftmax Pad Clip Identity Dropout Gather LayerNormalization ReduceSum';
    expect(wanted.split(' ').filter((op) => !supportedOps().includes(op))).toEqual([]);
  });
});

describe('spec and feed mistakes', () => {
  const model = parseModel(buildCnn(), 'cnn.onnx');

  test.each([
    [{ terms: [{ kind: 'logit', target: 10 }] }, /class 10 is outside 0\.\.9/],
    [
      { terms: [{ kind: 'l1', of: { prelude: 'mask' } }] },
      /names a prelude value, and the spec has no prelude/,
    ],
    [
      { prelude: { kind: 'patch' }, terms: [{ kind: 'l1', of: { prelude: 'bogus' } }] },
      /has no value "bogus"/,
    ],
    [{ terms: [{ kind: 'l2', of: { model: 'nope' } }] }, /has no tensor "nope"/],
    [{ terms: [] }, /at least one term/],
    [{ terms: [{ kind: 'logit', target: 0, output: 'x' }] }, /no output "x"/],
    [
      {
        prelude: { kind: 'colour', normalize: { mean: [0.1, 0.2], std: [1] } },
        terms: [{ kind: 'logit', target: 0 }],
      },
      /2 values for 1 channels/,
    ],
  ] as [GradientSpec, RegExp][])('%j', (spec, msg) => {
    expect(() => buildGradientGraph(model, spec)).toThrow(GradientSpecError);
    expect(() => buildGradientGraph(model, spec)).toThrow(msg);
  });

  test('feeds are checked by name, kind and dims', async () => {
    const s = await openGradientSession(model, {
      prelude: { kind: 'patch' },
      terms: [
        { kind: 'crossEntropy', target: { feed: 'targets' } },
        { kind: 'l1', of: { prelude: 'mask' }, weight: { feed: 'lambda' } },
      ],
    });
    expect(Object.keys(s.feeds).sort()).toEqual(['data', 'lambda', 'maskLogits', 'patternLogits', 'targets']);
    const ok = {
      data: { data: new Float32Array(2 * 196).fill(0.5), dims: [2, 1, 14, 14] },
      maskLogits: { data: new Float32Array(196), dims: [1, 1, 14, 14] },
      patternLogits: { data: new Float32Array(196), dims: [1, 1, 14, 14] },
      lambda: 0.01,
      targets: [3, 4],
    };
    const r = await s.run(ok);
    expect(Object.keys(r.grads).sort()).toEqual(['maskLogits', 'patternLogits']);
    expect(r.terms[1]).toBeCloseTo(0.5 * 196, 3); // sigmoid(0) = 0.5 over 14 x 14
    await expect(s.run({ ...ok, lambda: undefined as unknown as number })).rejects.toThrow(
      /missing feed "lambda"/,
    );
    await expect(
      s.run({ ...ok, maskLogits: { data: new Float32Array(196), dims: [1, 1, 7, 28] } }),
    ).rejects.toThrow(/feed "maskLogits": dims \[1, 1, 7, 28\]/);
    await expect(s.run({ ...ok, extra: 1 })).rejects.toThrow(/unknown feed "extra"/);
    await expect(s.run({ ...ok, targets: 3 as unknown as number[] })).rejects.toThrow(
      /array of class indices/,
    );
    await s.release();
  });

  test('a gradient the objective does not depend on is zeros of the tensor shape', async () => {
    const mlp = parseModel(buildMlp(), 'mlp.onnx');
    const s = await openGradientSession(mlp, {
      terms: [{ kind: 'logit', target: 0 }],
      wrt: ['input', { model: '/layers.1/Relu_output_0' }],
    });
    const r = await s.run({ input: { data: new Rng(1).uniforms(32), dims: [2, 16] } });
    expect(r.grads['/layers.1/Relu_output_0'].dims).toEqual([2, 12]);
    expect(r.grads.input.dims).toEqual([2, 16]);
    await s.release();
  });
});

describe('token models (HotFlip)', () => {
  test('the gradient with respect to the embedding lookup equals the hand-derived one', async () => {
    const model = parseModel(buildTokenModel(), 'tokens.onnx');
    const [emb] = embeddingOutputs(model);
    expect(emb).toEqual({
      output: '/embed/Gather_output_0',
      input: 'input_ids',
      table: 'embed.weight',
      dims: [TOKEN_VOCAB, 8],
    });
    const s = await openGradientSession(model, {
      terms: [{ kind: 'logit', target: 2 }],
      wrt: [{ model: emb.output }],
    });
    const n = 3;
    const ids = BigInt64Array.from({ length: n * TOKEN_SEQ }, (_, i) => BigInt((i * 7) % TOKEN_VOCAB));
    const r = await s.run({ input_ids: { data: ids, dims: [n, TOKEN_SEQ] } });
    await s.release();
    // logits = W relu(mean_t E[ids]) + b; d mean_i logits[i, 2] / d e[i, t, :] = W[2] * (h_i > 0) / (T * n)
    const table = constantTensor(model, 'embed.weight')!.values;
    const w = constantTensor(model, 'fc.weight')!.values;
    const g = r.grads[emb.output];
    expect(g.dims).toEqual([n, TOKEN_SEQ, 8]);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 8; k++) {
        let h = 0;
        for (let t = 0; t < TOKEN_SEQ; t++) h += table[Number(ids[i * TOKEN_SEQ + t]) * 8 + k] / TOKEN_SEQ;
        const want = h > 0 ? w[2 * 8 + k] / (TOKEN_SEQ * n) : 0;
        for (let t = 0; t < TOKEN_SEQ; t++) expect(g.data[(i * TOKEN_SEQ + t) * 8 + k]).toBeCloseTo(want, 6);
      }
    }
  });
});
