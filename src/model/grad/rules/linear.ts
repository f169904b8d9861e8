/**
 * Vector-Jacobian rules of the matrix products. Gemm: Y = alpha * A' B' + beta * C (A' = A or A^T as transA
 * says, B' likewise), so dA' = alpha * G B'^T and dB' = alpha * A'^T G, each written as one Gemm with the
 * transposes folded into its flags. MatMul (numpy semantics, batched): dA = G B^T and dB = A^T G over the
 * last two axes, summed back over broadcast batch axes.
 */
import { fail, shapeOf, unbroadcast, type Rule, type RuleContext } from './rule.js';

const gemm: Rule = (c) => {
  const g = c.gy[0]!;
  const [a, b, bias] = c.ins;
  const alpha = c.a.float('alpha', 1);
  const beta = c.a.float('beta', 1);
  const tA = c.a.int('transA', 0) === 1;
  const tB = c.a.int('transB', 0) === 1;
  const k = (x: number) => ({ int: x });
  let da: string | null = null;
  let db: string | null = null;
  if (c.needs[0]) {
    // transA = 0: dA = alpha * G B'^T; transA = 1: dA = (alpha * G B'^T)^T = alpha * B' G^T
    da = tA
      ? c.e.op('Gemm', [b, g], { alpha: { float: alpha }, transA: k(tB ? 1 : 0), transB: k(1) })
      : c.e.op('Gemm', [g, b], { alpha: { float: alpha }, transB: k(tB ? 0 : 1) });
  }
  if (c.needs[1]) {
    // transB = 0: dB = alpha * A'^T G; transB = 1: dB = alpha * G^T A'
    db = tB
      ? c.e.op('Gemm', [g, a], { alpha: { float: alpha }, transA: k(1), transB: k(tA ? 1 : 0) })
      : c.e.op('Gemm', [a, g], { alpha: { float: alpha }, transA: k(tA ? 0 : 1) });
  }
  let dc: string | null = null;
  if (c.needs[2] && bias) {
    const scaled = beta === 1 ? g : c.e.op('Mul', [g, c.e.f(beta)]);
    dc = unbroadcast(c, scaled, c.meta(c.outs[0]).shape, bias);
  }
  return [da, db, dc];
};

/** A tensor with its last two axes swapped. */
function swapLast(c: RuleContext, x: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return c.e.transpose(x, perm);
}

const matmul: Rule = (c) => {
  const g = c.gy[0]!;
  const [a, b] = c.ins;
  const ra = shapeOf(c, a).length;
  const rb = shapeOf(c, b).length;
  if (ra < 2 || rb < 2) fail('MatMul with a 1-D operand');
  const gShape = c.meta(c.outs[0]).shape;
  return [
    c.needs[0] ? unbroadcast(c, c.e.op('MatMul', [g, swapLast(c, b, rb)]), gShape, a) : null,
    c.needs[1] ? unbroadcast(c, c.e.op('MatMul', [swapLast(c, a, ra), g]), gShape, b) : null,
  ];
};

export const LINEAR_RULES: Record<string, Rule> = { Gemm: gemm, MatMul: matmul };
