/**
 * Golden-file check for rendered pictures, like golden.ts for text: the PNG under __rendered__/ is the
 * reviewed picture. Compared decoded, pixel by pixel (the PNG bytes depend on the zlib build of the Node
 * that encoded them, the pixels do not). A missing file is written on the first local run; on CI a missing
 * file fails; UPDATE_GOLDEN=1 rewrites after an intended change.
 */
import { PNG } from 'pngjs';
import { goldenBytes } from './golden.js';

export interface Decoded {
  width: number;
  height: number;
  data: Buffer;
}

export function decodePng(bytes: Buffer): Decoded {
  const png = PNG.sync.read(bytes);
  return { width: png.width, height: png.height, data: png.data };
}

/** How many pixels of two same-sized RGBA images differ. */
export function differingPixels(a: Decoded, b: Decoded): number {
  let n = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    if (a.data.readUInt32BE(i) !== b.data.readUInt32BE(i)) n++;
  }
  return n;
}

export function expectGoldenPng(name: string, actual: Buffer): void {
  const want = decodePng(goldenBytes(name, actual));
  const got = decodePng(actual);
  expect([got.width, got.height]).toEqual([want.width, want.height]);
  expect(differingPixels(got, want)).toBe(0);
}
