/**
 * Preludes: the small graphs from optimised parameters (and the clean inputs) to the model's input that
 * trigger inversion and input synthesis differentiate through (types.ts PreludeSpec says what each one
 * computes). Written with the same Emitter as the backward ops, so the gradient flows through them by the
 * same rules. The prelude's last node writes the model's input tensor, whose graph input is then removed.
 */
import type { Emitter } from './emit.js';
import type { Dim } from './shapes.js';
import { GradientSpecError, type FeedInfo, type PreludeSpec } from './types.js';

export interface BuiltPrelude {
  /** Feeds by the caller's name: 'data' and the parameters. */
  feeds: Record<string, FeedInfo>;
  /** Readable tensors by name: parameters and the values they mean ('mask', 'pattern', ...). */
  values: Record<string, string>;
  /** The parameters (what is differentiated unless the spec says otherwise). */
  params: string[];
}

/** Gaussian weights of `sigma` pixels, radius ceil(2 sigma), normalised to sum 1. */
export function gaussianKernel(sigma: number): number[] {
  const radius = Math.max(1, Math.ceil(2 * sigma));
  const w = Array.from({ length: 2 * radius + 1 }, (_, i) =>
    Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)),
  );
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / s);
}

/** Per-channel constant [1, C, 1, 1] from a list of 1 or C numbers. */
function perChannel(e: Emitter, values: number[], channels: number, what: string): string {
  if (values.length !== 1 && values.length !== channels)
    throw new GradientSpecError(`prelude ${what}: ${values.length} values for ${channels} channels`);
  const v = values.length === 1 ? new Array<number>(channels).fill(values[0]) : values;
  return e.f(v, [1, channels, 1, 1]);
}

/**
 * Writes the prelude for a model input of shape [N, C, H, W] (C, H, W static), ending in `modelInput`.
 * `feedName(logical)` gives the graph name of a new feed.
 */
export function emitPrelude(
  e: Emitter,
  spec: PreludeSpec,
  modelInput: { name: string; shape: Dim[] },
  feedName: (logical: string) => string,
): BuiltPrelude {
  const shape = modelInput.shape;
  if (shape.length !== 4 || !shape.slice(1).every((d) => typeof d === 'number'))
    throw new GradientSpecError(
      `a prelude needs an image input [N, C, H, W] with static C, H, W; "${modelInput.name}" is [${shape.join(', ')}]`,
    );
  const [batch, c, h, w] = shape as [Dim, number, number, number];
  const feeds: Record<string, FeedInfo> = {};
  const values: Record<string, string> = {};
  const params: string[] = [];
  const feed = (logical: string, dims: Dim[], param: boolean): string => {
    const graphName = feedName(logical);
    feeds[logical] = { graphName, kind: 'float', shape: dims };
    values[logical] = graphName;
    e.metas.set(graphName, { dtype: 'float32', shape: dims });
    if (param) params.push(logical);
    return graphName;
  };
  const data = feed('data', [typeof batch === 'number' ? batch : 'N', c, h, w], spec.kind === 'identity');
  const sigmoidParam = (logical: string, valueName: string, dims: Dim[]) => {
    const v = e.op('Sigmoid', [feed(logical, dims, true)]);
    values[valueName] = v;
    return v;
  };
  let x: string;
  switch (spec.kind) {
    case 'identity':
      x = data;
      break;
    case 'patch': {
      const m = sigmoidParam('maskLogits', 'mask', [1, 1, h, w]);
      const p = sigmoidParam('patternLogits', 'pattern', [1, c, h, w]);
      x = e.op('Add', [e.op('Mul', [e.op('Sub', [e.f(1), m]), data]), e.op('Mul', [m, p])]);
      break;
    }
    case 'blend': {
      const a = sigmoidParam('alphaLogit', 'alpha', [1]);
      const p = sigmoidParam('patternLogits', 'pattern', [1, c, h, w]);
      x = e.op('Add', [e.op('Mul', [e.op('Sub', [e.f(1), a]), data]), e.op('Mul', [a, p])]);
      break;
    }
    case 'colour': {
      const contrast = feed('contrast', [1, c, 1, 1], true);
      const brightness = feed('brightness', [1, c, 1, 1], true);
      x = e.op('Add', [e.op('Mul', [data, e.op('Add', [e.f(1), contrast])]), brightness]);
      break;
    }
    case 'additive': {
      let d = feed('delta', [1, c, h, w], true);
      if (spec.blurSigma !== undefined) {
        if (!(spec.blurSigma > 0)) throw new GradientSpecError('prelude additive: blurSigma must be > 0');
        const k = gaussianKernel(spec.blurSigma);
        const r = (k.length - 1) / 2;
        const rows = e.f(
          new Array<number>(c).fill(0).flatMap(() => k),
          [c, 1, k.length, 1],
        );
        const cols = e.f(
          new Array<number>(c).fill(0).flatMap(() => k),
          [c, 1, 1, k.length],
        );
        const conv = (t: string, wt: string, kh: number, kw: number, pads: number[]) =>
          e.op('Conv', [t, wt], {
            kernel_shape: { ints: [kh, kw] },
            pads: { ints: pads },
            group: { int: c },
          });
        d = conv(conv(d, rows, k.length, 1, [r, 0, r, 0]), cols, 1, k.length, [0, r, 0, r]);
      }
      values.perturbation = d;
      x = e.op('Add', [data, d]);
      break;
    }
    default:
      throw new GradientSpecError(`unknown prelude kind "${(spec as { kind: string }).kind}"`);
  }
  if (spec.clamp) x = e.op('Clip', [x, e.f(spec.clamp[0]), e.f(spec.clamp[1])]);
  if (spec.normalize) {
    const mean = perChannel(e, spec.normalize.mean, c, 'normalize.mean');
    const std = perChannel(e, spec.normalize.std, c, 'normalize.std');
    x = e.op('Div', [e.op('Sub', [x, mean]), std]);
  }
  e.push('Identity', [x], [modelInput.name]);
  values.input = modelInput.name;
  return { feeds, values, params };
}
