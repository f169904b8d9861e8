/**
 * Writes held-out MNIST digits (the zoo's test split, never trained on) as float32 .npy files, one
 * [1, 14, 14] image each, for the "samples" probe configuration: what a user who passes a folder of a few
 * dozen real inputs (`--samples`) gives the fingerprint. Hand-written .npy header (NPY format 1.0): a
 * dozen lines, not worth a dependency.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { IMAGE_SIDE, loadMnist14, PIXELS } from '../zoo/data.js';

function npyBytes(values: Float32Array, shape: number[]): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([
    pre,
    Buffer.from(header, 'latin1'),
    Buffer.from(values.buffer, values.byteOffset, values.byteLength),
  ]);
}

/** A folder of `count` held-out digits (the LAST `count` of the zoo's test split); created once. */
export function ensureSampleDir(root: string, count: number): string {
  const dir = path.join(root, `mnist-test-last${count}`);
  if (existsSync(path.join(dir, 'done'))) return dir;
  mkdirSync(dir, { recursive: true });
  const test = loadMnist14().test;
  for (let k = 0; k < count; k++) {
    const i = test.n - count + k;
    const img = test.x.slice(i * PIXELS, (i + 1) * PIXELS);
    writeFileSync(
      path.join(dir, `digit-${String(k).padStart(3, '0')}.npy`),
      npyBytes(img, [1, IMAGE_SIDE, IMAGE_SIDE]),
    );
  }
  writeFileSync(path.join(dir, 'done'), '');
  return dir;
}
