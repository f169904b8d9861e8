/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * The ONNX writer: models it writes run in real onnxruntime-node and agree with a hand computation of the
 * same layers (PyTorch weight layout), and the odd graphs it can build encode as asked.
 */
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { GraphBuilder, attr, writeSequentialModel, type LayerSpec } from '../../src/model/write.js';
import { Rng } from '../../src/probes/rng.js';
import {
  buildTokenModel,
  buildTwoInput,
  cnnLayers,
  conv,
  dense,
  mlpLayers,
  TOKEN_VOCAB,
} from '../fixtures/models.js';

const { onnx } = onnxProto;

/** A plain-JS forward pass over one sample: shape is [C,H,W] or [F]. */
function reference(
  layers: LayerSpec[],
  x: Float32Array,
  shape: number[],
): { y: Float64Array; shape: number[] } {
  let cur = Float64Array.from(x);
  let sh = shape.slice();
  for (const l of layers) {
    switch (l.kind) {
      case 'dense': {
        const y = new Float64Array(l.outFeatures);
        for (let o = 0; o < l.outFeatures; o++) {
          let s = l.bias ? l.bias[o] : 0;
          for (let i = 0; i < l.inFeatures; i++) s += l.weight[o * l.inFeatures + i] * cur[i];
          y[o] = s;
        }
        cur = y;
        sh = [l.outFeatures];
        break;
      }
      case 'conv': {
        const [C, H, W] = sh;
        const k = l.kernel;
        const p = l.pad ?? 0;
        const s = l.stride ?? 1;
        const Ho = Math.floor((H + 2 * p - k) / s) + 1;
        const Wo = Math.floor((W + 2 * p - k) / s) + 1;
        const y = new Float64Array(l.outChannels * Ho * Wo);
        for (let o = 0; o < l.outChannels; o++)
          for (let r = 0; r < Ho; r++)
            for (let c = 0; c < Wo; c++) {
              let acc = l.bias ? l.bias[o] : 0;
              for (let ci = 0; ci < C; ci++)
                for (let u = 0; u < k; u++)
                  for (let v = 0; v < k; v++) {
                    const rr = r * s + u - p;
                    const cc = c * s + v - p;
                    if (rr < 0 || cc < 0 || rr >= H || cc >= W) continue;
                    acc += l.weight[((o * C + ci) * k + u) * k + v] * cur[(ci * H + rr) * W + cc];
                  }
              y[(o * Ho + r) * Wo + c] = acc;
            }
        cur = y;
        sh = [l.outChannels, Ho, Wo];
        break;
      }
      case 'batchnorm': {
        const [C, H, W] = sh;
        const eps = l.epsilon ?? 1e-5;
        for (let c = 0; c < C; c++)
          for (let i = 0; i < H * W; i++) {
            const j = c * H * W + i;
            cur[j] = ((cur[j] - l.mean[c]) / Math.sqrt(l.var[c] + eps)) * l.scale[c] + l.bias[c];
          }
        break;
      }
      case 'relu':
        cur = cur.map((v) => Math.max(0, v));
        break;
      case 'maxpool': {
        const [C, H, W] = sh;
        const k = l.kernel;
        const s = l.stride ?? k;
        const Ho = Math.floor((H - k) / s) + 1;
        const Wo = Math.floor((W - k) / s) + 1;
        const y = new Float64Array(C * Ho * Wo).fill(-Infinity);
        for (let c = 0; c < C; c++)
          for (let r = 0; r < Ho; r++)
            for (let q = 0; q < Wo; q++)
              for (let u = 0; u < k; u++)
                for (let v = 0; v < k; v++)
                  y[(c * Ho + r) * Wo + q] = Math.max(
                    y[(c * Ho + r) * Wo + q],
                    cur[(c * H + r * s + u) * W + q * s + v],
                  );
        cur = y;
        sh = [C, Ho, Wo];
        break;
      }
      case 'flatten':
        sh = [cur.length];
        break;
      case 'softmax': {
        const m = Math.max(...cur);
        const e = cur.map((v) => Math.exp(v - m));
        const z = e.reduce((a, b) => a + b, 0);
        cur = e.map((v) => v / z);
        break;
      }
      case 'residual': {
        const body = reference(l.body, Float32Array.from(cur), sh);
        cur = cur.map((v, i) => v + body.y[i]);
        break;
      }
      default:
        throw new Error(`reference: ${l.kind} not implemented`);
    }
  }
  return { y: cur, shape: sh };
}

async function run(
  bytes: Uint8Array,
  feeds: Record<string, ort.Tensor>,
): Promise<ort.InferenceSession.ReturnType> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-4): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i])));
  }
}

describe('writeSequentialModel', () => {
  test('an MLP written with PyTorch layout matches a hand computation in onnxruntime', async () => {
    const layers = mlpLayers(11);
    const bytes = writeSequentialModel({ inputShape: ['N', 16], layers });
    const x = new Rng(7).normals(3 * 16);
    const out = await run(bytes, { input: new ort.Tensor('float32', x, [3, 16]) });
    const y = out.logits;
    expect(y.dims).toEqual([3, 4]);
    for (let b = 0; b < 3; b++) {
      const want = reference(layers, x.subarray(b * 16, (b + 1) * 16), [16]).y;
      expectClose((y.data as Float32Array).subarray(b * 4, (b + 1) * 4), want);
    }
  });

  test('a CNN (Conv, BatchNormalization, Relu, MaxPool, Flatten, Gemm) matches a hand computation', async () => {
    const layers = cnnLayers(12);
    const bytes = writeSequentialModel({ inputShape: ['N', 1, 14, 14], layers });
    const x = new Rng(8).uniforms(2 * 196);
    const out = await run(bytes, { input: new ort.Tensor('float32', x, [2, 1, 14, 14]) });
    expect(out.logits.dims).toEqual([2, 10]);
    for (let b = 0; b < 2; b++) {
      const want = reference(layers, x.subarray(b * 196, (b + 1) * 196), [1, 14, 14]).y;
      expectClose((out.logits.data as Float32Array).subarray(b * 10, (b + 1) * 10), want);
    }
  });

  test('a residual block with softmax output adds the skip connection and sums to 1', async () => {
    const rng = new Rng(13);
    const layers: LayerSpec[] = [
      conv(rng, 1, 3, 3, 1),
      { kind: 'relu' },
      { kind: 'residual', body: [conv(rng, 3, 3, 3, 1), { kind: 'relu' }, conv(rng, 3, 3, 3, 1)] },
      { kind: 'relu' },
      { kind: 'flatten' },
      dense(rng, 3 * 6 * 6, 5),
      { kind: 'softmax' },
    ];
    const bytes = writeSequentialModel({ inputShape: ['N', 1, 6, 6], layers, outputName: 'probs' });
    const x = rng.uniforms(36);
    const out = await run(bytes, { input: new ort.Tensor('float32', x, [1, 1, 6, 6]) });
    const got = out.probs.data as Float32Array;
    expectClose(got, reference(layers, x, [1, 6, 6]).y);
    expect(got.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  test('declares opset 13, IR 8, a symbolic batch dim and the computed output shape', () => {
    const bytes = writeSequentialModel({
      inputShape: ['N', 1, 14, 14],
      layers: cnnLayers(1),
      producerName: 'x',
    });
    const m = onnx.ModelProto.decode(bytes);
    expect(Number(m.irVersion)).toBe(8);
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]]);
    expect(m.producerName).toBe('x');
    const inDims = m.graph!.input![0].type!.tensorType!.shape!.dim!;
    expect(inDims[0].dimParam).toBe('N');
    const outDims = m.graph!.output![0].type!.tensorType!.shape!.dim!;
    expect(outDims.map((d) => Number(d.dimValue ?? 0))).toEqual([0, 10]);
    expect(m.graph!.node!.map((n) => n.opType)).toEqual([
      'Conv',
      'BatchNormalization',
      'Relu',
      'MaxPool',
      'Conv',
      'Relu',
      'Flatten',
      'Gemm',
      'Relu',
      'Gemm',
    ]);
    expect(m.graph!.node![0].output).toEqual(['/layers.0/Conv_output_0']);
  });

  test('refuses weights of the wrong size', () => {
    expect(() =>
      writeSequentialModel({
        inputShape: ['N', 4],
        layers: [{ kind: 'dense', inFeatures: 4, outFeatures: 2, weight: new Float32Array(7) }],
      }),
    ).toThrow(/weight size/);
  });
});

describe('GraphBuilder', () => {
  test('two-input model runs and combines both inputs', async () => {
    const bytes = buildTwoInput();
    const a = new Rng(1).normals(8);
    const b = new Rng(2).normals(4);
    const y1 = await run(bytes, {
      a: new ort.Tensor('float32', a, [1, 8]),
      b: new ort.Tensor('float32', b, [1, 4]),
    });
    const y2 = await run(bytes, {
      a: new ort.Tensor('float32', a, [1, 8]),
      b: new ort.Tensor('float32', new Float32Array(4), [1, 4]),
    });
    expect(y1.logits.dims).toEqual([1, 3]);
    expect(Array.from(y1.logits.data as Float32Array)).not.toEqual(
      Array.from(y2.logits.data as Float32Array),
    );
  });

  test('token-id model gathers int64 ids from the embedding', async () => {
    const bytes = buildTokenModel();
    const ids = BigInt64Array.from([0, 1, 2, 3, 4, TOKEN_VOCAB - 1].map(BigInt));
    const out = await run(bytes, { input_ids: new ort.Tensor('int64', ids, [1, 6]) });
    expect(out.logits.dims).toEqual([1, 5]);
    // Reordering the tokens does not change a mean-pooled model's output.
    const rev = BigInt64Array.from(Array.from(ids).reverse());
    const out2 = await run(bytes, { input_ids: new ort.Tensor('int64', rev, [1, 6]) });
    expectClose(out2.logits.data as Float32Array, out.logits.data as Float32Array, 1e-5);
  });

  test('encodes custom domains, external data references and cycles as asked', () => {
    const g = new GraphBuilder({ extraOpsets: [{ domain: 'com.evil', version: 1 }] });
    g.addInput('x', 'float32', ['N', 2]);
    g.addInitializer('w', 'float32', [2, 2], null, { location: '../../x', offset: 0, length: 16 });
    g.addNode('Mystery', ['x', 'w'], ['y'], { level: attr.int(3) }, { domain: 'com.evil' });
    g.addNode('Relu', ['z'], ['z']);
    g.addOutput('y');
    const m = onnx.ModelProto.decode(g.toBytes());
    expect(m.graph!.node![0].domain).toBe('com.evil');
    expect(m.graph!.initializer![0].dataLocation).toBe(onnx.TensorProto.DataLocation.EXTERNAL);
    expect(m.graph!.initializer![0].externalData!.map((e) => [e.key, e.value])).toEqual([
      ['location', '../../x'],
      ['offset', '0'],
      ['length', '16'],
    ]);
    expect(m.graph!.node![1].input).toEqual(m.graph!.node![1].output);
  });
});
