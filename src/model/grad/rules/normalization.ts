/**
 * Vector-Jacobian rules of the normalisations, with respect to their input (scale, bias and statistics are
 * constants here).
 *  - BatchNormalization at inference is an affine map per channel: dX = G * scale / sqrt(var + eps). A
 *    training-mode node (statistics of the batch) is refused.
 *  - LayerNormalization (opset 17) over the axes from `axis` on: with xhat = (x - mean) * inv and
 *    Gs = G * scale, dX = inv * (Gs - mean(Gs) - xhat * mean(Gs * xhat)), the statistics recomputed here from
 *    X (the node's optional Mean/InvStdDev outputs are not relied on).
 */
import type { onnx as pb } from 'onnx-proto';
import { Attrs } from '../attrs.js';
import { normAxis } from '../shapes.js';
import { fail, shapeOf, type Rule, type RuleContext } from './rule.js';

/** Whether a BatchNormalization node is an inference one whose parameters carry no gradient. */
export function isInferenceBatchNorm(c: RuleContext, n: pb.INodeProto): boolean {
  const ins = n.input ?? [];
  return (
    n.opType === 'BatchNormalization' &&
    new Attrs(n).int('training_mode', 0) === 0 &&
    !(n.output ?? []).slice(1).some((o) => o) &&
    ins.length >= 5 &&
    !ins.slice(1).some((t) => c.reached(t))
  );
}

/** The per-channel factor of an inference BatchNormalization, scale / sqrt(var + eps), shaped [C, 1, ...]. */
export function batchNormFactor(c: RuleContext, n: pb.INodeProto, rank: number): string {
  const [, scale, , , variance] = n.input ?? [];
  const eps = new Attrs(n).float('epsilon', 1e-5);
  const s = c.e.op('Div', [scale, c.e.op('Sqrt', [c.e.op('Add', [variance, c.e.f(eps)])])]);
  // [C] -> [C, 1, ...] so it broadcasts over the channel axis of [N, C, spatial...]
  return rank > 2
    ? c.e.unsqueeze(
        s,
        Array.from({ length: rank - 2 }, (_, i) => i + 1),
      )
    : s;
}

const batchNorm: Rule = (c) => {
  if (c.needs.slice(1).some(Boolean)) fail('gradients with respect to BatchNormalization parameters');
  if (!isInferenceBatchNorm(c, c.node)) fail('BatchNormalization in training mode');
  const rank = shapeOf(c, c.ins[0]).length;
  return [c.e.op('Mul', [c.gy[0]!, batchNormFactor(c, c.node, rank)]), null, null, null, null];
};

const layerNorm: Rule = (c) => {
  if (c.needs.slice(1).some(Boolean)) fail('gradients with respect to LayerNormalization parameters');
  const [x, scale] = c.ins;
  const rank = shapeOf(c, x).length;
  const axis = normAxis(c.a.int('axis', -1), rank);
  const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
  const eps = c.a.float('epsilon', 1e-5);
  const e = c.e;
  const centred = e.op('Sub', [x, e.reduceMean(x, axes, true)]);
  const inv = e.op('Reciprocal', [
    e.op('Sqrt', [e.op('Add', [e.reduceMean(e.op('Mul', [centred, centred]), axes, true), e.f(eps)])]),
  ]);
  const xhat = e.op('Mul', [centred, inv]);
  const gs = e.op('Mul', [c.gy[0]!, scale]);
  const inner = e.op('Sub', [
    e.op('Sub', [gs, e.reduceMean(gs, axes, true)]),
    e.op('Mul', [xhat, e.reduceMean(e.op('Mul', [gs, xhat]), axes, true)]),
  ]);
  return [e.op('Mul', [inv, inner]), null, null];
};

export const NORMALIZATION_RULES: Record<string, Rule> = {
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
};
