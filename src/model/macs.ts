/**
 * The compute of one forward pass of one input, estimated from the graph: what the scan budget
 * (src/fingerprint/budget.ts) divides its multiply-accumulates by. Output shapes are propagated node by node
 * from the input's shape (batch 1) through the operators that decide sizes in image and sequence models
 * (convolutions and pools with their strides, pads and dilations, matrix products, reshapes with constant
 * shapes, concatenations, ...); elementwise operators keep or broadcast their inputs' shapes.
 *
 * Counted: a convolution's output elements x its input channels per group x its kernel size; a transposed
 * convolution's input elements x output channels per group x kernel size; a matrix product's rows x inner
 * size x columns (Gemm, MatMul, batched MatMul); recurrent layers (LSTM, GRU, RNN) per step and gate; and
 * one per output element of every other operator, since elementwise and memory-bound operators (BatchNorm,
 * activations, residual adds, pools, depthwise-heavy blocks) take time too. A node whose shapes cannot be
 * followed (a Reshape to a computed shape, an operator not listed) is estimated from its weights as before:
 * a convolution's weights once per output position at a quarter of the input's spatial size, any other
 * weight once; and the total is never below the model's weight count (every weight is read at least once).
 *
 * Deterministic and a function of the model and the input shape alone. Why hand-written: ONNX's shape
 * inference lives in the C++ `onnx` package and inside ONNX Runtime, neither of which Node can call; no
 * maintained JavaScript package infers ONNX shapes.
 */
import type { onnx as pb } from 'onnx-proto';
import { toNum, type Int64Like } from './dtypes.js';
import { constantTensor } from './tensor-data.js';
import { ACTIVATION_OPS } from './activation-ops.js';
import type { OnnxModel } from './types.js';

type Shape = number[];

/** Largest constant read to follow a shape (shape vectors, axes, pads, scales are a few values). */
const MAX_SHAPE_CONSTANT = 64;
/** Spatial share a convolution keeps when its input shape is unknown (the former rough estimate). */
const UNKNOWN_CONV_SPATIAL_SHARE = 0.25;

/** Operators whose (first) output has the shape of their first input. */
const SAME_SHAPE = new Set([
  ...ACTIVATION_OPS,
  'Softsign',
  'BatchNormalization',
  'InstanceNormalization',
  'LayerNormalization',
  'GroupNormalization',
  'LpNormalization',
  'LRN',
  'Dropout',
  'Identity',
  'Cast',
  'CastLike',
  'Softmax',
  'LogSoftmax',
  'Hardmax',
  'Neg',
  'Abs',
  'Sqrt',
  'Exp',
  'Log',
  'Erf',
  'Reciprocal',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Not',
  'Sin',
  'Cos',
  'QuantizeLinear',
  'DequantizeLinear',
  'IsNaN',
  'IsInf',
  'ThresholdedRelu',
  'Shrink',
]);

/** Elementwise operators with numpy broadcasting over all their inputs. */
const BROADCAST = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Max',
  'Min',
  'Mean',
  'Sum',
  'Where',
  'Equal',
  'Greater',
  'GreaterOrEqual',
  'Less',
  'LessOrEqual',
  'And',
  'Or',
  'Xor',
  'Mod',
  'BitShift',
]);

const POOLS = new Set(['MaxPool', 'AveragePool', 'LpPool']);
const GLOBAL_POOLS = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']);
const REDUCES = new Set([
  'ReduceMean',
  'ReduceSum',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceSumSquare',
  'ArgMax',
  'ArgMin',
]);

export interface MacEstimate {
  /** Estimated multiply-accumulates of one forward pass of one input (at least 1). */
  macs: number;
  /** Nodes whose output shape was followed / estimated from their weights alone. */
  followed: number;
  estimated: number;
}

function attr(n: pb.INodeProto, name: string): pb.IAttributeProto | undefined {
  return (n.attribute ?? []).find((a) => a.name === name);
}

function intAttr(n: pb.INodeProto, name: string, dflt: number): number {
  const a = attr(n, name);
  return a && a.i !== undefined && a.i !== null ? toNum(a.i as Int64Like) : dflt;
}

function intsAttr(n: pb.INodeProto, name: string): number[] | undefined {
  const a = attr(n, name);
  return a?.ints && a.ints.length > 0 ? a.ints.map((v) => toNum(v as Int64Like)) : undefined;
}

function stringAttr(n: pb.INodeProto, name: string): string | undefined {
  const s = attr(n, name)?.s;
  return s ? new TextDecoder().decode(s) : undefined;
}

function elements(s: Shape): number {
  return s.reduce((a, b) => a * b, 1);
}

function broadcast(shapes: Shape[]): Shape | null {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) return null;
      d = v;
    }
    out.push(d);
  }
  return out;
}

/** Output spatial sizes of a convolution or pool over `spatial` (ONNX's pads, strides, dilations, auto_pad). */
function windowed(n: pb.INodeProto, spatial: number[], kernel: number[]): number[] | null {
  const k = kernel.length;
  const strides = intsAttr(n, 'strides') ?? new Array<number>(k).fill(1);
  const dil = intsAttr(n, 'dilations') ?? new Array<number>(k).fill(1);
  const pads = intsAttr(n, 'pads') ?? new Array<number>(2 * k).fill(0);
  const autoPad = stringAttr(n, 'auto_pad') ?? 'NOTSET';
  const ceil = intAttr(n, 'ceil_mode', 0) === 1;
  const out: number[] = [];
  for (let i = 0; i < k; i++) {
    const s = strides[i] ?? 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      out.push(Math.ceil(spatial[i] / s));
      continue;
    }
    const effK = (kernel[i] - 1) * (dil[i] ?? 1) + 1;
    const span = spatial[i] + (autoPad === 'VALID' ? 0 : (pads[i] ?? 0) + (pads[i + k] ?? 0)) - effK;
    const o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    if (!(o >= 1)) return null;
    out.push(o);
  }
  return out;
}

/** A small constant integer vector (shape, axes, pads, sizes) named by a node input, or null. */
function smallConstant(model: OnnxModel, name: string | undefined): number[] | null {
  if (!name) return null;
  const init = model.initializers.find((t) => t.name === name);
  if (init && elements(init.dims) > MAX_SHAPE_CONSTANT) return null;
  const t = constantTensor(model, name);
  if (!t || t.values.length > MAX_SHAPE_CONSTANT) return null;
  return Array.from(t.values);
}

interface NodeCost {
  out: Shape | null;
  macs: number | null;
}

/** Output shape and MACs of one node from its inputs' shapes (null where they do not follow). */
function nodeCost(model: OnnxModel, n: pb.INodeProto, ins: (Shape | undefined)[]): NodeCost {
  const op = n.opType ?? '';
  const x = ins[0];
  const none: NodeCost = { out: null, macs: null };
  if (SAME_SHAPE.has(op)) return x ? { out: x, macs: elements(x) } : none;
  if (BROADCAST.has(op)) {
    if (ins.length === 0 || ins.some((s) => !s)) return none;
    const out = broadcast(ins as Shape[]);
    return out ? { out, macs: elements(out) } : none;
  }
  if (op === 'Conv' || op === 'ConvTranspose') {
    const w = ins[1];
    if (!x || !w || x.length < 3 || w.length !== x.length) return none;
    const group = intAttr(n, 'group', 1);
    const kernel = w.slice(2);
    const kElems = elements(kernel);
    if (op === 'Conv') {
      const sp = windowed(n, x.slice(2), kernel);
      if (!sp) return none;
      const out = [x[0], w[0], ...sp];
      return { out, macs: elements(out) * w[1] * kElems };
    }
    const strides = intsAttr(n, 'strides') ?? kernel.map(() => 1);
    const explicit = intsAttr(n, 'output_shape');
    const sp = explicit ?? x.slice(2).map((d, i) => (d - 1) * (strides[i] ?? 1) + kernel[i]);
    const cout = w[1] * group;
    return { out: [x[0], cout, ...sp], macs: elements(x) * w[1] * kElems };
  }
  if (POOLS.has(op)) {
    const kernel = intsAttr(n, 'kernel_shape');
    if (!x || !kernel || x.length < 3) return none;
    const sp = windowed(n, x.slice(2), kernel);
    if (!sp) return none;
    const out = [x[0], x[1], ...sp];
    return { out, macs: elements(out) * elements(kernel) };
  }
  if (GLOBAL_POOLS.has(op)) {
    if (!x || x.length < 3) return none;
    return { out: [x[0], x[1], ...x.slice(2).map(() => 1)], macs: elements(x) };
  }
  if (op === 'Gemm') {
    const b = ins[1];
    if (!x || !b || x.length !== 2 || b.length !== 2) return none;
    const m = intAttr(n, 'transA', 0) ? x[1] : x[0];
    const k = intAttr(n, 'transA', 0) ? x[0] : x[1];
    const cols = intAttr(n, 'transB', 0) ? b[0] : b[1];
    return { out: [m, cols], macs: m * k * cols };
  }
  if (op === 'MatMul') {
    const b = ins[1];
    if (!x || !b || x.length === 0 || b.length === 0) return none;
    const a2 = x.length === 1 ? [1, x[0]] : x;
    const b2 = b.length === 1 ? [b[0], 1] : b;
    const batch = broadcast([a2.slice(0, -2), b2.slice(0, -2)]);
    if (!batch) return none;
    const m = a2[a2.length - 2];
    const k = a2[a2.length - 1];
    const cols = b2[b2.length - 1];
    const out = [...batch, ...(x.length === 1 ? [] : [m]), ...(b.length === 1 ? [] : [cols])];
    return { out, macs: elements(batch) * m * k * cols };
  }
  if (op === 'Flatten') {
    if (!x) return none;
    const axis = intAttr(n, 'axis', 1);
    const a = axis < 0 ? axis + x.length : axis;
    return { out: [elements(x.slice(0, a)), elements(x.slice(a))], macs: 0 };
  }
  if (op === 'Reshape') {
    const target = smallConstant(model, (n.input ?? [])[1]);
    if (!x || !target) return none;
    const out = target.map((d, i) => (d === 0 ? (x[i] ?? 0) : d));
    const known = out.filter((d) => d !== -1);
    if (out.length - known.length > 1) return none;
    const rest = elements(x) / Math.max(1, elements(known));
    const full = out.map((d) => (d === -1 ? rest : d));
    return full.every((d) => Number.isInteger(d) && d >= 0) ? { out: full, macs: 0 } : none;
  }
  if (op === 'Transpose') {
    if (!x) return none;
    const perm = intsAttr(n, 'perm') ?? x.map((_, i) => x.length - 1 - i);
    return { out: perm.map((p) => x[p]), macs: elements(x) };
  }
  if (op === 'Concat') {
    if (ins.length === 0 || ins.some((s) => !s)) return none;
    const shapes = ins as Shape[];
    const rank = shapes[0].length;
    const axis = intAttr(n, 'axis', 0);
    const a = axis < 0 ? axis + rank : axis;
    const out = shapes[0].slice();
    out[a] = shapes.reduce((s, sh) => s + (sh[a] ?? 0), 0);
    return { out, macs: elements(out) };
  }
  if (op === 'Squeeze' || op === 'Unsqueeze') {
    if (!x) return none;
    const axes = intsAttr(n, 'axes') ?? smallConstant(model, (n.input ?? [])[1]);
    if (op === 'Squeeze') {
      if (!axes) return { out: x.filter((d) => d !== 1), macs: 0 };
      const drop = new Set(axes.map((a) => (a < 0 ? a + x.length : a)));
      return { out: x.filter((_, i) => !drop.has(i)), macs: 0 };
    }
    if (!axes) return none;
    const rank = x.length + axes.length;
    const add = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
    const out: Shape = [];
    let j = 0;
    for (let i = 0; i < rank; i++) out.push(add.has(i) ? 1 : x[j++]);
    return { out, macs: 0 };
  }
  if (REDUCES.has(op)) {
    if (!x) return none;
    const keep = intAttr(n, 'keepdims', 1) === 1;
    const single = op === 'ArgMax' || op === 'ArgMin' ? [intAttr(n, 'axis', 0)] : undefined;
    const axes = single ?? intsAttr(n, 'axes') ?? smallConstant(model, (n.input ?? [])[1]);
    const all = !axes || axes.length === 0;
    const set = new Set((axes ?? []).map((a) => (a < 0 ? a + x.length : a)));
    const out = x.flatMap((d, i) => (all || set.has(i) ? (keep ? [1] : []) : [d]));
    return { out, macs: elements(x) };
  }
  if (op === 'Pad') {
    const pads = intsAttr(n, 'pads') ?? smallConstant(model, (n.input ?? [])[1]);
    if (!x || !pads || pads.length !== 2 * x.length) return none;
    const out = x.map((d, i) => d + pads[i] + pads[i + x.length]);
    return { out, macs: elements(out) };
  }
  if (op === 'Resize' || op === 'Upsample') {
    if (!x) return none;
    const inputs = n.input ?? [];
    const sizes = op === 'Resize' ? smallConstant(model, inputs[3]) : null;
    const scales =
      op === 'Resize' ? smallConstant(model, inputs[2]) : (smallConstant(model, inputs[1]) ?? null);
    const out =
      sizes && sizes.length === x.length
        ? sizes
        : scales && scales.length === x.length
          ? x.map((d, i) => Math.floor(d * scales[i]))
          : null;
    return out ? { out, macs: elements(out) } : none;
  }
  if (op === 'LSTM' || op === 'GRU' || op === 'RNN') {
    const w = ins[1];
    const r = ins[2];
    if (!x || !w || !r || x.length !== 3) return none;
    // per step: the gates' input and recurrent products, for every direction
    const steps = x[0];
    const macs = steps * (elements(w) + elements(r));
    const hidden = r[2];
    return { out: [steps, w[0], x[1], hidden], macs };
  }
  return none;
}

/**
 * Estimated multiply-accumulates of one forward pass over inputs of the given shapes (batch axis included,
 * batch 1), by graph input name.
 */
export function forwardMacs(model: OnnxModel, inputShapes: ReadonlyMap<string, Shape>): MacEstimate {
  const shapes = new Map<string, Shape>();
  for (const [name, s] of inputShapes) shapes.set(name, s.slice());
  const constants = new Map<string, Shape>();
  for (const t of model.initializers) constants.set(t.name, t.dims.slice());
  for (const n of model.proto.graph?.node ?? []) {
    if (n.opType !== 'Constant') continue;
    const t = attr(n, 'value')?.t;
    const out = (n.output ?? [])[0];
    if (t && out)
      constants.set(
        out,
        (t.dims ?? []).map((d) => toNum(d as Int64Like)),
      );
  }
  const convWeights = new Set<string>();
  const weightCount = model.initializers.reduce((s, t) => s + elements(t.dims), 0);
  let macs = 0;
  let followed = 0;
  let estimated = 0;
  // Nodes in topological order (model.layers lists every node output in that order).
  const order = new Map(model.layers.map((l, i) => [l.name, i]));
  const nodes = [...(model.proto.graph?.node ?? [])].sort(
    (a, b) => (order.get((a.output ?? [])[0]) ?? 0) - (order.get((b.output ?? [])[0]) ?? 0),
  );
  for (const n of nodes) {
    if (n.opType === 'Constant') continue;
    const ins = (n.input ?? []).map((name) => (name ? (shapes.get(name) ?? constants.get(name)) : undefined));
    const cost = nodeCost(model, n, ins);
    const outName = (n.output ?? [])[0];
    if (cost.out && outName) shapes.set(outName, cost.out);
    if (cost.macs !== null) {
      macs += cost.macs;
      followed++;
      continue;
    }
    estimated++;
    // Shapes unknown: the node's weights, as the former estimate counted them.
    for (const [i, name] of (n.input ?? []).entries()) {
      const w = name ? constants.get(name) : undefined;
      if (!w || convWeights.has(name)) continue;
      const isConvWeight = (n.opType === 'Conv' || n.opType === 'ConvTranspose') && i === 1;
      if (isConvWeight) convWeights.add(name);
      const input = inputShapes.values().next().value as Shape | undefined;
      const spatial = input && input.length >= 3 ? input[input.length - 1] * input[input.length - 2] : 1;
      macs += isConvWeight
        ? elements(w) * Math.max(1, spatial * UNKNOWN_CONV_SPATIAL_SHARE)
        : i > 0
          ? elements(w)
          : 0;
    }
  }
  return { macs: Math.max(1, macs, weightCount), followed, estimated };
}
