/**
 * Vector-Jacobian rules of the normalisations, with respect to their input (scale, bias and statistics are
 * constants here).
 *  - BatchNormalization at inference is an affine map per channel: dX = G * scale / sqrt(var + eps). A
 *    training-mode node (statistics of the batch) is refused.
 *  - LayerNormalization (opset 17) over the axes from `axis` on: with xhat = (x - mean) * inv and
 *    Gs = G * scale, dX = inv * (Gs - mean(Gs) - xhat * mean(Gs * xhat)), the statistics recomputed here from
 *    X (the node's optional Mean/InvStdDev outputs are not relied on).
 */
import { normAxis } from '../shapes.js';
import { fail, shapeOf, type Rule } from './rule.js';

const batchNorm: Rule = (c) => {
  if (c.needs.slice(1).some(Boolean)) fail('gradients with respect to BatchNormalization parameters');
  if (c.a.int('training_mode', 0) === 1 || (c.node.output ?? []).slice(1).some((o) => o))
    fail('BatchNormalization in training mode');
  const [x, scale, , , variance] = c.ins;
  const rank = shapeOf(c, x).length;
  const eps = c.a.float('epsilon', 1e-5);
  let s = c.e.op('Div', [scale, c.e.op('Sqrt', [c.e.op('Add', [variance, c.e.f(eps)])])]);
  // [C] -> [C, 1, ...] so it broadcasts over the channel axis of [N, C, spatial...]
  if (rank > 2)
    s = c.e.unsqueeze(
      s,
      Array.from({ length: rank - 2 }, (_, i) => i + 1),
    );
  return [c.e.op('Mul', [c.gy[0]!, s]), null, null, null, null];
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
