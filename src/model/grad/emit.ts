/**
 * Writes new nodes into a model's graph in the model's own ai.onnx opset: every operator whose signature
 * changed between opsets (ReduceSum's axes became an input at 13, ReduceMean's at 18, Squeeze/Unsqueeze's
 * at 13, Pad's pads at 11, Clip's bounds at 11, ScatterElements' reduction at 16) is written through one
 * helper here, so the rules never branch on the opset. Constants become initializers, shared by value.
 * Names carry a prefix no tensor of the model uses.
 */
import type { onnx as pb } from 'onnx-proto';
import { attributeProto, tensorProto, type AttrValue } from '../write.js';
import type { ElementType } from '../types.js';
import { inferNode, type Meta } from './shapes.js';

/** Lowest ai.onnx opset the backward ops are written for (Slice/Pad/Clip take inputs, float Equal exists). */
export const MIN_GRAD_OPSET = 11;

/** Slice's "to the end" (INT64_MAX would do; this is what exporters write). */
export const SLICE_END = 2 ** 31 - 1;

export class Emitter {
  readonly nodes: pb.INodeProto[] = [];
  readonly initializers: pb.ITensorProto[] = [];
  private counter = 0;
  private readonly constants = new Map<string, string>();
  private readonly shapes = new Map<string, string>();

  constructor(
    readonly opset: number,
    private readonly prefix: string,
    /** Metas of the graph's tensors; emitted nodes' outputs are added as they are written. */
    readonly metas: Map<string, Meta>,
  ) {}

  meta(name: string): Meta {
    return this.metas.get(name) ?? { dtype: 'unknown', shape: null };
  }

  /** A fresh tensor name. */
  name(hint: string): string {
    return `${this.prefix}${hint}_${this.counter++}`;
  }

  /** Writes one node; returns its outputs. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, nOut = 1, hint = op): string[] {
    const outputs = Array.from({ length: nOut }, () => this.name(hint));
    this.push(op, inputs, outputs, attrs);
    return outputs;
  }

  /** Writes one node with the given output names (the prelude's output is the model's input name). */
  push(op: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}): void {
    const n: pb.INodeProto = {
      opType: op,
      input: inputs,
      output: outputs,
      name: this.name(op),
      domain: '',
      attribute: Object.entries(attrs).map(([k, v]) => attributeProto(k, v)),
    };
    this.nodes.push(n);
    const out = inferNode(n, (t) => this.meta(t), this.opset);
    outputs.forEach((o, i) => this.metas.set(o, out[i] ?? { dtype: 'unknown', shape: null }));
  }

  /** The Indices output of a MaxPool over x with the given (already encoded) attributes. */
  withIndices(x: string, attrs: Record<string, pb.IAttributeProto>): string {
    const outputs = [this.name('MaxPool'), this.name('MaxPool_indices')];
    this.nodes.push({
      opType: 'MaxPool',
      input: [x],
      output: outputs,
      name: this.name('MaxPool'),
      domain: '',
      attribute: Object.values(attrs),
    });
    this.metas.set(outputs[1], { dtype: 'int64', shape: null });
    return outputs[1];
  }

  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.node(op, inputs, attrs)[0];
  }

  private constant(dtype: ElementType, values: number[], dims: number[]): string {
    const key = `${dtype}:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.name('const');
      this.initializers.push(
        tensorProto(name, dtype, dims, dtype === 'int64' ? values.map((v) => BigInt(v)) : values),
      );
      this.metas.set(name, {
        dtype,
        shape: dims,
        ...(dtype === 'int64' ? { value: values } : {}),
      });
      this.constants.set(key, name);
    }
    return name;
  }

  /** A float32 constant; a bare number is a scalar (rank 0). */
  f(values: number | number[], dims?: number[]): string {
    const v = typeof values === 'number' ? [values] : values;
    return this.constant('float32', v, dims ?? (typeof values === 'number' ? [] : [v.length]));
  }

  /** An int64 constant; a bare number is a scalar. */
  i(values: number | number[], dims?: number[]): string {
    const v = typeof values === 'number' ? [values] : values;
    return this.constant('int64', v, dims ?? (typeof values === 'number' ? [] : [v.length]));
  }

  /** Shape(x), once per tensor. */
  shape(x: string): string {
    let s = this.shapes.get(x);
    if (!s) {
      s = this.op('Shape', [x]);
      this.shapes.set(x, s);
    }
    return s;
  }

  /** g reshaped to x's runtime shape. */
  reshapeLike(g: string, x: string): string {
    return this.op('Reshape', [g, this.shape(x)]);
  }

  /** g broadcast to x's runtime shape. */
  expandLike(g: string, x: string): string {
    return this.op('Expand', [g, this.shape(x)]);
  }

  /** Zeros of x's runtime shape. */
  zerosLike(x: string): string {
    return this.expandLike(this.f(0), x);
  }

  private reduce(op: string, x: string, axes: number[], keepdims: boolean): string {
    const axesAsInput = op === 'ReduceSum' ? this.opset >= 13 : this.opset >= 18;
    const k = { keepdims: { int: keepdims ? 1 : 0 } };
    if (axesAsInput) return this.op(op, [x, this.i(axes)], k);
    return this.op(op, [x], { ...k, axes: { ints: axes } });
  }

  reduceSum(x: string, axes: number[], keepdims: boolean): string {
    return this.reduce('ReduceSum', x, axes, keepdims);
  }

  reduceMean(x: string, axes: number[], keepdims: boolean): string {
    return this.reduce('ReduceMean', x, axes, keepdims);
  }

  unsqueeze(x: string, axes: number[]): string {
    if (this.opset >= 13) return this.op('Unsqueeze', [x, this.i(axes)]);
    return this.op('Unsqueeze', [x], { axes: { ints: axes } });
  }

  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    const ins = [x, this.i(starts), this.i(ends), this.i(axes)];
    if (steps) ins.push(this.i(steps));
    return this.op('Slice', ins);
  }

  /** Constant-mode Pad with pads given as numbers ([begin..., end...] over all axes). */
  pad(x: string, pads: number[]): string {
    return this.op('Pad', [x, this.i(pads)]);
  }

  transpose(x: string, perm: number[]): string {
    return this.op('Transpose', [x], { perm: { ints: perm } });
  }

  /** Where(cond, a, b). */
  where(cond: string, a: string, b: string): string {
    return this.op('Where', [cond, a, b]);
  }

  /** ScatterElements(data, indices, updates) on axis 0, summing duplicates (opset 16+) when asked. */
  scatterAdd(data: string, indices: string, updates: string, sum: boolean): string {
    const attrs: Record<string, AttrValue> = { axis: { int: 0 } };
    if (sum) attrs.reduction = { string: 'add' };
    return this.op('ScatterElements', [data, indices, updates], attrs);
  }
}
