/**
 * Reads the values of a constant tensor (an initializer or a Constant node's `value`) as float64, for weight
 * statistics. Handles raw_data (float32/float64/float16, little-endian), the typed repeated fields, and
 * external data already resolved inside the model's folder (read.ts). Integer tensors are converted too.
 * `constantFloat32` gives float32 tensors as float32 without the float64 copy: a zero-copy view of the
 * protobuf's raw_data when it is 4-byte aligned on a little-endian host (large weights: tens of MB), else one
 * memcpy; the weight statistics read 12 M values per mid-size model, where the float64 copy dominated.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import os from 'node:os';
import type { onnx as pb } from 'onnx-proto';
import { bytesPerElement, elementTypeOf, toNum, type Int64Like } from './dtypes.js';
import type { OnnxModel } from './types.js';

/** IEEE half -> number. */
function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function fromRaw(raw: Uint8Array, dtype: string, n: number): Float64Array | null {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'float32':
        out[i] = dv.getFloat32(i * 4, true);
        break;
      case 'float64':
        out[i] = dv.getFloat64(i * 8, true);
        break;
      case 'float16':
        out[i] = halfToNumber(dv.getUint16(i * 2, true));
        break;
      case 'int64':
        out[i] = Number(dv.getBigInt64(i * 8, true));
        break;
      case 'int32':
        out[i] = dv.getInt32(i * 4, true);
        break;
      case 'int8':
        out[i] = dv.getInt8(i);
        break;
      case 'uint8':
        out[i] = dv.getUint8(i);
        break;
      default:
        return null;
    }
  }
  return out;
}

/** The values of a TensorProto (row-major), or null for unsupported types / missing data. */
export function tensorValues(t: pb.ITensorProto, externalPath?: string): Float64Array | null {
  const dims = (t.dims ?? []).map((d) => toNum(d as Int64Like));
  const n = dims.reduce((a, b) => a * b, 1);
  const dtype = elementTypeOf(t.dataType);
  if (externalPath) {
    const kv = new Map((t.externalData ?? []).map((e) => [e.key, e.value]));
    const offset = Number(kv.get('offset') ?? 0);
    const len = n * bytesPerElement(dtype);
    const buf = new Uint8Array(len);
    const fd = openSync(externalPath, 'r');
    try {
      if (readSync(fd, buf, 0, len, offset) !== len) return null;
    } finally {
      closeSync(fd);
    }
    return fromRaw(buf, dtype, n);
  }
  if (t.rawData && t.rawData.length > 0) {
    if (t.rawData.length < n * bytesPerElement(dtype)) return null;
    return fromRaw(t.rawData, dtype, n);
  }
  if (t.floatData && t.floatData.length === n) return Float64Array.from(t.floatData);
  if (t.doubleData && t.doubleData.length === n) return Float64Array.from(t.doubleData);
  if (t.int32Data && t.int32Data.length === n) {
    return dtype === 'float16'
      ? Float64Array.from(t.int32Data, halfToNumber)
      : Float64Array.from(t.int32Data);
  }
  if (t.int64Data && t.int64Data.length === n)
    return Float64Array.from(t.int64Data, (v) => toNum(v as Int64Like));
  return null;
}

export interface ConstTensor {
  dims: number[];
  values: Float64Array;
}

interface ConstIndex {
  initializers: Map<string, pb.ITensorProto>;
  externalPaths: Map<string, string>;
  constants: Map<string, pb.ITensorProto>;
}

/** Name -> tensor maps, built once per model (lookups happen per node). */
const indexCache = new WeakMap<OnnxModel, ConstIndex>();

function indexOf(model: OnnxModel): ConstIndex {
  let idx = indexCache.get(model);
  if (!idx) {
    const g = model.proto.graph;
    idx = {
      initializers: new Map((g?.initializer ?? []).map((t) => [t.name ?? '', t])),
      externalPaths: new Map(
        model.initializers.filter((t) => t.externalPath).map((t) => [t.name, t.externalPath as string]),
      ),
      constants: new Map(),
    };
    for (const n of g?.node ?? []) {
      const t = n.opType === 'Constant' ? n.attribute?.find((a) => a.name === 'value')?.t : undefined;
      if (t && (n.output ?? [])[0]) idx.constants.set((n.output ?? [])[0], t);
    }
    indexCache.set(model, idx);
  }
  return idx;
}

/** A constant tensor by name: an initializer or the output of a Constant node. */
export function constantTensor(model: OnnxModel, name: string): ConstTensor | null {
  const idx = indexOf(model);
  const t = idx.initializers.get(name) ?? idx.constants.get(name);
  if (!t) return null;
  const values = tensorValues(t, idx.externalPaths.get(name));
  return values ? { dims: (t.dims ?? []).map((d) => toNum(d as Int64Like)), values } : null;
}

/** Whether typed arrays on this host are little-endian, as ONNX raw_data is (then raw bytes can be viewed). */
const HOST_LE = os.endianness() === 'LE';

/**
 * A constant tensor's values as float32 where the file stores float32 (a view of raw_data when aligned, never
 * written to by callers), otherwise as float64 (tensorValues). Null when absent or unsupported.
 */
export function constantFloat32(
  model: OnnxModel,
  name: string,
): { dims: number[]; values: Float32Array | Float64Array } | null {
  const idx = indexOf(model);
  const t = idx.initializers.get(name) ?? idx.constants.get(name);
  if (!t) return null;
  const dims = (t.dims ?? []).map((d) => toNum(d as Int64Like));
  const n = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData;
  const external = idx.externalPaths.get(name);
  if (!external && elementTypeOf(t.dataType) === 'float32' && HOST_LE && raw && raw.length >= n * 4) {
    if (raw.byteOffset % 4 === 0) return { dims, values: new Float32Array(raw.buffer, raw.byteOffset, n) };
    const copy = new Float32Array(n);
    new Uint8Array(copy.buffer).set(raw.subarray(0, n * 4));
    return { dims, values: copy };
  }
  if (!external && t.floatData && t.floatData.length === n && n > 0)
    return { dims, values: Float32Array.from(t.floatData) };
  const values = tensorValues(t, external);
  return values ? { dims, values } : null;
}
