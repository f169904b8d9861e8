/**
 * Writes the objective's forward nodes: each term of types.ts ObjectiveTerm as a scalar, then their
 * weighted sum. The backward pass then differentiates these nodes by the same rules as the model's, so a
 * term is correct as soon as its forward nodes are. Class targets are one-hot rows (a constant for a fixed
 * class, OneHot of an int64 feed for per-sample classes).
 */
import type { onnx as pb } from 'onnx-proto';
import type { Emitter } from './emit.js';
import { SLICE_END } from './emit.js';
import type { Dim } from './shapes.js';
import {
  GradientSpecError,
  type ClassTarget,
  type FeedInfo,
  type ObjectiveTerm,
  type TensorRef,
  type Weight,
} from './types.js';

export interface ObjectiveContext {
  e: Emitter;
  /** The model's outputs (name -> shape). */
  outputs: { name: string; shape: Dim[] | null }[];
  /** Resolves a TensorRef to a graph tensor. */
  resolve(ref: TensorRef): string;
  /** The model's nodes (for bnStats). */
  nodes: pb.INodeProto[];
  /** Registers a caller feed (weights, targets); returns its graph name. */
  addFeed(logical: string, info: Omit<FeedInfo, 'graphName'>): string;
}

/**
 * A term's gradient with respect to a tensor it reads, written in closed form (for a unit weight): the
 * backward sweep starts there instead of differentiating the term's own nodes one by one. Classification
 * terms have one (d/d logits of a batch mean of log-softmax rows is (onehot - softmax) / N): on a small
 * model the generic chain of a dozen tiny nodes cost as much as a layer.
 */
export interface TermSeed {
  tensor: string;
  adjoint: string;
}

export interface BuiltObjective {
  total: string;
  terms: string[];
  /** Per term, its closed-form adjoint (null: differentiate the term's nodes). */
  seeds: (TermSeed | null)[];
  /** Per term, its weight: a number or a scalar feed's graph name. */
  weights: (number | string)[];
  bnNodes: string[];
}

/** mean over the first axis of per-sample sums of t (rank >= 1). */
function perSampleMean(e: Emitter, t: string): string {
  const shape = e.meta(t).shape;
  if (!shape || shape.length === 0)
    throw new GradientSpecError(`objective: "${t}" must have a known rank >= 1`);
  let s = t;
  if (shape.length > 1)
    s = e.reduceSum(
      s,
      Array.from({ length: shape.length - 1 }, (_, i) => i + 1),
      false,
    );
  return e.reduceMean(s, [0], false);
}

function classLogits(c: ObjectiveContext, output: string | undefined): { logits: string; classes: number } {
  const out = output ? c.outputs.find((o) => o.name === output) : c.outputs[0];
  if (!out) throw new GradientSpecError(`objective: the model has no output "${output}"`);
  const shape = out.shape;
  if (!shape || shape.length !== 2 || typeof shape[1] !== 'number')
    throw new GradientSpecError(
      `objective: output "${out.name}" must be [N, classes] with a static class count; it is [${(shape ?? []).join(', ')}]`,
    );
  return { logits: out.name, classes: shape[1] };
}

function oneHot(c: ObjectiveContext, target: ClassTarget, classes: number): string {
  const e = c.e;
  if (typeof target === 'number') {
    if (!Number.isInteger(target) || target < 0 || target >= classes)
      throw new GradientSpecError(`objective: class ${target} is outside 0..${classes - 1}`);
    const row = new Array<number>(classes).fill(0);
    row[target] = 1;
    return e.f(row, [1, classes]);
  }
  const ids = c.addFeed(target.feed, { kind: 'classes', shape: ['N'] });
  return e.op('OneHot', [ids, e.i(classes), e.f([0, 1])], { axis: { int: -1 } });
}

/** mean_i sum_k weights[i, k] * t[i, k]. */
function selected(e: Emitter, t: string, onehot: string): string {
  return e.reduceMean(e.reduceSum(e.op('Mul', [t, onehot]), [1], false), [0], false);
}

/** 1 / N for a tensor [N, ...] (N its runtime first dimension), as a float scalar. */
function inverseBatch(e: Emitter, t: string): string {
  const n = e.op('Gather', [e.shape(t), e.i(0)], { axis: { int: 0 } });
  return e.op('Reciprocal', [e.op('Cast', [n], { to: { int: 1 } })]);
}

function termValue(
  c: ObjectiveContext,
  term: ObjectiveTerm,
  bnNodes: string[],
): { value: string; seed?: TermSeed } {
  const e = c.e;
  switch (term.kind) {
    case 'logit': {
      const { logits, classes } = classLogits(c, term.output);
      const oh = oneHot(c, term.target, classes);
      // d/d logits = onehot / N, broadcast to [N, K] when the class is fixed ([1, K])
      const adjoint = e.expandLike(e.op('Mul', [oh, inverseBatch(e, logits)]), logits);
      return { value: selected(e, logits, oh), seed: { tensor: logits, adjoint } };
    }
    case 'logSoftmax':
    case 'crossEntropy': {
      const { logits, classes } = classLogits(c, term.output);
      const ls = e.op('LogSoftmax', [logits], { axis: { int: 1 } });
      const oh = oneHot(c, term.target, classes);
      const v = selected(e, ls, oh);
      // one-hot rows sum to 1: d/d logits of mean_i log_softmax[i, t_i] = (onehot - softmax) / N
      const p = e.op('Exp', [ls]);
      const diff = term.kind === 'crossEntropy' ? e.op('Sub', [p, oh]) : e.op('Sub', [oh, p]);
      const adjoint = e.op('Mul', [diff, inverseBatch(e, logits)]);
      return {
        value: term.kind === 'crossEntropy' ? e.op('Neg', [v]) : v,
        seed: { tensor: logits, adjoint },
      };
    }
    case 'l1':
      return { value: perSampleMean(e, e.op('Abs', [c.resolve(term.of)])) };
    case 'l2': {
      const t = c.resolve(term.of);
      return { value: perSampleMean(e, e.op('Mul', [t, t])) };
    }
    case 'l2Bound': {
      if (!(term.bound >= 0)) throw new GradientSpecError('objective l2Bound: bound must be >= 0');
      const t = c.resolve(term.of);
      const shape = e.meta(t).shape;
      if (!shape || shape.length === 0)
        throw new GradientSpecError('objective l2Bound: a tensor of rank >= 1');
      let s = e.op('Mul', [t, t]);
      if (shape.length > 1)
        s = e.reduceSum(
          s,
          Array.from({ length: shape.length - 1 }, (_, i) => i + 1),
          false,
        );
      const over = e.op('Relu', [e.op('Sub', [s, e.f(term.bound * term.bound)])]);
      return { value: e.reduceMean(over, [0], false) };
    }
    case 'tv': {
      const t = c.resolve(term.of);
      const shape = e.meta(t).shape;
      if (!shape || shape.length !== 4)
        throw new GradientSpecError('objective tv: an image tensor [N, C, H, W]');
      const diff = (axis: number) =>
        e.op('Sub', [e.slice(t, [1], [SLICE_END], [axis]), e.slice(t, [0], [-1], [axis])]);
      const mag = (d: string) => (term.p === 2 ? e.op('Mul', [d, d]) : e.op('Abs', [d]));
      return { value: e.op('Add', [perSampleMean(e, mag(diff(2))), perSampleMean(e, mag(diff(3)))]) };
    }
    case 'bnStats': {
      const wanted = term.nodes ? new Set(term.nodes) : null;
      const parts: string[] = [];
      for (const n of c.nodes) {
        if (n.opType !== 'BatchNormalization') continue;
        if (wanted && !wanted.has(n.name ?? '')) continue;
        const [x, , , mean, variance] = n.input ?? [];
        const shape = e.meta(x).shape;
        if (!shape || shape.length < 2) continue;
        const axes = [0, ...Array.from({ length: shape.length - 2 }, (_, i) => i + 2)];
        const mu = e.reduceMean(x, axes, true);
        const centred = e.op('Sub', [x, mu]);
        const v = e.reduceMean(e.op('Mul', [centred, centred]), axes, false);
        const norm = (a: string, b: string) => {
          const d = e.op('Sub', [a, b]);
          return e.op('Sqrt', [e.reduceSum(e.op('Mul', [d, d]), [0], false)]);
        };
        const flatMu = e.op('Reshape', [mu, e.i([-1])]);
        parts.push(e.op('Add', [norm(flatMu, mean), norm(v, variance)]));
        bnNodes.push(n.name ?? '');
      }
      if (parts.length === 0) return { value: e.f(0) };
      return { value: parts.length === 1 ? parts[0] : e.op('Sum', parts) };
    }
    default:
      throw new GradientSpecError(`objective: unknown term kind "${(term as { kind: string }).kind}"`);
  }
}

/** A term's weight: a finite number, or the graph name of its scalar feed. */
function weightOf(c: ObjectiveContext, w: Weight | undefined): number | string {
  if (w === undefined) return 1;
  if (typeof w === 'number') {
    if (!Number.isFinite(w)) throw new GradientSpecError('objective: a weight must be finite');
    return w;
  }
  return c.addFeed(w.feed, { kind: 'scalar', shape: [] });
}

/** t times a weight (number or scalar tensor), skipping a weight of 1. */
export function scaled(e: Emitter, t: string, w: number | string): string {
  if (w === 1) return t;
  return e.op('Mul', [t, typeof w === 'number' ? e.f(w) : w]);
}

export function emitObjective(c: ObjectiveContext, terms: ObjectiveTerm[]): BuiltObjective {
  if (terms.length === 0) throw new GradientSpecError('objective: at least one term');
  const bnNodes: string[] = [];
  const built = terms.map((t) => termValue(c, t, bnNodes));
  const weights = terms.map((t) => weightOf(c, t.weight));
  const parts = built.map((b, i) => scaled(c.e, b.value, weights[i]));
  const total = parts.length === 1 ? c.e.op('Identity', [parts[0]]) : c.e.op('Sum', parts);
  return {
    total,
    terms: built.map((b) => b.value),
    seeds: built.map((b) => b.seed ?? null),
    weights,
    bnNodes,
  };
}
