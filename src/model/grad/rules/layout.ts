/**
 * Vector-Jacobian rules of the operators that move or select elements without arithmetic: Flatten,
 * Reshape, Squeeze, Unsqueeze (G reshaped to the input's runtime shape), Transpose (the inverse
 * permutation), Concat (a Slice of G per input) and Split (the adjoints concatenated, zeros for unused
 * outputs), Slice with unit steps (G padded back with zeros), constant-mode Pad (G padded by the negated
 * pads, which crops), Gather along any axis of a differentiable tensor with constant indices (G times a
 * one-hot matrix, so repeated indices add), the reductions ReduceSum / ReduceMean (G broadcast back), and ReduceMax / ReduceMin (G to the extreme
 * elements, ties sharing it).
 */
import { axesOf, normAxis, sliceParams } from '../shapes.js';
import { fail, numericDim, shapeOf, type Rule } from './rule.js';

const reshapeBack: Rule = (c) => [c.e.reshapeLike(c.gy[0]!, c.ins[0]), null];

const transpose: Rule = (c) => {
  const rank = shapeOf(c, c.ins[0]).length;
  const perm = c.a.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return [c.e.transpose(c.gy[0]!, inverse)];
};

const concat: Rule = (c) => {
  const rank = shapeOf(c, c.ins[0]).length;
  const axis = normAxis(c.a.int('axis', 0), rank);
  let offset = 0;
  return c.ins.map((x, i) => {
    const size = numericDim(shapeOf(c, x)[axis], `the Concat axis size of input ${i}`);
    const start = offset;
    offset += size;
    return c.needs[i] ? c.e.slice(c.gy[0]!, [start], [start + size], [axis]) : null;
  });
};

const split: Rule = (c) => {
  const x = c.ins[0];
  const axis = normAxis(c.a.int('axis', 0), shapeOf(c, x).length);
  const parts = c.outs.map((o, i) => c.gy[i] ?? c.e.zerosLike(o));
  return [parts.length === 1 ? parts[0] : c.e.op('Concat', parts, { axis: { int: axis } }), null];
};

const slice: Rule = (c) => {
  const x = c.ins[0];
  const shape = shapeOf(c, x);
  const p = sliceParams(c.node, c.a, (n) => c.meta(n), shape.length);
  if (!p) fail('Slice with starts, ends, axes or steps that are not constants');
  const pads = new Array<number>(2 * shape.length).fill(0);
  p.axes.forEach((axis, i) => {
    if (p.steps[i] !== 1) fail('Slice with a step other than 1');
    const d = numericDim(shape[axis], `the sliced axis ${axis}`);
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const s = clamp(p.starts[i]);
    const e = Math.max(s, clamp(p.ends[i]));
    pads[axis] = s;
    pads[axis + shape.length] = d - e;
  });
  return [c.e.pad(c.gy[0]!, pads), null, null, null, null];
};

const pad: Rule = (c) => {
  if (c.a.string('mode', 'constant') !== 'constant') fail(`Pad in ${c.a.string('mode', '')} mode`);
  const g = c.gy[0]!;
  // Pad with the negated pads undoes the padding (and re-pads with zeros what a negative pad cropped).
  const neg = c.e.op('Neg', [c.ins[1]]);
  const ins = [g, neg];
  if (c.ins[3]) ins.push('', c.ins[3]);
  return [c.e.op('Pad', ins), null, null, null];
};

const gather: Rule = (c) => {
  if (c.needs[1]) fail('gradients with respect to Gather indices');
  const [x, indices] = c.ins;
  const shape = shapeOf(c, x);
  const axis = normAxis(c.a.int('axis', 0), shape.length);
  const idx = c.meta(indices);
  const values = idx.value;
  if (!values || !values.every((v) => typeof v === 'number') || !idx.shape || idx.shape.length > 1)
    fail('Gather on a differentiable tensor needs constant scalar or 1-D indices');
  const depth = numericDim(shape[axis], 'the gathered axis');
  const k = values.length;
  // onehot[j, values[j]] = 1: dX (axis moved last) = G (axis moved last) @ onehot
  const onehot = new Array<number>(k * depth).fill(0);
  values.forEach(
    (v, j) => (onehot[j * depth + ((v as number) < 0 ? (v as number) + depth : (v as number))] = 1),
  );
  let g = c.gy[0]!;
  if (idx.shape.length === 0) g = c.e.unsqueeze(g, [axis]);
  const r = shape.length;
  const toLast = [...Array.from({ length: r }, (_, i) => i).filter((i) => i !== axis), axis];
  const back = new Array<number>(r);
  toLast.forEach((p, i) => (back[p] = i));
  const moved = axis === r - 1 ? g : c.e.transpose(g, toLast);
  const product = c.e.op('MatMul', [moved, c.e.f(onehot, [k, depth])]);
  return [axis === r - 1 ? product : c.e.transpose(product, back), null];
};

/** ReduceSum / ReduceMean: G (its reduced axes restored) broadcast back over the input. */
function reduceRule(mean: boolean): Rule {
  return (c) => {
    const x = c.ins[0];
    const shape = shapeOf(c, x);
    const r = shape.length;
    const listed = axesOf(c.node, c.a, (n) => c.meta(n));
    const axesAsInput = (c.node.opType === 'ReduceSum' ? c.opset >= 13 : c.opset >= 18) && !!c.ins[1];
    if (axesAsInput && !listed) fail('reduction axes that are not constants');
    if (listed && !listed.every((v) => typeof v === 'number')) fail('reduction axes that are not constants');
    let axes = (listed ?? []).map((v) => normAxis(v as number, r));
    if (axes.length === 0) {
      if (c.a.int('noop_with_empty_axes', 0) === 1) return [c.gy[0], null];
      axes = Array.from({ length: r }, (_, i) => i);
    }
    let g = c.gy[0]!;
    if (c.a.int('keepdims', 1) === 0)
      g = c.e.unsqueeze(
        g,
        [...axes].sort((a, b) => a - b),
      );
    if (mean) {
      const dims = axes.map((a) => shape[a]);
      const count = dims.every((d) => typeof d === 'number')
        ? c.e.f(1 / (dims as number[]).reduce((a, b) => a * b, 1))
        : c.e.op('Div', [
            c.e.op('Cast', [c.e.op('Size', [c.outs[0]])], { to: { int: 1 } }),
            c.e.op('Cast', [c.e.op('Size', [x])], { to: { int: 1 } }),
          ]);
      g = c.e.op('Mul', [g, count]);
    }
    return [c.e.expandLike(g, x), null];
  };
}

/**
 * ReduceMax / ReduceMin: G to the elements equal to the result, shared evenly among ties (PyTorch's amax /
 * amin; a max over the positions of a 1-D convolution's map, as text CNNs pool).
 */
function reduceExtremeRule(): Rule {
  return (c) => {
    const x = c.ins[0];
    const r = shapeOf(c, x).length;
    const listed = axesOf(c.node, c.a, (n) => c.meta(n));
    if (c.opset >= 18 && c.ins[1] && !listed) fail('reduction axes that are not constants');
    if (listed && !listed.every((v) => typeof v === 'number')) fail('reduction axes that are not constants');
    let axes = (listed ?? []).map((v) => normAxis(v as number, r));
    if (axes.length === 0) {
      if (c.a.int('noop_with_empty_axes', 0) === 1) return [c.gy[0], null];
      axes = Array.from({ length: r }, (_, i) => i);
    }
    const sorted = [...axes].sort((a, b) => a - b);
    const keep = c.a.int('keepdims', 1) !== 0;
    const y = keep ? c.outs[0] : c.e.unsqueeze(c.outs[0], sorted);
    const g = keep ? c.gy[0]! : c.e.unsqueeze(c.gy[0]!, sorted);
    const hit = c.e.op('Cast', [c.e.op('Equal', [x, y])], { to: { int: 1 } });
    const ties = c.e.reduceSum(hit, sorted, true);
    return [c.e.op('Mul', [hit, c.e.op('Div', [g, ties])]), null];
  };
}

export const LAYOUT_RULES: Record<string, Rule> = {
  Flatten: reshapeBack,
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Slice: slice,
  Pad: pad,
  Gather: gather,
  ReduceSum: reduceRule(false),
  ReduceMean: reduceRule(true),
  ReduceMax: reduceExtremeRule(),
  ReduceMin: reduceExtremeRule(),
};
