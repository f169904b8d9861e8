/**
 * Vector-Jacobian rules of the activations (Relu, LeakyRelu, PRelu, Sigmoid, Tanh, Elu, Softplus, Gelu,
 * HardSigmoid, HardSwish, Clip) and of Softmax / LogSoftmax. Where the forward output determines the
 * derivative (Relu, Sigmoid, Tanh, Softmax) the rule reads the output, not the input, so ONNX Runtime keeps
 * fusing the activation into the node before it. At a kink the derivative is PyTorch's: Relu and
 * LeakyRelu take the x <= 0 branch at 0, Clip passes the gradient at its bounds.
 */
import { normAxis } from '../shapes.js';
import { fail, masked, shapeOf, unbroadcast, type Rule, type RuleContext } from './rule.js';

function positive(c: RuleContext, t: string): string {
  return c.e.op('Greater', [t, c.e.f(0)]);
}

const relu: Rule = (c) => [masked(c, positive(c, c.outs[0]), c.gy[0]!)];

const leakyRelu: Rule = (c) => {
  const alpha = c.a.float('alpha', 0.01);
  const g = c.gy[0]!;
  return [c.e.where(positive(c, c.ins[0]), g, c.e.op('Mul', [g, c.e.f(alpha)]))];
};

const prelu: Rule = (c) => {
  if (c.needs[1]) fail('the gradient with respect to the PRelu slope is not written');
  const g = c.gy[0]!;
  const y = c.e.where(positive(c, c.ins[0]), g, c.e.op('Mul', [g, c.ins[1]]));
  return [unbroadcast(c, y, c.meta(c.outs[0]).shape, c.ins[0]), null];
};

const sigmoid: Rule = (c) => {
  const y = c.outs[0];
  return [c.e.op('Mul', [c.gy[0]!, c.e.op('Mul', [y, c.e.op('Sub', [c.e.f(1), y])])])];
};

const tanh: Rule = (c) => {
  const y = c.outs[0];
  return [c.e.op('Mul', [c.gy[0]!, c.e.op('Sub', [c.e.f(1), c.e.op('Mul', [y, y])])])];
};

const elu: Rule = (c) => {
  const alpha = c.a.float('alpha', 1);
  const g = c.gy[0]!;
  // for x <= 0: y = alpha * (exp(x) - 1), dy/dx = y + alpha
  const neg = c.e.op('Mul', [g, c.e.op('Add', [c.outs[0], c.e.f(alpha)])]);
  return [c.e.where(positive(c, c.ins[0]), g, neg)];
};

const softplus: Rule = (c) => [c.e.op('Mul', [c.gy[0]!, c.e.op('Sigmoid', [c.ins[0]])])];

const gelu: Rule = (c) => {
  if (c.a.string('approximate', 'none') !== 'none') fail('Gelu with the tanh approximation');
  const x = c.ins[0];
  // d/dx x * Phi(x) = Phi(x) + x * phi(x)
  const cdf = c.e.op('Mul', [
    c.e.f(0.5),
    c.e.op('Add', [c.e.f(1), c.e.op('Erf', [c.e.op('Mul', [x, c.e.f(Math.SQRT1_2)])])]),
  ]);
  const pdf = c.e.op('Mul', [
    c.e.f(1 / Math.sqrt(2 * Math.PI)),
    c.e.op('Exp', [c.e.op('Mul', [c.e.op('Mul', [x, x]), c.e.f(-0.5)])]),
  ]);
  return [c.e.op('Mul', [c.gy[0]!, c.e.op('Add', [cdf, c.e.op('Mul', [x, pdf])])])];
};

const hardSigmoid: Rule = (c) => {
  const alpha = c.a.float('alpha', 0.2);
  const beta = c.a.float('beta', 0.5);
  const z = c.e.op('Add', [c.e.op('Mul', [c.ins[0], c.e.f(alpha)]), c.e.f(beta)]);
  const inside = c.e.op('And', [c.e.op('Greater', [z, c.e.f(0)]), c.e.op('Less', [z, c.e.f(1)])]);
  return [masked(c, inside, c.e.op('Mul', [c.gy[0]!, c.e.f(alpha)]))];
};

const hardSwish: Rule = (c) => {
  const x = c.ins[0];
  const g = c.gy[0]!;
  // PyTorch: 0 below -3, x/3 + 1/2 on [-3, 3], 1 above 3
  const mid = c.e.op('Add', [c.e.op('Div', [x, c.e.f(3)]), c.e.f(0.5)]);
  const d = c.e.where(
    c.e.op('Less', [x, c.e.f(-3)]),
    c.e.f(0),
    c.e.where(c.e.op('Greater', [x, c.e.f(3)]), c.e.f(1), mid),
  );
  return [c.e.op('Mul', [g, d])];
};

const clip: Rule = (c) => {
  const x = c.ins[0];
  let lo: string | null = null;
  let hi: string | null = null;
  if (c.opset >= 11) {
    lo = c.ins[1] || null;
    hi = c.ins[2] || null;
  } else {
    if (c.a.has('min')) lo = c.e.f(c.a.float('min', 0));
    if (c.a.has('max')) hi = c.e.f(c.a.float('max', 0));
  }
  let inside: string | null = null;
  const and = (m: string) => (inside = inside ? c.e.op('And', [inside, m]) : m);
  if (lo) and(c.e.op('Not', [c.e.op('Less', [x, lo])]));
  if (hi) and(c.e.op('Not', [c.e.op('Greater', [x, hi])]));
  return [inside ? masked(c, inside, c.gy[0]!) : c.gy[0], null, null];
};

/** The axes Softmax / LogSoftmax normalise over: one axis from opset 13, the trailing block before. */
function softmaxAxes(c: RuleContext): number[] {
  const r = shapeOf(c, c.ins[0]).length;
  if (c.opset >= 13) return [normAxis(c.a.int('axis', -1), r)];
  const axis = normAxis(c.a.int('axis', 1), r);
  return Array.from({ length: r - axis }, (_, i) => axis + i);
}

const softmax: Rule = (c) => {
  const y = c.outs[0];
  const g = c.gy[0]!;
  const dot = c.e.reduceSum(c.e.op('Mul', [g, y]), softmaxAxes(c), true);
  return [c.e.op('Mul', [y, c.e.op('Sub', [g, dot])])];
};

const logSoftmax: Rule = (c) => {
  const g = c.gy[0]!;
  const total = c.e.reduceSum(g, softmaxAxes(c), true);
  return [c.e.op('Sub', [g, c.e.op('Mul', [c.e.op('Exp', [c.outs[0]]), total])])];
};

export const ACTIVATION_RULES: Record<string, Rule> = {
  Relu: relu,
  LeakyRelu: leakyRelu,
  PRelu: prelu,
  Sigmoid: sigmoid,
  Tanh: tanh,
  Elu: elu,
  Softplus: softplus,
  Gelu: gelu,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Clip: clip,
  Softmax: softmax,
  LogSoftmax: logSoftmax,
};
