/** What the model reader exposes about an ONNX model (the engine's input). */
import type { onnx } from 'onnx-proto';

export type ElementType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string'
  | 'unknown';

/** A dimension: a fixed size, a symbolic name, or null when neither is declared. */
export type Dim = number | string | null;

export interface TensorInfo {
  name: string;
  dtype: ElementType;
  shape: Dim[];
}

export interface LayerInfo {
  /** The tensor name (a node output). */
  name: string;
  /** The producing node's op type, e.g. "Conv". */
  op: string;
  /** The producing node's name (may be empty in the file). */
  node: string;
  /** Shape once known from ONNX Runtime (batch dim included), else null. */
  shape: number[] | null;
}

export interface InitializerInfo {
  name: string;
  dtype: ElementType;
  dims: number[];
  /** Stored in an external file (resolved path inside the model's directory). */
  externalPath?: string;
}

export interface OnnxModel {
  /** The path as given. */
  path: string;
  /** The model bytes exactly as read (ORT gets these, plus appended graph outputs). */
  bytes: Uint8Array;
  sha256: string;
  sizeBytes: number;
  irVersion: number;
  producer: string;
  opsets: { domain: string; version: number }[];
  /** Graph inputs that are not initializers: what probes feed. */
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Every node output in topological order. */
  layers: LayerInfo[];
  initializers: InitializerInfo[];
  /** The parsed proto (read-only use). */
  proto: onnx.ModelProto;
}

/** The input signature two models must share to be compared, e.g. "input:float32[N,1,14,14]". */
export function signatureOf(inputs: TensorInfo[], outputs?: TensorInfo[]): string {
  const fmt = (t: TensorInfo) =>
    `${t.name}:${t.dtype}[${t.shape.map((d) => (typeof d === 'number' ? d : 'N')).join(',')}]`;
  const ins = inputs.map(fmt).join(';');
  return outputs && outputs.length ? `${ins}->${outputs.map(fmt).join(';')}` : ins;
}
