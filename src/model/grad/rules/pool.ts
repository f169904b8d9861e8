/**
 * Vector-Jacobian rules of the pooling operators.
 *  - MaxPool: through the Indices output of a second MaxPool with the same attributes (the model's own node
 *    is left alone). ONNX Runtime, like PyTorch, takes the first maximum of a window, so ties route the
 *    gradient to the same element as autograd. Non-overlapping windows spread G back with MaxUnpool (one
 *    op); overlapping ones (an element can be the maximum of two windows) scatter-add it into zeros with
 *    ScatterElements' reduction 'add', which exists from opset 16, so below it they are refused. A Relu and
 *    BatchNormalization feeding only the MaxPool are differentiated with it, in the pooled domain.
 *  - AveragePool: G divided by each window's divisor (computed here from the static geometry, PyTorch's
 *    rule for count_include_pad and ceil_mode) spread back by a depthwise ConvTranspose with a ones kernel.
 *  - GlobalAveragePool: G / (H * W) broadcast over the spatial axes.
 */
import type { onnx as pb } from 'onnx-proto';
import { windowGeometry } from '../shapes.js';
import { batchNormFactor, isInferenceBatchNorm } from './normalization.js';
import { fail, numericDim, shapeOf, type Rule } from './rule.js';

const maxPool: Rule = (c) => {
  if (c.a.int('storage_order', 0) !== 0) fail('MaxPool with column-major indices');
  const x = c.ins[0];
  const xShape = shapeOf(c, x);
  const kernel = c.a.ints('kernel_shape');
  if (!kernel) fail('MaxPool without kernel_shape');
  const geo = windowGeometry(c.a, xShape, kernel, c.a.int('ceil_mode', 0) === 1);
  const overlap = geo ? geo.strides.some((s, i) => s < geo.dilations[i] * (kernel[i] - 1) + 1) : true;
  if (overlap && c.opset < 16)
    fail('overlapping MaxPool windows need opset 16 (ScatterElements reduction add)');
  // A second MaxPool with the Indices output, beside the model's own (left as it is, so ONNX Runtime keeps
  // optimising the forward pass exactly as in a plain session: an Indices output on the model's node moved
  // the pooling out of ORT's NCHWc layout and changed a later GlobalAveragePool in the last bits).
  const attrs = Object.fromEntries((c.node.attribute ?? []).map((at) => [at.name ?? '', at]));
  const indices = c.e.withIndices(x, attrs);
  // Fusion: a Relu (and an inference BatchNormalization before it) read only by this MaxPool is
  // differentiated here, in the pooled domain, a quarter of the size: the gradient reaches only each
  // window's maximum, where the Relu's derivative is [pooled > 0] and the BatchNormalization's is its
  // per-channel factor, both of which commute with spreading G back to the maxima.
  let g = c.gy[0]!;
  let target = x;
  const absorbed: pb.INodeProto[] = [];
  const relu = c.producer(x);
  if (relu?.opType === 'Relu' && c.soleUse(x)) {
    g = c.e.where(c.e.op('Greater', [c.outs[0], c.e.f(0)]), g, c.e.f(0));
    target = (relu.input ?? [])[0];
    absorbed.push(relu);
    const bn = c.producer(target);
    if (bn && c.soleUse(target) && isInferenceBatchNorm(c, bn)) {
      g = c.e.op('Mul', [g, batchNormFactor(c, bn, xShape.length)]);
      target = (bn.input ?? [])[0];
      absorbed.push(bn);
    }
  }
  let dx: string;
  if (!overlap) {
    // MaxUnpool checks that output_shape is at least (out - 1) * stride + kernel - pads; a ceil_mode window
    // past the input would fail it, so the end pads are raised to cover such windows (output_shape rules).
    const r = kernel.length;
    const pads = [...geo!.pads];
    xShape.slice(2).forEach((d, i) => {
      const out = geo!.out[i];
      if (typeof d === 'number' && typeof out === 'number')
        pads[i + r] = Math.max(pads[i + r], (out - 1) * geo!.strides[i] + kernel[i] - pads[i] - d);
    });
    dx = c.e.op('MaxUnpool', [g, indices, c.e.shape(x)], {
      kernel_shape: { ints: kernel },
      strides: { ints: geo!.strides },
      pads: { ints: pads },
    });
  } else {
    const flat = c.e.i([-1]);
    const zeros = c.e.op('ConstantOfShape', [c.e.op('Reshape', [c.e.op('Size', [x]), flat])]);
    const scattered = c.e.scatterAdd(
      zeros,
      c.e.op('Reshape', [indices, flat]),
      c.e.op('Reshape', [g, flat]),
      true,
    );
    dx = c.e.reshapeLike(scattered, x);
  }
  if (absorbed.length === 0) return [dx];
  // the adjoint goes to the first absorbed node's input; the nodes between get none (nothing else reads them)
  absorbed.forEach((n, i) =>
    c.absorb(n, i === absorbed.length - 1 && c.reached(target) ? [[target, dx]] : []),
  );
  return [null];
};

/** Per output position, the number AveragePool divides by (PyTorch's and ONNX Runtime's rule). */
function divisors(
  inSize: number,
  outSize: number,
  k: number,
  stride: number,
  padBegin: number,
  padEnd: number,
  includePad: boolean,
): number[] {
  const out: number[] = [];
  for (let o = 0; o < outSize; o++) {
    let start = o * stride - padBegin;
    let end = Math.min(start + k, inSize + padEnd);
    const poolSize = end - start;
    start = Math.max(start, 0);
    end = Math.min(end, inSize);
    out.push(includePad ? poolSize : end - start);
  }
  return out;
}

const averagePool: Rule = (c) => {
  const x = c.ins[0];
  const xShape = shapeOf(c, x);
  const kernel = c.a.ints('kernel_shape');
  if (!kernel) fail('AveragePool without kernel_shape');
  const geo = windowGeometry(c.a, xShape, kernel, c.a.int('ceil_mode', 0) === 1);
  if (!geo) fail('the pooling geometry is not static');
  if (geo.dilations.some((d) => d !== 1)) fail('dilated AveragePool');
  const r = kernel.length;
  const channels = numericDim(xShape[1], 'the channel count');
  const inSpatial = xShape.slice(2).map((d, i) => numericDim(d, `input spatial dim ${i}`));
  const outSpatial = geo.out.map((d, i) => numericDim(d, `output spatial dim ${i}`));
  const includePad = c.a.int('count_include_pad', 0) === 1;
  // The divisor map is separable: the product over axes of each axis' divisor.
  const perAxis = inSpatial.map((n, i) =>
    divisors(n, outSpatial[i], kernel[i], geo.strides[i], geo.pads[i], geo.pads[i + r], includePad),
  );
  const total = outSpatial.reduce((a, b) => a * b, 1);
  const map = new Array<number>(total).fill(1);
  for (let p = 0; p < total; p++) {
    let rest = p;
    for (let i = r - 1; i >= 0; i--) {
      map[p] *= perAxis[i][rest % outSpatial[i]];
      rest = Math.floor(rest / outSpatial[i]);
    }
  }
  const scaled = c.e.op('Mul', [
    c.gy[0]!,
    c.e.f(
      map.map((d) => 1 / d),
      [1, 1, ...outSpatial],
    ),
  ]);
  const pads = [...geo.pads];
  const outputPadding = inSpatial.map((n, i) => {
    const op = n - ((outSpatial[i] - 1) * geo.strides[i] + kernel[i] - pads[i] - pads[i + r]);
    if (op < 0) pads[i + r] -= op; // ceil_mode windows past the padded input: crop them
    return Math.max(0, op);
  });
  if (outputPadding.some((p, i) => p >= geo.strides[i])) fail('no output_padding restores the input size');
  const ones = c.e.f(new Array<number>(channels * kernel.reduce((a, b) => a * b, 1)).fill(1), [
    channels,
    1,
    ...kernel,
  ]);
  return [
    c.e.op('ConvTranspose', [scaled, ones], {
      kernel_shape: { ints: kernel },
      strides: { ints: geo.strides },
      pads: { ints: pads },
      group: { int: channels },
      output_padding: { ints: outputPadding },
    }),
  ];
};

const globalAveragePool: Rule = (c) => {
  const x = c.ins[0];
  const spatial = shapeOf(c, x).slice(2);
  const count = spatial.every((d) => typeof d === 'number')
    ? c.e.f(1 / (spatial as number[]).reduce((a, b) => a * b, 1))
    : c.e.op('Div', [
        c.e.op('Cast', [c.e.op('Size', [c.outs[0]])], { to: { int: 1 } }),
        c.e.op('Cast', [c.e.op('Size', [x])], { to: { int: 1 } }),
      ]);
  return [c.e.expandLike(c.e.op('Mul', [c.gy[0]!, count]), x)];
};

export const POOL_RULES: Record<string, Rule> = {
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
};
