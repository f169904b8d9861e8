/**
 * Golden-file check for rendered reports (kept under __rendered__/ for review, like dorny/test-reporter):
 * a missing file is written on the first local run; on CI (CI=true) a missing file fails, so a green CI
 * always compared against a committed file. UPDATE_GOLDEN=1 rewrites files after an intended change.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const RENDERED_DIR = fileURLToPath(new URL('./__rendered__/', import.meta.url));

/**
 * The reviewed bytes of golden file `name`: written from `actual` first when missing (locally) or when
 * UPDATE_GOLDEN=1; a missing file on CI throws.
 */
export function goldenBytes(name: string, actual: string | Buffer): Buffer {
  const file = path.join(RENDERED_DIR, name);
  if (process.env.UPDATE_GOLDEN === '1' || (!existsSync(file) && process.env.CI !== 'true')) {
    mkdirSync(RENDERED_DIR, { recursive: true });
    writeFileSync(file, actual);
  }
  if (!existsSync(file))
    throw new Error(`golden file ${file} is missing: run the tests locally and commit it`);
  return readFileSync(file);
}

export function expectGolden(name: string, actual: string): void {
  expect(actual).toBe(goldenBytes(name, actual).toString('utf8'));
}
