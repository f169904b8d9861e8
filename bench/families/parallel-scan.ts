/**
 * `scan --format json` of many models split over several CLI processes at once (each one the command a
 * user runs, on a slice of the models), their reports merged in model order. On a shared 2-core machine
 * one niced process gets a small share of a core; a few in parallel finish the bench in a usable time.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { ModelEntry } from '../../src/report/types.js';
import { tail, type CliRunner } from '../torch/cli.js';

export interface ParallelScan {
  models: ModelEntry[];
  ms: number;
  /** What the tool said when a slice produced no report (empty when every slice did). */
  message: string;
}

function runOne(r: CliRunner, root: string, args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(r.cmd, [...r.args, ...args], {
      cwd: root,
      env: { ...process.env, ORT_DISABLE_TELEMETRY: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (status) => resolve({ status, out }));
    p.on('error', (e) => resolve({ status: null, out: out + e.message }));
  });
}

export async function parallelScan(
  r: CliRunner,
  root: string,
  models: string[],
  outPrefix: string,
  jobs: number,
  opts: { baselineDir?: string; samplesDir?: string },
): Promise<ParallelScan> {
  const t = performance.now();
  const n = Math.max(1, Math.min(jobs, models.length));
  // interleaved slices, so every slice gets clean and backdoored models of every family
  const slices = Array.from({ length: n }, (_, j) => models.filter((_, i) => i % n === j));
  const runs = await Promise.all(
    slices.map(async (slice, j) => {
      const outFile = `${outPrefix}.${j}.json`;
      rmSync(outFile, { force: true });
      const args = [
        'scan',
        ...slice,
        '--format',
        'json',
        '--output',
        outFile,
        '--fail-on',
        'never',
        '--quiet',
      ];
      if (opts.baselineDir) args.push('--baseline', opts.baselineDir);
      if (opts.samplesDir) args.push('--probe-samples', opts.samplesDir);
      const res = await runOne(r, root, args);
      if (!existsSync(outFile))
        return { models: [] as ModelEntry[], message: `exit ${res.status}: ${tail(res.out)}` };
      const report = JSON.parse(readFileSync(outFile, 'utf8')) as { models: ModelEntry[] };
      return { models: report.models, message: '' };
    }),
  );
  return {
    models: runs.flatMap((x) => x.models),
    ms: performance.now() - t,
    message: runs
      .map((x) => x.message)
      .filter(Boolean)
      .join(' | '),
  };
}

/**
 * `baseline build --shard I/N` in `jobs` processes at once, then `baseline merge` (the CLI's documented path
 * for large baselines; the merged baseline is the one an unsharded build gives, tested in the CLI's tests).
 */
export async function shardedBaselineBuild(
  r: CliRunner,
  root: string,
  models: string[],
  out: string,
  jobs: number,
  samplesDir?: string,
): Promise<{ ok: boolean; ms: number; message: string }> {
  const t = performance.now();
  const n = Math.max(1, Math.min(jobs, models.length));
  rmSync(out, { recursive: true, force: true });
  const parts = Array.from({ length: n }, (_, j) => `${out}.part${j + 1}`);
  const built = await Promise.all(
    parts.map((dir, j) => {
      rmSync(dir, { recursive: true, force: true });
      const args = ['baseline', 'build', ...models, '--shard', `${j + 1}/${n}`, '--out', dir];
      if (samplesDir) args.push('--probe-samples', samplesDir);
      return runOne(r, root, args);
    }),
  );
  const bad = built.find((b) => b.status !== 0);
  if (bad) return { ok: false, ms: performance.now() - t, message: `exit ${bad.status}: ${tail(bad.out)}` };
  const merged = await runOne(r, root, ['baseline', 'merge', ...parts, '--out', out]);
  for (const dir of parts) rmSync(dir, { recursive: true, force: true });
  return {
    ok: merged.status === 0,
    ms: performance.now() - t,
    message: merged.status === 0 ? tail(merged.out, 2) : `exit ${merged.status}: ${tail(merged.out)}`,
  };
}
