/** Runs the CLI in-process with captured output, and makes temp workspaces. */
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/run.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function cli(...argv: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (s) => (out += s), err: (s) => (err += s), isTTY: false });
  return { code, out, err };
}

export function tempDir(prefix = 'mf-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const EXAMPLE_CLEAN = 'examples/models/clean';
export const EXAMPLE_CANDIDATES = 'examples/models/candidates';

/** A folder holding the first `n` clean example models: enough for the detectors, quick to fingerprint. */
export function cleanSubset(n = 6): string {
  const dir = tempDir('mf-clean-');
  const files = readdirSync(EXAMPLE_CLEAN)
    .filter((f) => f.endsWith('.onnx'))
    .sort()
    .slice(0, n);
  for (const f of files) copyFileSync(join(EXAMPLE_CLEAN, f), join(dir, f));
  return dir;
}
