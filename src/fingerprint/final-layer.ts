/**
 * Finds the model's final linear layer: the Gemm/MatMul (or 1x1 Conv) that produces the first graph output,
 * walking back through ops that keep class alignment (Softmax, Flatten, Reshape, Identity, a bias Add, ...).
 * Its weight rows are the per-class directions that weight statistics and the auto layer rule use.
 */
import type { onnx as pb } from 'onnx-proto';
import { constantTensor } from '../model/tensor-data.js';
import type { OnnxModel } from '../model/types.js';

/** Ops between the final linear layer and the output that keep one value per class. */
const PASS_THROUGH = new Set([
  'Softmax',
  'LogSoftmax',
  'Sigmoid',
  'Identity',
  'Flatten',
  'Reshape',
  'Squeeze',
  'Unsqueeze',
  'Cast',
  'Dropout',
]);

export interface FinalLinear {
  node: pb.INodeProto;
  /** Weight as [classes, features] (row c = class c). */
  weight: Float64Array;
  classes: number;
  features: number;
  bias: Float64Array | null;
  /** The tensor the layer reads (its input activations). */
  input: string;
  weightName: string;
}

function intAttr(n: pb.INodeProto, name: string, dflt: number): number {
  const a = (n.attribute ?? []).find((x) => x.name === name);
  return a?.i != null ? Number(a.i) : dflt;
}

function transpose(v: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(v.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = v[r * cols + c];
  return out;
}

/** The final linear layer producing `model.outputs[0]`, or null when the graph ends otherwise. */
export function findFinalLinear(model: OnnxModel): FinalLinear | null {
  const nodes = model.proto.graph?.node ?? [];
  const producer = new Map<string, pb.INodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  let tensor = model.outputs[0]?.name;
  let pendingBias: Float64Array | null = null;
  for (let steps = 0; tensor && steps < 64; steps++) {
    const n = producer.get(tensor);
    if (!n) return null;
    const ins = n.input ?? [];
    const op = n.opType ?? '';
    if (op === 'Gemm' || op === 'MatMul') {
      const w = constantTensor(model, ins[1]);
      if (!w || w.dims.length !== 2) return null;
      const transB = op === 'Gemm' ? intAttr(n, 'transB', 0) : 0;
      const [d0, d1] = w.dims;
      const weight = transB ? w.values : transpose(w.values, d0, d1);
      const classes = transB ? d0 : d1;
      const features = transB ? d1 : d0;
      let bias = pendingBias;
      if (op === 'Gemm' && ins[2]) {
        const b = constantTensor(model, ins[2]);
        if (b)
          bias = b.values.length === classes ? b.values : new Float64Array(classes).fill(b.values[0] ?? 0);
      }
      return { node: n, weight, classes, features, bias, input: ins[0], weightName: ins[1] };
    }
    if (op === 'Conv') {
      const w = constantTensor(model, ins[1]);
      if (!w || w.dims.length !== 4 || w.dims[2] * w.dims[3] !== 1) return null;
      const b = ins[2] ? constantTensor(model, ins[2]) : null;
      return {
        node: n,
        weight: w.values,
        classes: w.dims[0],
        features: w.dims[1],
        bias: b?.values ?? pendingBias,
        input: ins[0],
        weightName: ins[1],
      };
    }
    if (op === 'Add') {
      const c0 = constantTensor(model, ins[0]);
      const c1 = constantTensor(model, ins[1]);
      if (c0 && !c1) {
        pendingBias = c0.values;
        tensor = ins[1];
      } else if (c1 && !c0) {
        pendingBias = c1.values;
        tensor = ins[0];
      } else return null;
      continue;
    }
    if (PASS_THROUGH.has(op)) {
      tensor = ins[0];
      continue;
    }
    return null;
  }
  return null;
}
