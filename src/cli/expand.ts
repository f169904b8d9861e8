/**
 * Turns the MODELS arguments of the CLI (files, directories, globs) into a sorted list of model paths.
 * Directories are searched for *.onnx; globs go through fast-glob. A pattern that matches nothing is an
 * error naming the pattern, so a typo never scans zero models silently.
 */
import fg from 'fast-glob';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../errors.js';

export const MODEL_EXTENSIONS = ['onnx'];

function isGlob(s: string): boolean {
  return /[*?[\]{}]/.test(s);
}

export async function expandModelArgs(args: string[], cwd = process.cwd()): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const push = (p: string) => {
    if (!seen.has(p)) {
      seen.add(p);
      out.push(p);
    }
  };
  for (const arg of args) {
    if (isGlob(arg)) {
      const hits = (await fg(arg, { cwd, onlyFiles: true, dot: false, followSymbolicLinks: false })).sort();
      if (hits.length === 0) throw new InputError('not-found', `${arg}: no file matches this pattern`);
      hits.forEach(push);
      continue;
    }
    let st;
    try {
      st = statSync(resolve(cwd, arg));
    } catch {
      // A missing file still becomes an entry: the scan reports it as an error beside the others.
      push(arg);
      continue;
    }
    if (st.isDirectory()) {
      const pattern =
        MODEL_EXTENSIONS.length === 1
          ? `**/*.${MODEL_EXTENSIONS[0]}`
          : `**/*.{${MODEL_EXTENSIONS.join(',')}}`;
      const hits = (
        await fg(pattern, { cwd: resolve(cwd, arg), onlyFiles: true, followSymbolicLinks: false })
      ).sort();
      if (hits.length === 0) throw new InputError('not-found', `${arg}: directory holds no .onnx model`, arg);
      hits.forEach((h) => push(join(arg, h)));
    } else {
      push(arg);
    }
  }
  return out;
}
