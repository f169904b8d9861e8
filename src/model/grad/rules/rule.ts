/**
 * What a vector-Jacobian rule sees and returns. A rule gets one forward node, the adjoints of its outputs
 * (null where nothing downstream needs that output) and which inputs need a gradient, and writes the nodes
 * that compute those inputs' adjoints (each of the input's full shape) through the Emitter. A rule that
 * meets an attribute, shape or opset it cannot handle calls `fail`, which names the node.
 */
import type { onnx as pb } from 'onnx-proto';
import type { Attrs } from '../attrs.js';
import type { Emitter } from '../emit.js';
import type { Dim, Meta } from '../shapes.js';

export class RuleFailure extends Error {}

export interface RuleContext {
  node: pb.INodeProto;
  a: Attrs;
  e: Emitter;
  opset: number;
  /** The node's input and output names ('' for an omitted optional input). */
  ins: string[];
  outs: string[];
  /** Adjoints of the outputs (null: not needed downstream). */
  gy: (string | null)[];
  /** Which inputs need an adjoint. */
  needs: boolean[];
  meta(name: string): Meta;
  /** The forward node that writes a tensor (undefined for inputs and initializers). */
  producer(name: string): pb.INodeProto | undefined;
  /** Whether exactly one node reads the tensor and it is neither a graph output nor differentiated for. */
  soleUse(name: string): boolean;
  /** Whether the tensor depends on a differentiated tensor (needs an adjoint if on the path). */
  reached(name: string): boolean;
  /**
   * A fusion: this rule has also written the vector-Jacobian product of `node`, a producer of its input
   * read by nothing else, and gives the adjoints of that node's inputs here ([tensor, adjoint]); the sweep
   * skips `node`. Takes effect only if the rule returns without failing.
   */
  absorb(node: pb.INodeProto, adjoints: [string, string][]): void;
}

/** One rule: the adjoint of each input (null or undefined where none is needed or it is zero). */
export type Rule = (c: RuleContext) => (string | null | undefined)[];

export function fail(why: string): never {
  throw new RuleFailure(why);
}

/** The static shape of a tensor, or a failure naming what is unknown. */
export function shapeOf(c: RuleContext, name: string): Dim[] {
  const s = c.meta(name).shape;
  if (!s) fail(`the rank of "${name}" is unknown`);
  return s;
}

/** A dimension that must be a known number. */
export function numericDim(d: Dim, what: string): number {
  if (typeof d !== 'number') fail(`${what} is not static`);
  return d;
}

/**
 * Sums a gradient g (of the broadcast result's shape `gShape`) back to an operand's shape: the leading axes
 * the operand lacks, and every axis where the operand has size 1 (reducing a size-1 axis of g is a no-op,
 * so an axis that was not widened costs nothing but is still correct).
 */
export function unbroadcast(c: RuleContext, g: string, gShape: Dim[] | null, operand: string): string {
  const target = c.meta(operand).shape;
  if (!target || !gShape) fail(`the rank of "${operand}" or of its broadcast result is unknown`);
  const lead = gShape.length - target.length;
  if (lead < 0) fail(`"${operand}" has a higher rank than its broadcast result`);
  let out = g;
  if (lead > 0)
    out = c.e.reduceSum(
      out,
      Array.from({ length: lead }, (_, i) => i),
      false,
    );
  const axes: number[] = [];
  target.forEach((d, i) => {
    if (d === 1 && gShape[lead + i] !== 1) axes.push(i);
  });
  if (axes.length) out = c.e.reduceSum(out, axes, true);
  return out;
}

/** g * the 0/1 mask `cond` (a bool tensor), as Where(cond, g, 0). */
export function masked(c: RuleContext, cond: string, g: string): string {
  return c.e.where(cond, g, c.e.f(0));
}
