/**
 * A minimal protobuf wire-format scanner over the top level of a ModelProto, used to refuse crafted files on
 * which onnx-proto (protobufjs) and ONNX Runtime (C++ protobuf) would disagree: protobufjs keeps only the
 * last copy of a singular sub-message (e.g. `graph`), while C++ merges all copies, so a file with two `graph`
 * records could show this scanner one graph and ORT another. Hand-written because the wire format needed here
 * is six lines of varint reading; protobufjs is only a transitive dependency.
 */

/** Field numbers of ModelProto that hold singular sub-messages. */
export const MODEL_PROTO_SINGULAR_MESSAGE_FIELDS = new Map([[7, 'graph']]);

function varint(bytes: Uint8Array, pos: number): [number, number] | null {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= bytes.length) return null;
    const b = bytes[pos++];
    v += (b & 0x7f) * mul;
    mul *= 128;
    if (b < 0x80) return [v, pos];
  }
  return null;
}

/**
 * How many times each top-level field occurs, or 'truncated' when a record runs past the end, or 'invalid'
 * for wire types a ModelProto never uses (groups) or a zero field number.
 */
export function topLevelFieldCounts(bytes: Uint8Array): Map<number, number> | 'truncated' | 'invalid' {
  const counts = new Map<number, number>();
  let pos = 0;
  while (pos < bytes.length) {
    const t = varint(bytes, pos);
    if (!t) return 'truncated';
    const [tag, p] = t;
    pos = p;
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) return 'invalid';
    counts.set(field, (counts.get(field) ?? 0) + 1);
    if (wire === 0) {
      const v = varint(bytes, pos);
      if (!v) return 'truncated';
      pos = v[1];
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const l = varint(bytes, pos);
      if (!l) return 'truncated';
      pos = l[1] + l[0];
    } else return 'invalid';
    if (pos > bytes.length) return 'truncated';
  }
  return counts;
}
