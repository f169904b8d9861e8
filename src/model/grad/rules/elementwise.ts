/**
 * Vector-Jacobian rules of the broadcasting arithmetic (Add, Sub, Mul, Div, Pow, Sum, Where, Expand) and of
 * the pointwise maths the objective and decomposed normalisations use (Neg, Abs, Sqrt, Exp, Log,
 * Reciprocal, Erf), plus the identities (Identity, inference Dropout, float Cast). Each broadcast operand's
 * adjoint is summed back to its own shape (unbroadcast).
 */
import { isFloat } from '../shapes.js';
import { fail, masked, unbroadcast, type Rule, type RuleContext } from './rule.js';

function outShape(c: RuleContext) {
  return c.meta(c.outs[0]).shape;
}

const add: Rule = (c) => {
  const g = c.gy[0]!;
  return c.ins.map((x, i) => (c.needs[i] ? unbroadcast(c, g, outShape(c), x) : null));
};

const sub: Rule = (c) => {
  const g = c.gy[0]!;
  return [
    c.needs[0] ? unbroadcast(c, g, outShape(c), c.ins[0]) : null,
    c.needs[1] ? unbroadcast(c, c.e.op('Neg', [g]), outShape(c), c.ins[1]) : null,
  ];
};

const mul: Rule = (c) => {
  const g = c.gy[0]!;
  const [a, b] = c.ins;
  return [
    c.needs[0] ? unbroadcast(c, c.e.op('Mul', [g, b]), outShape(c), a) : null,
    c.needs[1] ? unbroadcast(c, c.e.op('Mul', [g, a]), outShape(c), b) : null,
  ];
};

const div: Rule = (c) => {
  const g = c.gy[0]!;
  const [a, b] = c.ins;
  const ga = c.needs[0] || c.needs[1] ? c.e.op('Div', [g, b]) : '';
  // d(a/b)/db = -a/b^2 = -(a/b)/b, with the forward result y = a/b
  return [
    c.needs[0] ? unbroadcast(c, ga, outShape(c), a) : null,
    c.needs[1] ? unbroadcast(c, c.e.op('Neg', [c.e.op('Mul', [ga, c.outs[0]])]), outShape(c), b) : null,
  ];
};

const pow: Rule = (c) => {
  if (c.needs[1]) fail('the gradient with respect to the exponent is not written');
  const g = c.gy[0]!;
  const [x, p] = c.ins;
  const dydx = c.e.op('Mul', [p, c.e.op('Pow', [x, c.e.op('Sub', [p, c.e.f(1)])])]);
  return [unbroadcast(c, c.e.op('Mul', [g, dydx]), outShape(c), x), null];
};

const where: Rule = (c) => {
  const g = c.gy[0]!;
  const [cond, a, b] = c.ins;
  return [
    null,
    c.needs[1] ? unbroadcast(c, masked(c, cond, g), outShape(c), a) : null,
    c.needs[2] ? unbroadcast(c, c.e.where(cond, c.e.f(0), g), outShape(c), b) : null,
  ];
};

const expand: Rule = (c) => [unbroadcast(c, c.gy[0]!, outShape(c), c.ins[0]), null];

const identity: Rule = (c) => [c.gy[0]];

const dropout: Rule = (c) => {
  // Inference Dropout is the identity; a training-mode Dropout (a third input that may be true) is not.
  if (c.ins[2]) {
    const v = c.meta(c.ins[2]).value;
    if (!v || v[0] !== 0) fail('Dropout in training mode');
  }
  return [c.gy[0]];
};

const cast: Rule = (c) => {
  if (!isFloat(c.meta(c.ins[0]).dtype) || c.meta(c.outs[0]).dtype !== c.meta(c.ins[0]).dtype)
    fail('a Cast between float types');
  return [c.gy[0]];
};

/** CastLike(x, like): x's adjoint as for Cast; `like` only lends its type, so it gets none. */
const castLike: Rule = (c) => {
  if (!c.needs[0]) return [null, null];
  if (!isFloat(c.meta(c.ins[0]).dtype) || c.meta(c.outs[0]).dtype !== c.meta(c.ins[0]).dtype)
    fail('a CastLike between float types');
  return [c.gy[0], null];
};

const neg: Rule = (c) => [c.e.op('Neg', [c.gy[0]!])];
const abs: Rule = (c) => [c.e.op('Mul', [c.gy[0]!, c.e.op('Sign', [c.ins[0]])])];
const sqrt: Rule = (c) => [c.e.op('Div', [c.e.op('Mul', [c.gy[0]!, c.e.f(0.5)]), c.outs[0]])];
const exp: Rule = (c) => [c.e.op('Mul', [c.gy[0]!, c.outs[0]])];
const log: Rule = (c) => [c.e.op('Div', [c.gy[0]!, c.ins[0]])];
const reciprocal: Rule = (c) => [
  c.e.op('Neg', [c.e.op('Mul', [c.gy[0]!, c.e.op('Mul', [c.outs[0], c.outs[0]])])]),
];
const erf: Rule = (c) => {
  const x = c.ins[0];
  const d = c.e.op('Mul', [
    c.e.f(2 / Math.sqrt(Math.PI)),
    c.e.op('Exp', [c.e.op('Neg', [c.e.op('Mul', [x, x])])]),
  ]);
  return [c.e.op('Mul', [c.gy[0]!, d])];
};

export const ELEMENTWISE_RULES: Record<string, Rule> = {
  Add: add,
  Sum: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Pow: pow,
  Where: where,
  Expand: expand,
  Identity: identity,
  Dropout: dropout,
  Cast: cast,
  CastLike: castLike,
  Neg: neg,
  Abs: abs,
  Sqrt: sqrt,
  Exp: exp,
  Log: log,
  Reciprocal: reciprocal,
  Erf: erf,
};
