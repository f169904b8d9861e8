/**
 * Static element types and shapes of every tensor of a graph, as far as they follow from the declared
 * inputs, the initializers and the operators' own rules, with the batch dimension (or any other declared
 * symbolic dimension) kept as its symbol. Small integer tensors (shape vectors, axes, pads) are folded to
 * their values, symbols included, so the Shape -> Gather -> Concat -> Reshape chains exporters write for
 * dynamic batches resolve. The gradient rules read these to decide which axes a broadcast widened, the
 * spatial sizes a transposed convolution must restore, and the like; where a size stays unknown, rules
 * that can use the runtime shape (Shape of the forward tensor) do, and the others name the node.
 *
 * Why hand-written: ONNX's shape inference lives in the C++ `onnx` package (and inside ONNX Runtime, which
 * does not expose it to Node); no maintained JavaScript package infers ONNX shapes.
 */
import type { onnx as pb } from 'onnx-proto';
import { MAX_FOLDED_INT_ELEMENTS } from '../../limits.js';
import { elementTypeOf, toNum, type Int64Like } from '../dtypes.js';
import { tensorValues } from '../tensor-data.js';
import type { ElementType } from '../types.js';
import { Attrs } from './attrs.js';

/** A dimension or a folded integer: a number, a symbol (e.g. 'N'), or null when unknown. */
export type Dim = number | string | null;

export interface Meta {
  dtype: ElementType;
  /** null: rank unknown. */
  shape: Dim[] | null;
  /** Row-major values of a small integer tensor, when known (symbols allowed). */
  value?: Dim[];
}

const UNKNOWN: Meta = { dtype: 'unknown', shape: null };

export function isFloat(t: ElementType): boolean {
  return t === 'float32' || t === 'float64' || t === 'float16' || t === 'bfloat16';
}

function isInt(t: ElementType): boolean {
  return t === 'int64' || t === 'int32' || t === 'int16' || t === 'int8' || t === 'uint8';
}

/** Number of elements, when every dim is a number. */
export function sizeOf(shape: Dim[] | null): number | null {
  if (!shape) return null;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return n;
}

/** Product of dims: a number, a lone symbol times 1, or null. */
function productDim(dims: Dim[]): Dim {
  let n = 1;
  let sym: string | null = null;
  for (const d of dims) {
    if (typeof d === 'number') n *= d;
    else if (typeof d === 'string' && sym === null) sym = d;
    else return null;
  }
  if (sym === null) return n;
  return n === 1 ? sym : null;
}

/** Numpy broadcasting of two shapes (null when ranks are unknown). */
export function broadcastShapes(a: Dim[] | null, b: Dim[] | null): Dim[] | null {
  if (!a || !b) return null;
  const r = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const x = i < r - a.length ? 1 : a[i - (r - a.length)];
    const y = i < r - b.length ? 1 : b[i - (r - b.length)];
    if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (x === y) out.push(x);
    else if (typeof x === 'number') out.push(x);
    else if (typeof y === 'number') out.push(y);
    else out.push(null);
  }
  return out;
}

/** An axis in [0, rank). */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** A TensorProto's small integer values (null for floats, big tensors or unreadable data). */
function intValues(t: pb.ITensorProto): Dim[] | undefined {
  const dtype = elementTypeOf(t.dataType);
  if (!isInt(dtype)) return undefined;
  const n = (t.dims ?? []).reduce<number>((a, d) => a * toNum(d as Int64Like), 1);
  if (n > MAX_FOLDED_INT_ELEMENTS) return undefined;
  const v = tensorValues(t);
  return v ? Array.from(v) : undefined;
}

export function tensorMeta(t: pb.ITensorProto): Meta {
  const dims = (t.dims ?? []).map((d) => toNum(d as Int64Like));
  const m: Meta = { dtype: elementTypeOf(t.dataType), shape: dims };
  const v = intValues(t);
  if (v) m.value = v;
  return m;
}

export function valueInfoMeta(v: pb.IValueInfoProto): Meta {
  const tt = v.type?.tensorType;
  const dims = tt?.shape?.dim;
  return {
    dtype: elementTypeOf(tt?.elemType),
    shape: dims
      ? dims.map((d) => {
          if (d.dimValue != null && toNum(d.dimValue as Int64Like) > 0) return toNum(d.dimValue as Int64Like);
          if (d.dimParam) return d.dimParam;
          return null;
        })
      : null,
  };
}

/** Spatial output size of a convolution or pooling window (ONNX's formulas, ceil_mode as ORT does it). */
export function windowOut(
  inSize: Dim,
  k: number,
  stride: number,
  dilation: number,
  padBegin: number,
  padEnd: number,
  ceil = false,
): Dim {
  if (typeof inSize !== 'number') return null;
  const span = inSize + padBegin + padEnd - dilation * (k - 1) - 1;
  if (!ceil) return Math.floor(span / stride) + 1;
  let out = Math.ceil(span / stride) + 1;
  // the last window must start inside the input or its leading padding (ONNX, PyTorch)
  if ((out - 1) * stride >= inSize + padBegin) out--;
  return out;
}

/** Resolved [begin..., end...] pads of a window op, auto_pad included (null when a size is unknown). */
export function windowPads(
  a: Attrs,
  inSpatial: Dim[],
  kernel: number[],
  strides: number[],
  dilations: number[],
): number[] | null {
  const r = kernel.length;
  const auto = a.string('auto_pad', 'NOTSET');
  if (auto === 'NOTSET') return a.ints('pads') ?? new Array<number>(2 * r).fill(0);
  if (auto === 'VALID') return new Array<number>(2 * r).fill(0);
  const pads = new Array<number>(2 * r).fill(0);
  for (let i = 0; i < r; i++) {
    const n = inSpatial[i];
    if (typeof n !== 'number') return null;
    const out = Math.ceil(n / strides[i]);
    const total = Math.max(0, (out - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - n);
    const small = Math.floor(total / 2);
    pads[i] = auto === 'SAME_UPPER' ? small : total - small;
    pads[i + r] = total - pads[i];
  }
  return pads;
}

export interface WindowGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: number[];
  out: Dim[];
}

/** Kernel, strides, dilations, resolved pads and spatial output of a Conv / pooling node. */
export function windowGeometry(
  a: Attrs,
  inShape: Dim[],
  kernel: number[],
  ceil = false,
): WindowGeometry | null {
  const r = kernel.length;
  const spatial = inShape.slice(2);
  if (spatial.length !== r) return null;
  const strides = a.ints('strides') ?? new Array<number>(r).fill(1);
  const dilations = a.ints('dilations') ?? new Array<number>(r).fill(1);
  const pads = windowPads(a, spatial, kernel, strides, dilations);
  if (!pads) return null;
  const out = spatial.map((d, i) =>
    windowOut(d, kernel[i], strides[i], dilations[i], pads[i], pads[i + r], ceil),
  );
  return { kernel, strides, dilations, pads, out };
}

/** The axes a node reads from its attribute (older opsets) or its second input (newer). */
export function axesOf(
  node: pb.INodeProto,
  a: Attrs,
  meta: (n: string) => Meta,
  inputIndex = 1,
): Dim[] | undefined {
  const fromAttr = a.ints('axes');
  if (fromAttr) return fromAttr;
  const name = (node.input ?? [])[inputIndex];
  if (!name) return undefined;
  return meta(name).value;
}

function allNumbers(v: Dim[] | undefined): v is number[] {
  return !!v && v.every((x) => typeof x === 'number');
}

function reduceShape(shape: Dim[], axes: number[] | undefined, keep: boolean, noopEmpty: boolean): Dim[] {
  if (!axes || axes.length === 0) {
    if (noopEmpty) return shape;
    return keep ? shape.map(() => 1) : [];
  }
  const set = new Set(axes.map((x) => normAxis(x, shape.length)));
  return keep ? shape.map((d, i) => (set.has(i) ? 1 : d)) : shape.filter((_, i) => !set.has(i));
}

/** Reshape's output shape from the target values (0 copies, -1 infers). */
function reshapeShape(input: Dim[] | null, target: Dim[], allowZero: boolean): Dim[] {
  const out: Dim[] = target.map((t, i) => (t === 0 && !allowZero ? (input ? (input[i] ?? null) : null) : t));
  const minus = out.findIndex((d) => d === -1);
  if (minus < 0) return out;
  if (!input) {
    out[minus] = null;
    return out;
  }
  // Cancel the same symbols on both sides; divide the numeric parts.
  const num: Dim[] = [...input];
  const den = out.filter((_, i) => i !== minus);
  for (let i = 0; i < den.length; i++) {
    if (typeof den[i] === 'string') {
      const j = num.indexOf(den[i]);
      if (j < 0) {
        out[minus] = null;
        return out;
      }
      num[j] = 1;
      den[i] = 1;
    }
  }
  const n = productDim(num);
  const d = productDim(den);
  if (typeof d !== 'number' || d === 0) out[minus] = null;
  else if (typeof n === 'number') out[minus] = n % d === 0 ? n / d : null;
  else out[minus] = d === 1 ? n : null;
  return out;
}

/** Elementwise integer arithmetic on folded values (numpy broadcasting of a scalar only). */
function foldBinary(op: string, a: Dim[] | undefined, b: Dim[] | undefined): Dim[] | undefined {
  if (!a || !b) return undefined;
  const n = Math.max(a.length, b.length);
  if (a.length !== n && a.length !== 1) return undefined;
  if (b.length !== n && b.length !== 1) return undefined;
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length === 1 ? 0 : i];
    const y = b[b.length === 1 ? 0 : i];
    if (typeof x !== 'number' || typeof y !== 'number') {
      if (op === 'Mul' && (x === 1 || y === 1)) out.push(x === 1 ? y : x);
      else if ((op === 'Add' || op === 'Sub') && y === 0) out.push(x);
      else if (op === 'Div' && y === 1) out.push(x);
      else out.push(null);
      continue;
    }
    switch (op) {
      case 'Add':
        out.push(x + y);
        break;
      case 'Sub':
        out.push(x - y);
        break;
      case 'Mul':
        out.push(x * y);
        break;
      case 'Div':
        out.push(y === 0 ? null : Math.trunc(x / y));
        break;
      default:
        return undefined;
    }
  }
  return out;
}

function sliceRange(dim: number, start: number, end: number, step: number): [number, number] {
  const clampIdx = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = clampIdx(s, 0, dim);
    e = clampIdx(e, 0, dim);
  } else {
    s = clampIdx(s, 0, dim - 1);
    e = clampIdx(e, -1, dim - 1);
  }
  return [s, e];
}

function sliceCount(s: number, e: number, step: number): number {
  return Math.max(0, Math.ceil((e - s) / step));
}

/** Slice parameters of a node (attributes before opset 10, inputs after). */
export function sliceParams(
  node: pb.INodeProto,
  a: Attrs,
  meta: (n: string) => Meta,
  rank: number,
): { starts: number[]; ends: number[]; axes: number[]; steps: number[] } | null {
  const ins = node.input ?? [];
  let starts: Dim[] | undefined;
  let ends: Dim[] | undefined;
  let axes: Dim[] | undefined;
  let steps: Dim[] | undefined;
  if (a.has('starts')) {
    starts = a.ints('starts');
    ends = a.ints('ends');
    axes = a.ints('axes');
  } else {
    starts = meta(ins[1] ?? '').value;
    ends = meta(ins[2] ?? '').value;
    axes = ins[3] ? meta(ins[3]).value : undefined;
    steps = ins[4] ? meta(ins[4]).value : undefined;
    if (ins[3] && !axes) return null;
    if (ins[4] && !steps) return null;
  }
  if (!allNumbers(starts) || !allNumbers(ends)) return null;
  const ax = axes ? (allNumbers(axes) ? axes.map((x) => normAxis(x, rank)) : null) : starts.map((_, i) => i);
  const st = steps ? (allNumbers(steps) ? steps : null) : starts.map(() => 1);
  if (!ax || !st) return null;
  return { starts, ends, axes: ax, steps: st };
}

type MetaOf = (name: string) => Meta;

/** Output metas of one node from its inputs' (unknown ops give unknown metas). */
export function inferNode(node: pb.INodeProto, meta: MetaOf, opset: number): Meta[] {
  const op = node.opType ?? '';
  const ins = node.input ?? [];
  const nOut = (node.output ?? []).length;
  const a = new Attrs(node);
  const x = ins[0] ? meta(ins[0]) : UNKNOWN;
  const same = (): Meta[] => [
    { dtype: x.dtype, shape: x.shape },
    ...new Array<Meta>(Math.max(0, nOut - 1)).fill(UNKNOWN),
  ];
  switch (op) {
    case 'Relu':
    case 'LeakyRelu':
    case 'Sigmoid':
    case 'Tanh':
    case 'Elu':
    case 'Selu':
    case 'Exp':
    case 'Log':
    case 'Sqrt':
    case 'Neg':
    case 'Abs':
    case 'Reciprocal':
    case 'Erf':
    case 'Gelu':
    case 'Softplus':
    case 'Softsign':
    case 'HardSigmoid':
    case 'HardSwish':
    case 'Sign':
    case 'Floor':
    case 'Ceil':
    case 'Round':
    case 'Clip':
    case 'Softmax':
    case 'LogSoftmax':
    case 'BatchNormalization':
    case 'LayerNormalization':
    case 'InstanceNormalization':
    case 'LRN':
    case 'Dropout':
    case 'PRelu':
    case 'Not':
    case 'Mish':
      if (op === 'Dropout' && nOut > 1)
        return [
          { dtype: x.dtype, shape: x.shape },
          { dtype: 'bool', shape: x.shape },
        ];
      return same();
    case 'Identity':
      return [{ ...x }];
    case 'Cast': {
      const to = elementTypeOf(a.int('to', 1));
      return [{ dtype: to, shape: x.shape, ...(x.value && isInt(to) ? { value: x.value } : {}) }];
    }
    case 'CastLike':
      return [{ dtype: meta(ins[1] ?? '').dtype, shape: x.shape, ...(x.value ? { value: x.value } : {}) }];
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
    case 'Pow':
    case 'Max':
    case 'Min':
    case 'Sum':
    case 'Mean':
    case 'Mod': {
      let shape: Dim[] | null = x.shape;
      for (const i of ins.slice(1)) shape = broadcastShapes(shape, meta(i).shape);
      const m: Meta = { dtype: x.dtype, shape };
      if (ins.length === 2 && isInt(x.dtype)) {
        const v = foldBinary(op, x.value, meta(ins[1]).value);
        if (v) m.value = v;
      }
      return [m];
    }
    case 'Equal':
    case 'Less':
    case 'Greater':
    case 'LessOrEqual':
    case 'GreaterOrEqual':
    case 'And':
    case 'Or':
    case 'Xor':
      return [{ dtype: 'bool', shape: broadcastShapes(x.shape, meta(ins[1] ?? '').shape) }];
    case 'Where': {
      const s = broadcastShapes(broadcastShapes(x.shape, meta(ins[1]).shape), meta(ins[2]).shape);
      return [{ dtype: meta(ins[1]).dtype, shape: s }];
    }
    case 'IsNaN':
    case 'IsInf':
      return [{ dtype: 'bool', shape: x.shape }];
    case 'Gemm': {
      const b = meta(ins[1]);
      if (!x.shape || !b.shape || x.shape.length !== 2 || b.shape.length !== 2)
        return [{ dtype: x.dtype, shape: null }];
      const m = a.int('transA', 0) ? x.shape[1] : x.shape[0];
      const n = a.int('transB', 0) ? b.shape[0] : b.shape[1];
      return [{ dtype: x.dtype, shape: [m, n] }];
    }
    case 'MatMul': {
      const b = meta(ins[1]);
      if (!x.shape || !b.shape || x.shape.length < 2 || b.shape.length < 2) {
        // 1-D operands: numpy matmul semantics
        if (x.shape && b.shape && x.shape.length === 1 && b.shape.length >= 2)
          return [{ dtype: x.dtype, shape: [...b.shape.slice(0, -2), b.shape[b.shape.length - 1]] }];
        if (x.shape && b.shape && b.shape.length === 1 && x.shape.length >= 2)
          return [{ dtype: x.dtype, shape: x.shape.slice(0, -1) }];
        return [{ dtype: x.dtype, shape: null }];
      }
      const batch = broadcastShapes(x.shape.slice(0, -2), b.shape.slice(0, -2));
      return [
        {
          dtype: x.dtype,
          shape: batch ? [...batch, x.shape[x.shape.length - 2], b.shape[b.shape.length - 1]] : null,
        },
      ];
    }
    case 'Conv': {
      const w = meta(ins[1]);
      if (!x.shape || !w.shape) return [{ dtype: x.dtype, shape: null }];
      const kernel =
        a.ints('kernel_shape') ??
        (w.shape.slice(2).every((d) => typeof d === 'number') ? (w.shape.slice(2) as number[]) : null);
      if (!kernel) return [{ dtype: x.dtype, shape: null }];
      const g = windowGeometry(a, x.shape, kernel);
      return [{ dtype: x.dtype, shape: g ? [x.shape[0], w.shape[0], ...g.out] : null }];
    }
    case 'ConvTranspose':
      return [{ dtype: x.dtype, shape: null }];
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool': {
      const kernel = a.ints('kernel_shape');
      if (!x.shape || !kernel)
        return [
          { dtype: x.dtype, shape: null },
          { dtype: 'int64', shape: null },
        ];
      const g = windowGeometry(a, x.shape, kernel, a.int('ceil_mode', 0) === 1);
      const shape = g ? [x.shape[0], x.shape[1], ...g.out] : null;
      return [
        { dtype: x.dtype, shape },
        { dtype: 'int64', shape },
      ];
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'GlobalLpPool':
      return [
        {
          dtype: x.dtype,
          shape: x.shape ? [x.shape[0], x.shape[1], ...x.shape.slice(2).map(() => 1)] : null,
        },
      ];
    case 'Flatten': {
      if (!x.shape) return [{ dtype: x.dtype, shape: [null, null] }];
      const axis = normAxis(a.int('axis', 1), x.shape.length);
      return [
        { dtype: x.dtype, shape: [productDim(x.shape.slice(0, axis)), productDim(x.shape.slice(axis))] },
      ];
    }
    case 'Reshape': {
      const target = meta(ins[1] ?? '').value;
      const targetShape = meta(ins[1] ?? '').shape;
      if (!target) {
        const r = targetShape && typeof targetShape[0] === 'number' ? targetShape[0] : null;
        return [{ dtype: x.dtype, shape: r === null ? null : new Array<Dim>(r).fill(null) }];
      }
      const shape = reshapeShape(x.shape, target, a.int('allowzero', 0) === 1);
      return [{ dtype: x.dtype, shape, ...(x.value && shape.length === 1 ? { value: x.value } : {}) }];
    }
    case 'Transpose': {
      if (!x.shape) return [{ dtype: x.dtype, shape: null }];
      const perm = a.ints('perm') ?? x.shape.map((_, i) => x.shape!.length - 1 - i);
      return [{ dtype: x.dtype, shape: perm.map((p) => x.shape![p] ?? null) }];
    }
    case 'Squeeze': {
      const axes = opset >= 13 ? (ins[1] ? meta(ins[1]).value : undefined) : a.ints('axes');
      if (!x.shape) return [{ dtype: x.dtype, shape: null }];
      if (!axes) {
        if (ins[1] && opset >= 13) return [{ dtype: x.dtype, shape: null }];
        return [
          { dtype: x.dtype, shape: x.shape.filter((d) => d !== 1), ...(x.value ? { value: x.value } : {}) },
        ];
      }
      if (!allNumbers(axes)) return [{ dtype: x.dtype, shape: null }];
      const set = new Set(axes.map((v) => normAxis(v, x.shape!.length)));
      return [
        {
          dtype: x.dtype,
          shape: x.shape.filter((_, i) => !set.has(i)),
          ...(x.value ? { value: x.value } : {}),
        },
      ];
    }
    case 'Unsqueeze': {
      const axes = opset >= 13 ? meta(ins[1] ?? '').value : a.ints('axes');
      if (!x.shape || !allNumbers(axes)) return [{ dtype: x.dtype, shape: null }];
      const r = x.shape.length + axes.length;
      const set = new Set(axes.map((v) => normAxis(v, r)));
      const out: Dim[] = [];
      let j = 0;
      for (let i = 0; i < r; i++) out.push(set.has(i) ? 1 : x.shape[j++]);
      return [{ dtype: x.dtype, shape: out, ...(x.value ? { value: x.value } : {}) }];
    }
    case 'Shape': {
      if (!x.shape) return [{ dtype: 'int64', shape: [null] }];
      const r = x.shape.length;
      let start = a.int('start', 0);
      let end = a.int('end', r);
      start = Math.min(Math.max(start < 0 ? start + r : start, 0), r);
      end = Math.min(Math.max(end < 0 ? end + r : end, 0), r);
      const v = x.shape.slice(start, Math.max(start, end));
      return [{ dtype: 'int64', shape: [v.length], value: v }];
    }
    case 'Size':
      return [
        { dtype: 'int64', shape: [], ...(sizeOf(x.shape) !== null ? { value: [sizeOf(x.shape)] } : {}) },
      ];
    case 'Gather': {
      const idx = meta(ins[1] ?? '');
      if (!x.shape || !idx.shape) return [{ dtype: x.dtype, shape: null }];
      const axis = normAxis(a.int('axis', 0), x.shape.length);
      const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
      const m: Meta = { dtype: x.dtype, shape };
      if (x.value && idx.value && x.shape.length === 1 && allNumbers(idx.value)) {
        const n = x.value.length;
        m.value = idx.value.map((i) => x.value![i < 0 ? i + n : i] ?? null);
      }
      return [m];
    }
    case 'Concat': {
      const parts = ins.map((i) => meta(i));
      if (parts.some((p) => !p.shape)) return [{ dtype: x.dtype, shape: null }];
      const r = parts[0].shape!.length;
      const axis = normAxis(a.int('axis', 0), r);
      const shape = [...parts[0].shape!];
      shape[axis] = parts.reduce<Dim>(
        (s, p) =>
          typeof s === 'number' && typeof p.shape![axis] === 'number' ? s + (p.shape![axis] as number) : null,
        0,
      );
      const m: Meta = { dtype: x.dtype, shape };
      if (r === 1 && parts.every((p) => p.value)) m.value = parts.flatMap((p) => p.value!);
      return [m];
    }
    case 'Slice': {
      if (!x.shape) return [{ dtype: x.dtype, shape: null }];
      const p = sliceParams(node, a, meta, x.shape.length);
      if (!p) return [{ dtype: x.dtype, shape: x.shape.map(() => null) }];
      const shape = [...x.shape];
      let value = x.value && x.shape.length === 1 ? [...x.value] : undefined;
      p.axes.forEach((ax, i) => {
        const d = x.shape![ax];
        if (typeof d !== 'number') {
          shape[ax] = p.starts[i] === 0 && p.ends[i] >= 2 ** 31 - 1 && p.steps[i] === 1 ? d : null;
          if (ax === 0) value = undefined;
          return;
        }
        const [s, e] = sliceRange(d, p.starts[i], p.ends[i], p.steps[i]);
        shape[ax] = sliceCount(s, e, p.steps[i]);
        if (value && ax === 0) {
          const out: Dim[] = [];
          for (let k = s; p.steps[i] > 0 ? k < e : k > e; k += p.steps[i]) out.push(value[k]);
          value = out;
        }
      });
      return [{ dtype: x.dtype, shape, ...(value ? { value } : {}) }];
    }
    case 'Constant': {
      const t = a.tensor('value');
      if (t) return [tensorMeta(t)];
      const vi = a.ints('value_ints');
      if (vi) return [{ dtype: 'int64', shape: [vi.length], value: vi }];
      if (a.has('value_int')) return [{ dtype: 'int64', shape: [], value: [a.int('value_int', 0)] }];
      const vf = a.floats('value_floats');
      if (vf) return [{ dtype: 'float32', shape: [vf.length] }];
      if (a.has('value_float')) return [{ dtype: 'float32', shape: [] }];
      return [UNKNOWN];
    }
    case 'ConstantOfShape': {
      const t = a.tensor('value');
      const dtype = t ? elementTypeOf(t.dataType) : 'float32';
      const v = x.value;
      const m: Meta = { dtype, shape: v ? [...v] : null };
      if (v && isInt(dtype) && allNumbers(v)) {
        const n = v.reduce((s, d) => s * d, 1);
        const fill = t ? intValues(t) : undefined;
        if (n <= MAX_FOLDED_INT_ELEMENTS && fill) m.value = new Array<Dim>(n).fill(fill[0] ?? 0);
      }
      return [m];
    }
    case 'Expand': {
      const target = meta(ins[1] ?? '').value;
      return [
        {
          dtype: x.dtype,
          shape: target
            ? broadcastShapes(
                x.shape,
                target.map((d) => (d === -1 ? 1 : d)),
              )
            : null,
        },
      ];
    }
    case 'Range': {
      const [s, l, d] = ins.map((i) => meta(i).value?.[0]);
      if (typeof s === 'number' && typeof l === 'number' && typeof d === 'number' && d !== 0) {
        const n = Math.max(0, Math.ceil((l - s) / d));
        const m: Meta = { dtype: x.dtype, shape: [n] };
        if (n <= MAX_FOLDED_INT_ELEMENTS && isInt(x.dtype))
          m.value = Array.from({ length: n }, (_, i) => s + i * d);
        return [m];
      }
      return [{ dtype: x.dtype, shape: [null] }];
    }
    case 'Pad': {
      const pads = opset >= 11 ? meta(ins[1] ?? '').value : a.ints('pads');
      if (!x.shape || !allNumbers(pads))
        return [{ dtype: x.dtype, shape: x.shape ? x.shape.map(() => null) : null }];
      const r = x.shape.length;
      const axes = opset >= 18 && ins[3] ? meta(ins[3]).value : undefined;
      if (ins[3] && opset >= 18 && !allNumbers(axes))
        return [{ dtype: x.dtype, shape: x.shape.map(() => null) }];
      const ax = axes ? (axes as number[]).map((v) => normAxis(v, r)) : x.shape.map((_, i) => i);
      const shape = [...x.shape];
      ax.forEach((axis, i) => {
        const d = shape[axis];
        shape[axis] =
          typeof d === 'number'
            ? d + pads[i] + pads[i + ax.length]
            : pads[i] + pads[i + ax.length] === 0
              ? d
              : null;
      });
      return [{ dtype: x.dtype, shape }];
    }
    case 'ReduceSum':
    case 'ReduceMean':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceProd':
    case 'ReduceL1':
    case 'ReduceL2':
    case 'ReduceSumSquare':
    case 'ReduceLogSumExp': {
      if (!x.shape) return [{ dtype: x.dtype, shape: null }];
      const axesAsInput = op === 'ReduceSum' ? opset >= 13 : opset >= 18;
      const axes = axesAsInput ? (ins[1] ? meta(ins[1]).value : []) : (a.ints('axes') ?? []);
      if (!axes || !allNumbers(axes)) return [{ dtype: x.dtype, shape: null }];
      return [
        {
          dtype: x.dtype,
          shape: reduceShape(
            x.shape,
            axes,
            a.int('keepdims', 1) === 1,
            a.int('noop_with_empty_axes', 0) === 1,
          ),
        },
      ];
    }
    case 'ArgMax':
    case 'ArgMin': {
      if (!x.shape) return [{ dtype: 'int64', shape: null }];
      return [
        {
          dtype: 'int64',
          shape: reduceShape(x.shape, [a.int('axis', 0)], a.int('keepdims', 1) === 1, false),
        },
      ];
    }
    case 'Split': {
      if (!x.shape) return new Array<Meta>(nOut).fill({ dtype: x.dtype, shape: null });
      const axis = normAxis(a.int('axis', 0), x.shape.length);
      const sizes = opset >= 13 ? (ins[1] ? meta(ins[1]).value : undefined) : a.ints('split');
      const d = x.shape[axis];
      let parts: Dim[];
      if (sizes) parts = sizes;
      else if (typeof d === 'number') {
        const each = Math.ceil(d / nOut);
        parts = Array.from({ length: nOut }, (_, i) => Math.max(0, Math.min(each, d - i * each)));
      } else parts = new Array<Dim>(nOut).fill(null);
      return parts.map((p) => {
        const shape = [...x.shape!];
        shape[axis] = p;
        return { dtype: x.dtype, shape };
      });
    }
    case 'OneHot': {
      const idx = x;
      const depth = meta(ins[1] ?? '').value?.[0] ?? null;
      if (!idx.shape) return [{ dtype: meta(ins[2] ?? '').dtype, shape: null }];
      const r = idx.shape.length + 1;
      const axis = normAxis(a.int('axis', -1), r);
      const shape = [...idx.shape];
      shape.splice(axis, 0, depth);
      return [{ dtype: meta(ins[2] ?? '').dtype, shape }];
    }
    default:
      return new Array<Meta>(nOut).fill(UNKNOWN);
  }
}
