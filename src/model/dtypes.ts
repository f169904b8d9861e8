/**
 * ONNX TensorProto.DataType numbers <-> the project's ElementType names, plus the int64 helper every reader
 * needs: onnx-proto (protobufjs) decodes int64 fields as Long objects when the `long` package is present.
 */
import type { ElementType } from './types.js';

/** ONNX TensorProto.DataType codes (onnx.proto3, stable across IR versions). */
const CODE_BY_TYPE: Record<Exclude<ElementType, 'unknown'>, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
};

const TYPE_BY_CODE = new Map<number, ElementType>(
  Object.entries(CODE_BY_TYPE).map(([k, v]) => [v, k as ElementType]),
);

export function elemTypeCode(t: ElementType): number {
  if (t === 'unknown') throw new Error('cannot encode element type "unknown"');
  return CODE_BY_TYPE[t];
}

export function elementTypeOf(code: number | null | undefined): ElementType {
  return (code != null && TYPE_BY_CODE.get(code)) || 'unknown';
}

/** Bytes per element for fixed-size types (string/unknown: 0). */
export function bytesPerElement(t: ElementType): number {
  switch (t) {
    case 'float64':
    case 'int64':
    case 'uint64':
      return 8;
    case 'float32':
    case 'int32':
    case 'uint32':
      return 4;
    case 'float16':
    case 'bfloat16':
    case 'int16':
    case 'uint16':
      return 2;
    case 'int8':
    case 'uint8':
    case 'bool':
      return 1;
    default:
      return 0;
  }
}

/** A protobufjs int64 value: a number or a Long-like object. */
export type Int64Like = number | { toNumber(): number } | null | undefined;

/** An int64 field as a JS number (model dims and versions fit comfortably in 2^53). */
export function toNum(v: Int64Like): number {
  if (v == null) return 0;
  if (typeof v === 'number') return v;
  return v.toNumber();
}
