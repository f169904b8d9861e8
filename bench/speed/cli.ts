/**
 * Section "cli" of the speed benchmark: cold `scan MODEL --baseline DIR` runs of the CLI (new process each
 * time) on the small example candidate against a 100-model baseline. The baseline's models are seeded
 * random MLPs of the example architecture (Flatten -> 196x64 -> ReLU -> 64x32 -> ReLU -> 32x10, input
 * [N, 1, 14, 14]) written with the project's ONNX writer; the baseline is built by the same CLI that is
 * timed, so its format always matches. Uses the committed bundle (bin/model-fingerprint.js -> dist/cli)
 * unless src/ is newer than it, in which case `tsx src/cli/main.ts` is timed too and reported as such.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeSequentialModel, type LayerSpec } from '../../src/model/write.js';
import { Rng } from '../../src/probes/rng.js';
import { median } from './common.js';

export const CLI_BASELINE_MODELS = 100;
export const CLI_CANDIDATE = 'examples/models/candidates/clean-candidate.onnx';
const LAYERS: [number, number][] = [
  [196, 64],
  [64, 32],
  [32, 10],
];

function mlpBytes(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const layers: LayerSpec[] = [{ kind: 'flatten' }];
  LAYERS.forEach(([inF, outF], i) => {
    layers.push({
      kind: 'dense',
      weight: rng.normals(inF * outF, 0, Math.sqrt(2 / inF)),
      inFeatures: inF,
      outFeatures: outF,
      bias: rng.normals(outF, 0, 0.05),
    });
    if (i < LAYERS.length - 1) layers.push({ kind: 'relu' });
  });
  return writeSequentialModel({
    inputShape: ['N', 1, 14, 14],
    layers,
    producerName: 'fingerprint-action-zoo',
  });
}

export function writeBaselineModels(dir: string, count = CLI_BASELINE_MODELS): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    writeFileSync(path.join(dir, `mlp-${String(i).padStart(3, '0')}.onnx`), mlpBytes(1000 + i));
  }
}

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Whether src/ changed after the bundle was built (the bundle then does not run the current code). */
export function bundleIsStale(root: string): boolean {
  const bundle = path.join(root, 'dist', 'cli', 'index.js');
  return !existsSync(bundle) || newestMtime(path.join(root, 'src')) > statSync(bundle).mtimeMs;
}

export interface CliRunner {
  label: string;
  cmd: string;
  args: string[];
}

export function cliRunners(root: string): { bundle: CliRunner; tsx: CliRunner } {
  return {
    bundle: {
      label: 'node bin/model-fingerprint.js (dist/cli bundle)',
      cmd: process.execPath,
      args: [path.join(root, 'bin', 'model-fingerprint.js')],
    },
    tsx: {
      label: 'node --import tsx src/cli/main.ts',
      cmd: process.execPath,
      args: ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts')],
    },
  };
}

function run(r: CliRunner, args: string[], root: string): { ms: number; status: number | null; out: string } {
  const t = performance.now();
  const p = spawnSync(r.cmd, [...r.args, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { ms: performance.now() - t, status: p.status, out: `${p.stdout}\n${p.stderr}` };
}

export interface CliTiming {
  runner: string;
  baselineBuildMs: number;
  coldScanMs: number;
  scanRunsMs: number[];
  exitStatus: number | null;
}

/** Builds the baseline with `r`, then times `runs` cold scans (the first one untimed, to fill the page cache). */
export function timeCli(r: CliRunner, root: string, cache: string, runs: number): CliTiming {
  const models = path.join(cache, 'cli-models');
  if (!existsSync(models) || readdirSync(models).length !== CLI_BASELINE_MODELS) writeBaselineModels(models);
  const out = path.join(cache, `cli-baseline-${r.args.length > 1 ? 'tsx' : 'bundle'}`);
  rmSync(out, { recursive: true, force: true });
  const build = run(r, ['baseline', 'build', models, '--out', out], root);
  if (build.status !== 0) throw new Error(`baseline build failed (${r.label}): ${build.out.slice(-2000)}`);
  const scanArgs = ['scan', CLI_CANDIDATE, '--baseline', out, '--format', 'json', '--fail-on', 'never'];
  const warm = run(r, scanArgs, root);
  if (warm.status !== 0) throw new Error(`scan failed (${r.label}): ${warm.out.slice(-2000)}`);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(run(r, scanArgs, root).ms);
  return {
    runner: r.label,
    baselineBuildMs: build.ms,
    coldScanMs: median(times),
    scanRunsMs: times,
    exitStatus: warm.status,
  };
}
