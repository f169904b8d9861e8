/**
 * `npm run bench:realsize-zoo [-- --out DIR] [--archs a,b] [--workers N] [--quick] [--merge-only]
 * [--test-recipe long] [--test-clean N] [--attacks a,b] [--rates r,s] [--cells N]`: builds the real-size
 * zoo (bench/realsize/README.md): ResNet-18, WRN-16-2, VGG-11 and MobileNetV2 on real 32x32 RGB traffic
 * signs (GTSRB, bench/data), clean and backdoored, trained in PyTorch on CPU (bench/realsize/train.py, one
 * thread per worker process, niced) and exported to ONNX. Resumable: re-running skips every model already in
 * its architecture's manifest. Writes DIR/manifest.json (every architecture's models, the zoo's settings and
 * the build's CPU time) beside DIR/<arch>/*.onnx; default DIR is bench/.cache/realsize-zoo (git-ignored).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDynamoExporter, ensureTorch, SetupError } from '../torch/python.js';
import { ARCHS, DATASET, ZOO_FORMAT, type ArchManifest, type RealsizeManifest } from './manifest.js';
import { option } from '../lib/args.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SITE = path.join(ROOT, 'bench', '.cache', 'torch-site');

/** What to build, passed to train.py as given (it validates them and says what it expects). */
const PLAN_OPTIONS = ['--ref-recipe', '--test-recipe', '--test-clean', '--attacks', '--rates', '--cells'];

/** The assembled data (bench/data): the worktree's cache, else this machine's shared copy. */
export function dataDir(): string {
  for (const d of [
    path.join(ROOT, 'bench', '.cache', 'data', DATASET),
    path.join('/work/cache/data', DATASET),
  ])
    if (existsSync(path.join(d, 'meta.json'))) return d;
  throw new SetupError(
    `bench:realsize-zoo needs the ${DATASET} arrays: run npm run bench:data -- --dataset ${DATASET} ` +
      `(bench/data/README.md says where the images come from)`,
  );
}

/** One train.py process over `archs`, niced, its output prefixed and passed through. */
function worker(
  archs: string[],
  data: string,
  out: string,
  quick: boolean,
  only?: 'clean' | 'backdoor',
): Promise<number> {
  return new Promise((resolve) => {
    const args = [
      '-n',
      '10',
      'python3',
      path.join(ROOT, 'bench', 'realsize', 'train.py'),
      '--data',
      data,
      '--out',
      out,
      '--archs',
      archs.join(','),
      ...(quick ? ['--quick'] : []),
      ...(only ? ['--only', only] : []),
      ...PLAN_OPTIONS.flatMap((f) => {
        const v = option(f);
        return v === undefined ? [] : [f, v];
      }),
    ];
    const p = spawn('nice', args, {
      cwd: ROOT,
      env: { ...process.env, PYTHONPATH: SITE, OMP_NUM_THREADS: '1' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    p.on('close', (code) => resolve(code ?? 1));
  });
}

/**
 * Splits the architectures over workers by their measured training cost (they differ 3x), and orders each
 * worker's list cheapest first, so that whole architectures are finished (and can be scanned) early.
 */
export function assign(archs: string[], workers: number): string[][] {
  const cost: Record<string, number> = { mobilenetv2: 3, wrn16_2: 3, vgg11: 1.2, resnet18: 1 };
  const groups: { archs: string[]; load: number }[] = Array.from({ length: workers }, () => ({
    archs: [],
    load: 0,
  }));
  for (const a of [...archs].sort((x, y) => (cost[y] ?? 1) - (cost[x] ?? 1))) {
    const g = groups.reduce((best, cur) => (cur.load < best.load ? cur : best));
    g.archs.push(a);
    g.load += cost[a] ?? 1;
  }
  return groups
    .filter((g) => g.archs.length)
    .map((g) => g.archs.sort((x, y) => (cost[x] ?? 1) - (cost[y] ?? 1)));
}

async function main(): Promise<void> {
  const out = path.resolve(option('--out') ?? path.join(ROOT, 'bench', '.cache', 'realsize-zoo'));
  const archs = (option('--archs') ?? ARCHS.join(',')).split(',');
  const bad = archs.filter((a) => !(ARCHS as readonly string[]).includes(a));
  if (bad.length)
    throw new SetupError(`bench:realsize-zoo: unknown architecture ${bad.join(', ')} (${ARCHS.join(', ')})`);
  const workers = Math.max(1, Number(option('--workers') ?? 2));
  const quick = process.argv.includes('--quick');
  const data = dataDir();
  // --merge-only: rewrite DIR/manifest.json from the architectures' manifests as they stand (e.g. to scan
  // the architectures already finished while the others train), without training or recording a run
  if (process.argv.includes('--merge-only')) return writeManifest(out, data, null);
  ensureTorch(ROOT, SITE);
  // the TorchScript exporter of torch 2.13 imports onnx too (the same pinned packages as bench:torch's dynamo run)
  ensureDynamoExporter(ROOT, SITE);
  mkdirSync(out, { recursive: true });
  const started = new Date().toISOString();
  const t0 = performance.now();
  const load0 = os.loadavg();
  // one architecture and two workers: one builds its clean models, the other its backdoored ones (train.py
  // shares the architecture's manifest under a lock)
  const jobs =
    archs.length === 1 && workers >= 2
      ? (['clean', 'backdoor'] as const).map((only) => worker(archs, data, out, quick, only))
      : assign(archs, workers).map((g) => worker(g, data, out, quick));
  const codes = await Promise.all(jobs);
  const wallS = (performance.now() - t0) / 1000;
  if (codes.some((c) => c !== 0))
    throw new SetupError(`bench:realsize-zoo: train.py exited with ${codes.join(', ')} (see above)`);
  writeManifest(out, data, {
    startedAt: started,
    wallS,
    workers,
    archs,
    quick,
    loadAvgStart: load0,
    loadAvgEnd: os.loadavg(),
  });
}

function writeManifest(out: string, data: string, run: RealsizeManifest['runs'][number] | null): void {
  const file = path.join(out, 'manifest.json');
  const prev = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RealsizeManifest) : null;
  const meta = JSON.parse(readFileSync(path.join(data, 'meta.json'), 'utf8'));
  const perArch: Record<string, ArchManifest> = {};
  for (const a of ARCHS) {
    const f = path.join(out, a, 'manifest.json');
    if (existsSync(f)) perArch[a] = JSON.parse(readFileSync(f, 'utf8')) as ArchManifest;
  }
  const m: RealsizeManifest = {
    format: ZOO_FORMAT,
    version: 1,
    data: {
      dataset: meta.dataset,
      source: meta.source,
      counts: meta.counts,
      classes: meta.classes.length,
      dir: data,
    },
    input: { name: 'input', shape: ['N', 3, 32, 32], range: [0, 1], normalisation: 'inside the graph' },
    output: { name: 'logits' },
    probeSamples: path.join(data, 'probe-samples'),
    archs: Object.fromEntries(
      Object.entries(perArch).map(([a, p]) => {
        const { models: _m, rejected: _r, ...rest } = p;
        return [a, rest];
      }),
    ),
    models: Object.values(perArch).flatMap((p) => p.models),
    rejected: Object.values(perArch).flatMap((p) => p.rejected),
    runs: [...(prev?.runs ?? []), ...(run ? [run] : [])],
  };
  writeFileSync(file, JSON.stringify(m, null, 1) + '\n');
  const cpu =
    m.models.reduce((s, x) => s + x.trainingCpuS, 0) + m.rejected.reduce((s, x) => s + x.trainingCpuS, 0);
  const base = Object.values(m.archs).reduce((s, a) => s + (a.base?.trainingCpuS ?? 0), 0);
  console.error(
    `wrote ${file}: ${m.models.length} models (${m.rejected.length} rejected attempts); training ` +
      `${((cpu + base) / 3600).toFixed(2)} cpu-hours (bases ${(base / 3600).toFixed(2)})` +
      (run ? `, this run ${(run.wallS / 60).toFixed(1)} min wall` : ''),
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  main().catch((e) => {
    if (e instanceof SetupError) {
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  });
