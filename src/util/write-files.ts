/**
 * Writes a renderer's files (src/report/pictures.ts renderReportDir) into one directory, created if
 * missing. Names are checked to be plain file names, so nothing is written outside the directory whatever
 * a name was made from.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface NamedFile {
  name: string;
  data: Buffer | string;
}

/** Writes every file into `dir`; returns their paths. */
export function writeFilesInto(dir: string, files: readonly NamedFile[]): string[] {
  for (const f of files) {
    if (
      f.name === '' ||
      f.name === '.' ||
      f.name === '..' ||
      basename(f.name) !== f.name ||
      f.name.includes('\\')
    ) {
      throw new Error(`writeFilesInto: "${f.name}" is not a plain file name`);
    }
  }
  mkdirSync(dir, { recursive: true });
  return files.map((f) => {
    const path = join(dir, f.name);
    writeFileSync(path, f.data);
    return path;
  });
}
