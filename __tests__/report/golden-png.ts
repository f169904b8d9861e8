/**
 * Golden-file check for rendered pictures, like golden.ts for text: the PNG under __rendered__/ is the
 * reviewed picture. Compared decoded, pixel by pixel (the PNG bytes depend on the zlib build of the Node
 * that encoded them, the pixels do not). A missing file is written on the first local run; on CI a missing
 * file fails; UPDATE_GOLDEN=1 rewrites after an intended change.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { PNG } from 'pngjs';

const RENDERED_DIR = fileURLToPath(new URL('./__rendered__/', import.meta.url));

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
  const file = path.join(RENDERED_DIR, name);
  if (process.env.UPDATE_GOLDEN === '1' || (!existsSync(file) && process.env.CI !== 'true')) {
    mkdirSync(RENDERED_DIR, { recursive: true });
    writeFileSync(file, actual);
  }
  if (!existsSync(file))
    throw new Error(`golden file ${file} is missing: run the tests locally and commit it`);
  const want = decodePng(readFileSync(file));
  const got = decodePng(actual);
  expect([got.width, got.height]).toEqual([want.width, want.height]);
  expect(differingPixels(got, want)).toBe(0);
}
