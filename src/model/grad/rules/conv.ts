/**
 * The vector-Jacobian rule of Conv with respect to its input (weights and bias are constants here).
 *
 * The input gradient is the transposed convolution of G with the same weights, strides, pads, dilations and
 * groups, and the output_padding that restores the input's size (the rows a strided window never reached).
 * For stride 1 the same product is an ordinary Conv of G with the weights' in/out axes swapped (per group)
 * and their kernel flipped, padded by dilation * (k - 1) - pad: ONNX Runtime's Conv kernels are about twice
 * as fast as its ConvTranspose (measured here on 3x3 convolutions of 64-512 channels), and the backward
 * pass of a ResNet is mostly these, so stride-1 convolutions take that form. The flipped weights are
 * written as Transpose/Slice nodes on the weight tensor, which ONNX Runtime folds once when it loads.
 * Except when the input has few channels (a network's first layer: 1 grey or 3 colour channels): there the
 * Conv writes fewer output channels than ONNX Runtime's blocked (NCHWc) kernels fill, and ConvTranspose is
 * the faster of the two (MIN_CHANNELS_FOR_FLIPPED_CONV).
 */
import { windowGeometry } from '../shapes.js';
import { fail, numericDim, shapeOf, type Rule, type RuleContext } from './rule.js';

/** The weight [Cout, Cin/g, k...] as the weight of the stride-1 input-gradient Conv: [Cin, Cout/g, k...] flipped. */
function flippedWeights(c: RuleContext, w: string, wShape: number[], group: number): string {
  const [cout, cinG, ...k] = wShape;
  let t: string;
  if (group === 1) {
    t = c.e.transpose(w, [1, 0, ...k.map((_, i) => i + 2)]);
  } else {
    const grouped = c.e.op('Reshape', [w, c.e.i([group, cout / group, cinG, ...k])]);
    const swapped = c.e.transpose(grouped, [0, 2, 1, ...k.map((_, i) => i + 3)]);
    t = c.e.op('Reshape', [swapped, c.e.i([cinG * group, cout / group, ...k])]);
  }
  const axes = k.map((_, i) => i + 2);
  return c.e.slice(
    t,
    axes.map(() => -1),
    axes.map(() => -(2 ** 31)),
    axes,
    axes.map(() => -1),
  );
}

/**
 * Below this many input channels a stride-1 input gradient stays a ConvTranspose. Measured here (batch 64,
 * 3x3, 2 threads, the flipped Conv / ConvTranspose): 1 channel from 8 at 14x14 8.5x slower as a Conv (1,284 vs
 * 151 us), 3 from 64 at 32x32 2.5x, 3 from 16 at 32x32 1.2x, 4 from 32 at 16x16 1.3x; from 8 channels on the
 * Conv is as fast or faster (8 from 16 at 7x7 2.2x faster, 16 from 32 at 14x14 even, 64 from 64 at 32x32 1.3x
 * faster): ORT's NCHWc kernels work in blocks of 8 channels.
 */
const MIN_CHANNELS_FOR_FLIPPED_CONV = 8;

const conv: Rule = (c) => {
  if (c.needs[1] || c.needs[2]) fail('gradients with respect to convolution weights are not written');
  const [x, w] = c.ins;
  const g = c.gy[0]!;
  const xShape = shapeOf(c, x);
  const wShape = shapeOf(c, w).map((d, i) => numericDim(d, `weight dim ${i}`));
  const kernel = c.a.ints('kernel_shape') ?? wShape.slice(2);
  const group = c.a.int('group', 1);
  const geo = windowGeometry(c.a, xShape, kernel);
  if (!geo) fail('the convolution geometry is not static (auto_pad with unknown sizes)');
  const r = kernel.length;
  const inSpatial = xShape.slice(2).map((d, i) => numericDim(d, `input spatial dim ${i}`));
  const outSpatial = geo.out.map((d, i) => numericDim(d, `output spatial dim ${i}`));
  const span = kernel.map((k, i) => geo.dilations[i] * (k - 1));
  const flipPads = [...span.map((s, i) => s - geo.pads[i]), ...span.map((s, i) => s - geo.pads[i + r])];
  const inChannels = wShape[1] * group;
  if (
    geo.strides.every((s) => s === 1) &&
    flipPads.every((p) => p >= 0) &&
    inChannels >= MIN_CHANNELS_FOR_FLIPPED_CONV
  ) {
    const wf = flippedWeights(c, w, wShape, group);
    return [
      c.e.op('Conv', [g, wf], {
        kernel_shape: { ints: kernel },
        pads: { ints: flipPads },
        dilations: { ints: geo.dilations },
        group: { int: group },
      }),
      null,
      null,
    ];
  }
  // output_padding: the input rows past the last full window (in + pads - span - 1) mod stride
  const outputPadding = inSpatial.map(
    (n, i) => n - ((outSpatial[i] - 1) * geo.strides[i] + span[i] + 1 - geo.pads[i] - geo.pads[i + r]),
  );
  if (outputPadding.some((p, i) => p < 0 || p >= Math.max(geo.strides[i], geo.dilations[i])))
    fail(`no output_padding restores the input size (${outputPadding.join(',')})`);
  return [
    c.e.op('ConvTranspose', [g, w], {
      kernel_shape: { ints: kernel },
      strides: { ints: geo.strides },
      pads: { ints: geo.pads },
      dilations: { ints: geo.dilations },
      group: { int: group },
      output_padding: { ints: outputPadding },
    }),
    null,
    null,
  ];
};

export const CONV_RULES: Record<string, Rule> = { Conv: conv };
