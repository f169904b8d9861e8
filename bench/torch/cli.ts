/**
 * Runs the project's CLI the way a user does (`node bin/model-fingerprint.js baseline build` / `scan
 * --format json`), one process per command, and returns what it said. Failures are data here, not
 * exceptions: the benchmark records the exact message the tool gave for a PyTorch graph it rejects.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ScanReport } from '../../src/report/types.js';

export interface CliRunner {
  label: string;
  cmd: string;
  args: string[];
}

export function cliRunner(root: string, fromSource: boolean): CliRunner {
  return fromSource
    ? {
        label: 'node --import tsx src/cli/main.ts',
        cmd: process.execPath,
        args: ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts')],
      }
    : {
        label: 'node bin/model-fingerprint.js (dist/cli bundle)',
        cmd: process.execPath,
        args: [path.join(root, 'bin', 'model-fingerprint.js')],
      };
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCli(r: CliRunner, root: string, args: string[]): CliResult {
  const t = performance.now();
  const p = spawnSync(r.cmd, [...r.args, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ORT_DISABLE_TELEMETRY: '1', NO_COLOR: '1' },
    maxBuffer: 256 * 1024 * 1024,
  });
  return {
    status: p.status,
    stdout: p.stdout ?? '',
    stderr: (p.stderr ?? '') + (p.error ? `\n${p.error.message}` : ''),
    ms: performance.now() - t,
  };
}

/** Last non-empty lines of a command's output: the tool's own error message, without progress noise. */
export function tail(text: string, lines = 6): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l && !/^\s*(fingerprinting|scanning)\b/.test(l) && !/^\[\d+\/\d+\]/.test(l))
    .slice(-lines)
    .join('\n');
}

export interface BuildResult {
  ok: boolean;
  ms: number;
  message: string;
}

export function buildBaseline(
  r: CliRunner,
  root: string,
  models: string[],
  out: string,
  samplesDir?: string,
  extraArgs: string[] = [],
): BuildResult {
  rmSync(out, { recursive: true, force: true });
  const args = ['baseline', 'build', ...models, '--out', out, ...extraArgs];
  if (samplesDir) args.push('--probe-samples', samplesDir);
  const res = runCli(r, root, args);
  return {
    ok: res.status === 0,
    ms: res.ms,
    message: res.status === 0 ? tail(res.stdout, 2) : `exit ${res.status}: ${tail(res.stderr + res.stdout)}`,
  };
}

export interface ScanResult {
  report: ScanReport | null;
  ms: number;
  status: number | null;
  /** When no report came out: what the tool said. */
  message: string;
}

/** One `scan` process over all `models` (exit 1 = flagged and 2 = some model failed both still write a report). */
export function scan(
  r: CliRunner,
  root: string,
  models: string[],
  outFile: string,
  opts: { baselineDir?: string; samplesDir?: string; extraArgs?: string[] },
): ScanResult {
  rmSync(outFile, { force: true });
  const args = ['scan', ...models, '--format', 'json', '--output', outFile, '--fail-on', 'never', '--quiet'];
  args.push(...(opts.extraArgs ?? []));
  if (opts.baselineDir) args.push('--baseline', opts.baselineDir);
  if (opts.samplesDir) args.push('--probe-samples', opts.samplesDir);
  const res = runCli(r, root, args);
  if (!existsSync(outFile))
    return {
      report: null,
      ms: res.ms,
      status: res.status,
      message: `exit ${res.status}: ${tail(res.stderr + res.stdout)}`,
    };
  return {
    report: JSON.parse(readFileSync(outFile, 'utf8')) as ScanReport,
    ms: res.ms,
    status: res.status,
    message: '',
  };
}
