/**
 * Every vector-Jacobian rule against central finite differences of ONNX Runtime's own forward pass: for each
 * operator a few small graphs (attribute variants, broadcast shapes, opsets on both sides of a signature
 * change), written with the project's writer, scored by a random linear functional of the op's output
 * (score = sum(R * y), so a misplaced element cannot cancel), differentiated by buildGradientGraph, and
 * compared on every input coordinate. Inputs are drawn away from kinks (|x| >= KINK_MARGIN, distinct values
 * per pooling window) so the finite difference never straddles one.
 */
import * as ort from 'onnxruntime-node';
import { buildGradientGraph, GradientSession } from '../../../src/model/grad/index.js';
import { parseModel } from '../../../src/model/read.js';
import { GraphBuilder, attr, type AttrValue } from '../../../src/model/write.js';
import { Rng } from '../../../src/probes/rng.js';

/** Finite-difference step; float32 forward values make smaller steps noisier. */
const H = 1e-2;
/** max |analytic - numeric| / max |analytic| allowed (float32 central differences at step H). */
const FD_TOLERANCE = 2e-3;
/** Inputs keep at least this distance from 0 (the kink of Relu, Abs, LeakyRelu, ...), > H. */
const KINK_MARGIN = 0.05;

type Build = (g: Graph, x: string) => string;

/** A GraphBuilder with opset-aware helpers for the nodes whose signature changed. */
class Graph {
  readonly b: GraphBuilder;
  private n = 0;
  constructor(
    readonly opset: number,
    readonly rng: Rng,
  ) {
    this.b = new GraphBuilder({ opset });
  }
  t(): string {
    return `t${this.n++}`;
  }
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, nOut = 1): string {
    const outs = Array.from({ length: nOut }, () => this.t());
    this.b.addNode(op, inputs, outs, attrs);
    return outs[0];
  }
  ops(op: string, inputs: string[], attrs: Record<string, AttrValue>, nOut: number): string[] {
    const outs = Array.from({ length: nOut }, () => this.t());
    this.b.addNode(op, inputs, outs, attrs);
    return outs;
  }
  init(dims: number[], lo = -1, hi = 1): string {
    const name = this.t();
    this.b.addInitializer(
      name,
      'float32',
      dims,
      this.rng.uniforms(
        dims.reduce((a, c) => a * c, 1),
        lo,
        hi,
      ),
    );
    return name;
  }
  ints(values: number[]): string {
    const name = this.t();
    this.b.addInitializer(name, 'int64', [values.length], values);
    return name;
  }
  scalarInt(v: number): string {
    const name = this.t();
    this.b.addInitializer(name, 'int64', [], [v]);
    return name;
  }
  reduceSum(x: string, axes: number[], keepdims: number): string {
    if (this.opset >= 13) return this.op('ReduceSum', [x, this.ints(axes)], { keepdims: attr.int(keepdims) });
    return this.op('ReduceSum', [x], { axes: attr.ints(axes), keepdims: attr.int(keepdims) });
  }
  reduceMean(x: string, axes: number[], keepdims: number): string {
    if (this.opset >= 18)
      return this.op('ReduceMean', [x, this.ints(axes)], { keepdims: attr.int(keepdims) });
    return this.op('ReduceMean', [x], { axes: attr.ints(axes), keepdims: attr.int(keepdims) });
  }
  squeeze(x: string, axes: number[]): string {
    if (this.opset >= 13) return this.op('Squeeze', [x, this.ints(axes)]);
    return this.op('Squeeze', [x], { axes: attr.ints(axes) });
  }
  unsqueeze(x: string, axes: number[]): string {
    if (this.opset >= 13) return this.op('Unsqueeze', [x, this.ints(axes)]);
    return this.op('Unsqueeze', [x], { axes: attr.ints(axes) });
  }
}

interface Case {
  name: string;
  opset: number;
  shape: number[];
  build: Build;
  /** Input values (default: uniform magnitudes in [KINK_MARGIN, 1] with random signs). */
  input?: (rng: Rng, n: number) => Float32Array;
}

function awayFromKinks(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.uniform() < 0.5 ? -1 : 1) * rng.uniform(KINK_MARGIN, 1));
}

/** A shuffled grid of distinct values 4H apart: no two elements of a pooling window come within H of a tie. */
function distinct(rng: Rng, n: number): Float32Array {
  // offset by half a step: no value is 0, where a Relu before the pool has its kink
  const v = Float32Array.from({ length: n }, (_, i) => (i - n / 2 + 0.5) * 4 * H);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
}

/** Uniform in [-2, 2], at least 3H away from 0 and from each of `kinks`. */
function avoiding(...kinks: number[]): (rng: Rng, n: number) => Float32Array {
  return (rng, n) =>
    Float32Array.from({ length: n }, () => {
      for (;;) {
        const v = rng.uniform(-2, 2);
        if ([0, ...kinks].every((k) => Math.abs(v - k) >= 3 * H)) return v;
      }
    });
}

async function forwardDims(
  bytes: Uint8Array,
  x: Float32Array,
  shape: number[],
  out: string,
): Promise<number[]> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    const r = await s.run({ x: new ort.Tensor('float32', x, shape) });
    return [...r[out].dims];
  } finally {
    await s.release();
  }
}

async function check(c: Case): Promise<number> {
  const seed = c.name.split('').reduce((a, ch) => (a * 31 + ch.charCodeAt(0)) >>> 0, 7);
  const n = c.shape.reduce((a, b) => a * b, 1);
  const x = (c.input ?? awayFromKinks)(new Rng(seed + 1), n);
  const graph = (withScore: number[] | null) => {
    const g = new Graph(c.opset, new Rng(seed));
    g.b.addInput('x', 'float32', ['N', ...c.shape.slice(1)]);
    const y = c.build(g, 'x');
    if (!withScore) {
      g.b.addOutput(y);
      return { bytes: g.b.toBytes(), y };
    }
    const r = g.init(withScore);
    const all = withScore.map((_, i) => i);
    const s = g.reduceSum(g.op('Mul', [y, r]), all, 0);
    const score = g.op('Reshape', [s, g.ints([1, 1])]);
    g.b.addOutput(score, 'float32', [1, 1]);
    return { bytes: g.b.toBytes(), y: score };
  };
  const plain = graph(null);
  const dims = await forwardDims(plain.bytes, x, c.shape, plain.y);
  const scored = graph(dims);
  const model = parseModel(scored.bytes, `${c.name}.onnx`);
  const session = await GradientSession.open(
    buildGradientGraph(model, { terms: [{ kind: 'logit', target: 0, output: scored.y }] }),
  );
  try {
    const f = async (v: Float32Array) => (await session.run({ x: { data: v, dims: c.shape } })).objective;
    const r = await session.run({ x: { data: x, dims: c.shape } });
    const g = r.grads.input.data;
    expect(r.grads.input.dims).toEqual(c.shape);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < n; i++) {
      const xp = x.slice();
      xp[i] += H;
      const xm = x.slice();
      xm[i] -= H;
      const fd = ((await f(xp)) - (await f(xm))) / (2 * H);
      diff = Math.max(diff, Math.abs(fd - g[i]));
      scale = Math.max(scale, Math.abs(g[i]));
    }
    expect(scale).toBeGreaterThan(0);
    return diff / scale;
  } finally {
    await session.release();
  }
}

const conv = (
  g: Graph,
  x: string,
  cin: number,
  cout: number,
  k: number[],
  a: Record<string, AttrValue>,
  group = 1,
) =>
  g.op('Conv', [x, g.init([cout, cin / group, ...k], -0.5, 0.5), g.init([cout], -0.1, 0.1)], {
    kernel_shape: attr.ints(k),
    ...a,
    group: attr.int(group),
  });

const CASES: Case[] = [
  // matrix products
  {
    name: 'Gemm transB',
    opset: 13,
    shape: [2, 5],
    build: (g, x) => g.op('Gemm', [x, g.init([4, 5]), g.init([4])], { transB: attr.int(1) }),
  },
  {
    name: 'Gemm transA alpha beta, bias [1, 4]',
    opset: 11,
    shape: [5, 3],
    build: (g, x) =>
      g.op('Gemm', [x, g.init([5, 4]), g.init([1, 4])], {
        transA: attr.int(1),
        alpha: attr.float(0.7),
        beta: attr.float(1.3),
      }),
  },
  {
    name: 'Gemm with x as B (transB)',
    opset: 13,
    shape: [3, 4],
    build: (g, x) => g.op('Gemm', [g.init([2, 4]), x], { transB: attr.int(1) }),
  },
  { name: 'MatMul 2-D', opset: 13, shape: [3, 4], build: (g, x) => g.op('MatMul', [x, g.init([4, 2])]) },
  {
    name: 'MatMul batched, broadcast weight, both operands from x',
    opset: 17,
    shape: [2, 3, 4],
    build: (g, x) =>
      g.op('MatMul', [
        g.op('MatMul', [x, g.init([4, 4])]),
        g.op('Transpose', [x], { perm: attr.ints([0, 2, 1]) }),
      ]),
  },
  // convolutions
  {
    name: 'Conv 3x3 pad 1',
    opset: 13,
    shape: [2, 2, 5, 5],
    build: (g, x) => conv(g, x, 2, 3, [3, 3], { pads: attr.ints([1, 1, 1, 1]) }),
  },
  {
    name: 'Conv 3x3 stride 2 (ConvTranspose, output_padding)',
    opset: 13,
    shape: [2, 2, 6, 6],
    build: (g, x) => conv(g, x, 2, 3, [3, 3], { strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) }),
  },
  {
    name: 'Conv 2x3 stride (2,1) asymmetric pads',
    opset: 17,
    shape: [1, 2, 7, 5],
    build: (g, x) => conv(g, x, 2, 2, [2, 3], { strides: attr.ints([2, 1]), pads: attr.ints([0, 1, 1, 0]) }),
  },
  {
    name: 'Conv dilation 2',
    opset: 13,
    shape: [1, 2, 7, 7],
    build: (g, x) =>
      conv(g, x, 2, 2, [3, 3], { dilations: attr.ints([2, 2]), pads: attr.ints([2, 2, 2, 2]) }),
  },
  {
    name: 'Conv groups 2',
    opset: 13,
    shape: [2, 4, 5, 5],
    build: (g, x) => conv(g, x, 4, 6, [3, 3], { pads: attr.ints([1, 1, 1, 1]) }, 2),
  },
  {
    name: 'Conv depthwise stride 2',
    opset: 13,
    shape: [1, 3, 6, 6],
    build: (g, x) =>
      conv(g, x, 3, 3, [3, 3], { strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) }, 3),
  },
  {
    name: 'Conv auto_pad SAME_UPPER stride 2',
    opset: 11,
    shape: [1, 2, 5, 5],
    build: (g, x) =>
      conv(g, x, 2, 2, [3, 3], { strides: attr.ints([2, 2]), auto_pad: attr.string('SAME_UPPER') }),
  },
  {
    name: 'Conv 1-D',
    opset: 13,
    shape: [2, 2, 9],
    build: (g, x) => conv(g, x, 2, 3, [3], { pads: attr.ints([1, 1]) }),
  },
  {
    name: 'Conv pad larger than the kernel',
    opset: 13,
    shape: [1, 1, 4, 4],
    build: (g, x) => conv(g, x, 1, 2, [2, 2], { pads: attr.ints([2, 2, 2, 2]) }),
  },
  // activations
  { name: 'Relu', opset: 13, shape: [2, 6], build: (g, x) => g.op('Relu', [x]) },
  {
    name: 'LeakyRelu',
    opset: 13,
    shape: [2, 6],
    build: (g, x) => g.op('LeakyRelu', [x], { alpha: attr.float(0.2) }),
  },
  {
    name: 'PRelu',
    opset: 13,
    shape: [2, 3, 2, 2],
    build: (g, x) => g.op('PRelu', [x, g.init([3, 1, 1], 0.1, 0.5)]),
  },
  { name: 'Sigmoid', opset: 13, shape: [2, 6], build: (g, x) => g.op('Sigmoid', [x]) },
  { name: 'Tanh', opset: 13, shape: [2, 6], build: (g, x) => g.op('Tanh', [x]) },
  { name: 'Elu', opset: 13, shape: [2, 6], build: (g, x) => g.op('Elu', [x], { alpha: attr.float(0.7) }) },
  { name: 'Softplus', opset: 13, shape: [2, 6], build: (g, x) => g.op('Softplus', [x]) },
  { name: 'Gelu (opset 20)', opset: 20, shape: [2, 6], build: (g, x) => g.op('Gelu', [x]) },
  {
    name: 'HardSigmoid',
    opset: 13,
    shape: [2, 6],
    input: avoiding(-1, 1),
    build: (g, x) => g.op('HardSigmoid', [x], { alpha: attr.float(0.5), beta: attr.float(0.5) }),
  },
  {
    name: 'HardSwish',
    opset: 14,
    shape: [2, 6],
    input: avoiding(-1.5, 1.5),
    build: (g, x) => g.op('HardSwish', [g.op('Mul', [x, g.init([], 2, 2)])]),
  },
  {
    name: 'Clip (inputs, opset 13)',
    opset: 13,
    shape: [2, 6],
    input: avoiding(-0.52, 0.47),
    build: (g, x) => g.op('Clip', [x, g.init([], -0.52, -0.52), g.init([], 0.47, 0.47)]),
  },
  {
    name: 'Clip max only',
    opset: 13,
    shape: [2, 6],
    input: avoiding(0.33),
    build: (g, x) => g.op('Clip', [x, '', g.init([], 0.33, 0.33)]),
  },
  {
    name: 'Softmax axis 1 (opset 13)',
    opset: 13,
    shape: [2, 5],
    build: (g, x) => g.op('Softmax', [x], { axis: attr.int(1) }),
  },
  {
    name: 'Softmax on [N, C, L] axis -1 (opset 13)',
    opset: 13,
    shape: [2, 3, 4],
    build: (g, x) => g.op('Softmax', [x], { axis: attr.int(-1) }),
  },
  {
    name: 'Softmax coerced 2-D (opset 11)',
    opset: 11,
    shape: [2, 3, 4],
    build: (g, x) => g.op('Softmax', [x], { axis: attr.int(1) }),
  },
  {
    name: 'LogSoftmax',
    opset: 13,
    shape: [3, 5],
    build: (g, x) => g.op('LogSoftmax', [x], { axis: attr.int(1) }),
  },
  {
    name: 'LogSoftmax coerced (opset 11)',
    opset: 11,
    shape: [2, 2, 3],
    build: (g, x) => g.op('LogSoftmax', [x], { axis: attr.int(1) }),
  },
  // pooling
  {
    name: 'MaxPool 2x2',
    opset: 13,
    shape: [2, 2, 4, 4],
    input: distinct,
    build: (g, x) => g.op('MaxPool', [x], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }),
  },
  {
    name: 'MaxPool 3x3 stride 2 pad 1 (overlapping, opset 16+)',
    opset: 17,
    shape: [1, 2, 5, 5],
    input: distinct,
    build: (g, x) =>
      g.op('MaxPool', [x], {
        kernel_shape: attr.ints([3, 3]),
        strides: attr.ints([2, 2]),
        pads: attr.ints([1, 1, 1, 1]),
      }),
  },
  {
    name: 'MaxPool ceil_mode',
    opset: 13,
    shape: [1, 2, 5, 5],
    input: distinct,
    build: (g, x) =>
      g.op('MaxPool', [x], {
        kernel_shape: attr.ints([2, 2]),
        strides: attr.ints([2, 2]),
        ceil_mode: attr.int(1),
      }),
  },
  {
    name: 'BatchNormalization -> Relu -> MaxPool (differentiated together in the pooled domain)',
    opset: 13,
    shape: [2, 2, 4, 4],
    input: distinct,
    build: (g, x) =>
      g.op(
        'MaxPool',
        [
          g.op('Relu', [
            g.op('BatchNormalization', [
              x,
              g.init([2], 0.5, 1.5),
              g.init([2], 0, 0),
              g.init([2], 0, 0),
              g.init([2], 0.5, 2),
            ]),
          ]),
        ],
        {
          kernel_shape: attr.ints([2, 2]),
          strides: attr.ints([2, 2]),
        },
      ),
  },
  {
    name: 'Relu -> overlapping MaxPool, fused (opset 17)',
    opset: 17,
    shape: [1, 2, 5, 5],
    input: distinct,
    build: (g, x) =>
      g.op('MaxPool', [g.op('Relu', [x])], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]) }),
  },
  {
    name: 'Relu read by MaxPool and by another node (not fused)',
    opset: 13,
    shape: [1, 2, 4, 4],
    input: distinct,
    build: (g, x) => {
      const r = g.op('Relu', [x]);
      const p = g.op('MaxPool', [r], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
      return g.op('Add', [
        g.op('Flatten', [p]),
        g.op('Flatten', [
          g.op('AveragePool', [r], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }),
        ]),
      ]);
    },
  },
  {
    name: 'AveragePool 2x2',
    opset: 13,
    shape: [2, 2, 4, 4],
    build: (g, x) =>
      g.op('AveragePool', [x], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }),
  },
  {
    name: 'AveragePool 3x3 pad 1 count_include_pad 0',
    opset: 13,
    shape: [1, 2, 5, 5],
    build: (g, x) =>
      g.op('AveragePool', [x], {
        kernel_shape: attr.ints([3, 3]),
        strides: attr.ints([2, 2]),
        pads: attr.ints([1, 1, 1, 1]),
      }),
  },
  {
    name: 'AveragePool 3x3 pad 1 count_include_pad 1',
    opset: 13,
    shape: [1, 2, 5, 5],
    build: (g, x) =>
      g.op('AveragePool', [x], {
        kernel_shape: attr.ints([3, 3]),
        strides: attr.ints([2, 2]),
        pads: attr.ints([1, 1, 1, 1]),
        count_include_pad: attr.int(1),
      }),
  },
  {
    name: 'AveragePool ceil_mode',
    opset: 13,
    shape: [1, 1, 5, 5],
    build: (g, x) =>
      g.op('AveragePool', [x], {
        kernel_shape: attr.ints([2, 2]),
        strides: attr.ints([2, 2]),
        ceil_mode: attr.int(1),
      }),
  },
  {
    name: 'GlobalAveragePool',
    opset: 13,
    shape: [2, 3, 3, 4],
    build: (g, x) => g.op('GlobalAveragePool', [x]),
  },
  // normalisation
  {
    name: 'BatchNormalization',
    opset: 13,
    shape: [2, 3, 2, 2],
    build: (g, x) =>
      g.op('BatchNormalization', [x, g.init([3], 0.5, 1.5), g.init([3]), g.init([3]), g.init([3], 0.5, 2)], {
        epsilon: attr.float(1e-3),
      }),
  },
  {
    name: 'BatchNormalization on [N, C]',
    opset: 15,
    shape: [3, 4],
    build: (g, x) =>
      g.op('BatchNormalization', [x, g.init([4], 0.5, 1.5), g.init([4]), g.init([4]), g.init([4], 0.5, 2)]),
  },
  {
    name: 'LayerNormalization last axis',
    opset: 17,
    shape: [2, 3, 5],
    build: (g, x) => g.op('LayerNormalization', [x, g.init([5], 0.5, 1.5), g.init([5])]),
  },
  {
    name: 'LayerNormalization axis 1',
    opset: 17,
    shape: [2, 3, 4],
    build: (g, x) =>
      g.op('LayerNormalization', [x, g.init([3, 4], 0.5, 1.5), g.init([3, 4])], {
        axis: attr.int(1),
        epsilon: attr.float(1e-3),
      }),
  },
  // broadcasting arithmetic
  {
    name: 'Add [N,C,H,W] + [C,1,1] weight',
    opset: 13,
    shape: [2, 3, 2, 2],
    build: (g, x) => g.op('Add', [x, g.init([3, 1, 1])]),
  },
  {
    name: 'Sub both sides from x, broadcast [N,1,H,W]',
    opset: 13,
    shape: [2, 3, 2, 2],
    build: (g, x) => g.op('Sub', [g.reduceMean(x, [1], 1), g.op('Tanh', [x])]),
  },
  { name: 'Mul x * x', opset: 13, shape: [2, 4], build: (g, x) => g.op('Mul', [x, x]) },
  {
    name: 'Mul broadcast [1,C,1,1] from x',
    opset: 13,
    shape: [2, 3, 2, 2],
    build: (g, x) => g.op('Mul', [x, g.reduceMean(x, [0, 2, 3], 1)]),
  },
  {
    name: 'Div both sides',
    opset: 13,
    shape: [2, 4],
    build: (g, x) => g.op('Div', [g.op('Sigmoid', [x]), g.op('Add', [g.op('Exp', [x]), g.init([1], 1, 1)])]),
  },
  {
    name: 'Div by scalar constant',
    opset: 13,
    shape: [2, 4],
    build: (g, x) => g.op('Div', [x, g.init([], 0.3, 0.3)]),
  },
  {
    name: 'Pow 2 and 3',
    opset: 13,
    shape: [2, 4],
    build: (g, x) => g.op('Add', [g.op('Pow', [x, g.init([], 2, 2)]), g.op('Pow', [x, g.init([], 3, 3)])]),
  },
  {
    name: 'Sum of three',
    opset: 13,
    shape: [2, 4],
    build: (g, x) => g.op('Sum', [x, g.op('Sigmoid', [x]), g.init([4])]),
  },
  {
    name: 'Where',
    opset: 13,
    shape: [2, 4],
    build: (g, x) =>
      g.op('Where', [g.op('Greater', [x, g.init([], 0, 0)]), g.op('Mul', [x, x]), g.op('Sigmoid', [x])]),
  },
  { name: 'Expand', opset: 13, shape: [2, 1, 3], build: (g, x) => g.op('Expand', [x, g.ints([2, 4, 3])]) },
  // pointwise maths
  {
    name: 'Exp Log Sqrt of positives',
    opset: 13,
    shape: [2, 4],
    build: (g, x) => g.op('Sqrt', [g.op('Log', [g.op('Add', [g.op('Exp', [x]), g.init([], 1, 1)])])]),
  },
  {
    name: 'Abs Neg Reciprocal',
    opset: 13,
    shape: [2, 4],
    build: (g, x) => g.op('Reciprocal', [g.op('Add', [g.op('Neg', [g.op('Abs', [x])]), g.init([], 2, 2)])]),
  },
  { name: 'Erf', opset: 13, shape: [2, 4], build: (g, x) => g.op('Erf', [x]) },
  // layout
  {
    name: 'Flatten axis 1',
    opset: 13,
    shape: [2, 2, 3],
    build: (g, x) => g.op('Gemm', [g.op('Flatten', [x]), g.init([6, 3])]),
  },
  {
    name: 'Reshape with 0 and -1',
    opset: 13,
    shape: [2, 2, 3],
    build: (g, x) => g.op('MatMul', [g.op('Reshape', [x, g.ints([0, -1])]), g.init([6, 2])]),
  },
  {
    name: 'Transpose',
    opset: 13,
    shape: [2, 3, 4],
    build: (g, x) => g.op('MatMul', [g.op('Transpose', [x], { perm: attr.ints([2, 0, 1]) }), g.init([3, 2])]),
  },
  {
    name: 'Squeeze / Unsqueeze (attributes, opset 11)',
    opset: 11,
    shape: [2, 1, 3],
    build: (g, x) => g.op('Tanh', [g.unsqueeze(g.squeeze(x, [1]), [0])]),
  },
  {
    name: 'Squeeze / Unsqueeze (inputs, opset 13)',
    opset: 13,
    shape: [2, 1, 3],
    build: (g, x) => g.op('Tanh', [g.unsqueeze(g.squeeze(x, [1]), [2, 3])]),
  },
  {
    name: 'Concat axis 1 with a constant',
    opset: 13,
    shape: [2, 2, 3],
    build: (g, x) => g.op('Concat', [g.op('Sigmoid', [x]), g.init([2, 1, 3]), x], { axis: attr.int(1) }),
  },
  {
    name: 'Split (opset 13, sizes input), one output unused',
    opset: 13,
    shape: [2, 5],
    build: (g, x) => g.ops('Split', [x, g.ints([2, 3])], { axis: attr.int(1) }, 2)[1],
  },
  {
    name: 'Split (opset 11, attribute) both used',
    opset: 11,
    shape: [2, 4],
    build: (g, x) => {
      const [a, b] = g.ops('Split', [x], { axis: attr.int(1), split: attr.ints([1, 3]) }, 2);
      return g.op('Mul', [a, b]);
    },
  },
  {
    name: 'Slice unit steps, negative end',
    opset: 13,
    shape: [2, 3, 5],
    build: (g, x) => g.op('Slice', [x, g.ints([1, 1]), g.ints([3, -1]), g.ints([1, 2])]),
  },
  {
    name: 'Pad constant (opset 13)',
    opset: 13,
    shape: [1, 2, 3, 3],
    build: (g, x) => g.op('Pad', [x, g.ints([0, 0, 1, 2, 0, 1, 2, 0])]),
  },
  {
    name: 'Pad with negative pads (crop)',
    opset: 13,
    shape: [1, 1, 4, 4],
    build: (g, x) => g.op('Pad', [x, g.ints([0, 0, -1, 1, 0, 0, 1, -1])]),
  },
  {
    name: 'Pad with axes (opset 18)',
    opset: 18,
    shape: [1, 2, 3, 3],
    build: (g, x) => g.op('Pad', [x, g.ints([1, 2, 0, 1]), '', g.ints([2, 3])]),
  },
  {
    name: 'Gather scalar index axis 1',
    opset: 13,
    shape: [2, 3, 4],
    build: (g, x) => g.op('Gather', [x, g.scalarInt(1)], { axis: attr.int(1) }),
  },
  {
    name: 'Gather repeated 1-D indices axis -1',
    opset: 13,
    shape: [2, 4],
    build: (g, x) => g.op('Gather', [x, g.ints([3, 0, 3, -1])], { axis: attr.int(-1) }),
  },
  {
    name: 'ReduceSum keepdims 0 (opset 11)',
    opset: 11,
    shape: [2, 3, 4],
    build: (g, x) => g.reduceSum(g.op('Mul', [x, x]), [1], 0),
  },
  {
    name: 'ReduceSum keepdims 1 (opset 13)',
    opset: 13,
    shape: [2, 3, 4],
    build: (g, x) => g.reduceSum(g.op('Mul', [x, x]), [1, 2], 1),
  },
  {
    name: 'ReduceMean (opset 13 attribute)',
    opset: 13,
    shape: [2, 3, 4],
    build: (g, x) => g.op('Mul', [g.reduceMean(x, [-1], 0), g.reduceMean(x, [-1], 0)]),
  },
  {
    name: 'ReduceMean (opset 18 input)',
    opset: 18,
    shape: [2, 3, 4],
    build: (g, x) => g.op('Mul', [g.reduceMean(x, [1], 1), x]),
  },
  {
    // a text CNN's max over positions (keepdims 0, as PyTorch's max(dim) exports); random inputs have no ties
    name: 'ReduceMax keepdims 0 over the last axis (opset 13 attribute)',
    opset: 13,
    shape: [2, 3, 5],
    build: (g, x) =>
      g.op('Mul', [
        g.op('ReduceMax', [x], { axes: attr.ints([2]), keepdims: attr.int(0) }),
        g.init([3], 1, 3),
      ]),
    input: distinct,
  },
  {
    name: 'ReduceMin keepdims 1 over two axes (opset 18 input)',
    opset: 18,
    shape: [2, 3, 4],
    build: (g, x) => g.op('Mul', [g.op('ReduceMin', [x, g.ints([1, 2])], { keepdims: attr.int(1) }), x]),
    input: distinct,
  },
  {
    name: 'Identity, Dropout (inference), Cast float',
    opset: 13,
    shape: [2, 4],
    build: (g, x) => g.op('Cast', [g.op('Dropout', [g.op('Identity', [x])])], { to: attr.int(1) }),
  },
  {
    name: 'a decomposed LayerNorm as older exporters write it (ReduceMean, Sub, Pow, Sqrt, Div)',
    opset: 13,
    shape: [2, 3, 5],
    build: (g, x) => {
      const c = g.op('Sub', [x, g.reduceMean(x, [-1], 1)]);
      const v = g.reduceMean(g.op('Pow', [c, g.init([], 2, 2)]), [-1], 1);
      return g.op('Div', [c, g.op('Sqrt', [g.op('Add', [v, g.init([], 1e-5, 1e-5)])])]);
    },
  },
  {
    name: 'dynamic-batch flatten through Shape -> Gather -> Unsqueeze -> Concat -> Reshape',
    opset: 13,
    shape: [2, 2, 3],
    build: (g, x) => {
      const n = g.unsqueeze(g.op('Gather', [g.op('Shape', [x]), g.scalarInt(0)], { axis: attr.int(0) }), [0]);
      const shape = g.op('Concat', [n, g.ints([-1])], { axis: attr.int(0) });
      return g.op('Gemm', [g.op('Reshape', [x, shape]), g.init([4, 6])], { transB: attr.int(1) });
    },
  },
];

describe('vector-Jacobian rules match central finite differences', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await check(c)).toBeLessThan(FD_TOLERANCE);
  });
});

describe('MaxPool ties', () => {
  test.each([false, true])(
    'the gradient goes to the first maximum of a window, as in PyTorch (Relu before: %s)',
    async (relu) => {
      const g = new GraphBuilder({ opset: 13 });
      g.addInput('x', 'float32', ['N', 1, 2, 4]);
      if (relu) g.addNode('Relu', ['x'], ['r']);
      g.addNode('MaxPool', [relu ? 'r' : 'x'], ['p'], {
        kernel_shape: attr.ints([2, 2]),
        strides: attr.ints([2, 2]),
      });
      g.addNode('Flatten', ['p'], ['logits']);
      g.addOutput('logits', 'float32', ['N', 2]);
      const model = parseModel(g.toBytes(), 'ties.onnx');
      const s = await GradientSession.open(
        buildGradientGraph(model, {
          terms: [
            { kind: 'logit', target: 0 },
            { kind: 'logit', target: 1 },
          ],
        }),
      );
      // window 1: all four equal; window 2: the maximum 0.7 twice, at (0, 3) and (1, 2)
      const x = Float32Array.from([0.5, 0.5, 0.1, 0.7, 0.5, 0.5, 0.7, 0.2]);
      const r = await s.run({ x: { data: x, dims: [1, 1, 2, 4] } });
      await s.release();
      expect(Array.from(r.grads.input.data)).toEqual([1, 0, 0, 1, 0, 0, 0, 0]);
    },
  );
});
