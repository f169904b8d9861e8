/**
 * Writes a uint8 array as a NumPy .npy file (format version 1.0: magic, little-endian header length, a
 * Python-literal header padded to a multiple of 64 bytes, then the C-order data), the form numpy.load and
 * the zoo's training script read directly. Hand-written: 15 lines, no npm package needed for it.
 */
export function npyUint8(data: Uint8Array, shape: number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new Error(`npy: shape [${shape}] holds ${count} values, got ${data.length}`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${dims}), }`;
  const pre = 10; // magic (6) + version (2) + header length (2)
  header += ' '.repeat(64 - ((pre + header.length + 1) % 64 || 64)) + '\n';
  const head = Buffer.alloc(pre);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), data]);
}
