/**
 * What the gradient optimisations of selfcheck/ (trigger inversion, input synthesis) share around a gradient
 * session: they optimise images in [0, 1] ("unit space"), and the way back to the probe range and on into the
 * model's own normalisation is one per-channel normalisation the gradient builder's prelude applies
 * (unitNormalize); a graph the builder cannot differentiate becomes a one-line reason naming the operators
 * (buildOrWhy); and the model's class per row of logits (argmaxRows).
 */
import type { OnnxModel } from '../model/types.js';
import {
  buildGradientGraph,
  GradientSpecError,
  GradientUnsupported,
  type GradientGraph,
  type GradientSpec,
} from '../model/grad/index.js';
import type { ValueRange } from './triggers.js';

/**
 * The prelude normalisation that maps u in [0, 1] to what the model sees: ((u span + lo) - mean) / std per
 * channel, written as (u - mean') / std' with mean' = (mean - lo) / span and std' = std / span.
 */
export function unitNormalize(
  range: ValueRange,
  normalize?: { mean: number[]; std: number[] },
): { mean: number[]; std: number[] } {
  const span = range.hi - range.lo;
  const mean = normalize?.mean ?? [0];
  const std = normalize?.std ?? [1];
  const channels = Math.max(mean.length, std.length);
  const at = (v: number[], c: number) => v[v.length === 1 ? 0 : c];
  return {
    mean: Array.from({ length: channels }, (_, c) => (at(mean, c) - range.lo) / span),
    std: Array.from({ length: channels }, (_, c) => at(std, c) / span),
  };
}

/** The gradient graph, or why there is none ("LRN has no gradient rule (1 node)", a spec the model cannot fit). */
export function buildOrWhy(model: OnnxModel, spec: GradientSpec): GradientGraph | { why: string } {
  try {
    return buildGradientGraph(model, spec);
  } catch (e) {
    if (e instanceof GradientUnsupported)
      return {
        why: `${e.ops.join(', ')} has no gradient rule (${e.items.length} node${e.items.length === 1 ? '' : 's'})`,
      };
    if (e instanceof GradientSpecError) return { why: e.message };
    throw e;
  }
}

/** The index of the largest logit of each of n rows of k. */
export function argmaxRows(logits: Float32Array, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (logits[i * k + c] > logits[i * k + best]) best = c;
    out[i] = best;
  }
  return out;
}
