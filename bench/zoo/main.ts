/**
 * `npm run bench:zoo [-- --quick] [--arch mlp|cnn] [--out DIR] [--workers N]`
 *
 * Builds the model zoo the detection benchmarks run on: clean reference models, held-out clean test models
 * and stealthy backdoored test models, as ONNX files plus manifest.json (see manifest.ts), under
 * bench/.cache/zoo (bench/.cache/zoo-quick with --quick). Models already in the manifest with the same config
 * hash are skipped, so a re-run only trains what is missing.
 *
 * Order: all clean models first (their median accuracy is the stealth yardstick), then backdoor attempts;
 * a cell whose attempt is not stealthy is retried at once with the next attempt's seed and a stronger trigger.
 */
import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMnist14 } from './data.js';
import {
  emptyManifest,
  median,
  readManifest,
  writeManifest,
  type ModelRecord,
  type RejectedRecord,
  type ZooManifest,
} from './manifest.js';
import { ARCHS, type Arch } from './nets.js';
import {
  backdoorCells,
  nextBackdoorAttempt,
  cleanPlan,
  configHash,
  fileFor,
  FULL_SIZE,
  MAX_BACKDOOR_ATTEMPTS,
  QUICK_SIZE,
  stealthProblem,
  type ModelSpec,
} from './plan.js';
import { summarize } from './summary.js';
import { WorkerPool, type Measures, type PoolJob } from './pool.js';
import type { AttackName } from './triggers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const USAGE = 'usage: npm run bench:zoo [-- --quick] [--arch mlp|cnn] [--out DIR] [--workers N]';

interface Options {
  quick: boolean;
  archs: Arch[];
  out: string;
  workers: number;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    quick: false,
    archs: [...ARCHS],
    out: '',
    workers: Math.max(1, Math.min(2, os.availableParallelism())),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--arch') {
      const v = value();
      if (v !== 'mlp' && v !== 'cnn') fail(`--arch must be mlp or cnn, got "${v}"`);
      opts.archs = [v];
    } else if (a === '--out') opts.out = path.resolve(value());
    else if (a === '--workers') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1 || n > 64) fail('--workers must be an integer from 1 to 64');
      opts.workers = n;
    } else fail(`unknown argument "${a}"`);
  }
  opts.out ||= path.join(ROOT, 'bench', '.cache', opts.quick ? 'zoo-quick' : 'zoo');
  return opts;
}

function fail(msg: string): never {
  console.error(`bench:zoo: ${msg}\n${USAGE}`);
  process.exit(2);
}

function toRecord(spec: ModelSpec, m: Measures, file: string): ModelRecord {
  return {
    id: spec.id,
    file,
    sha256: m.sha256,
    configHash: configHash(spec),
    arch: spec.arch,
    split: spec.split,
    label: spec.label,
    attack: spec.attack,
    trigger: m.trigger,
    poisonRate: spec.poisonRate,
    poisonedSamples: m.poisonedSamples,
    targetClass: spec.targetClass,
    seed: spec.seed,
    attempt: spec.attempt,
    hyper: { ...spec.hyper, optimizer: 'adam' },
    distill: spec.distill ? { ...spec.distill, teacherAccuracy: m.teacherAccuracy } : null,
    cleanAccuracy: m.cleanAccuracy,
    asr: m.asr,
    trainingMs: m.trainingMs,
    trainingCpuMs: m.trainingCpuMs,
  };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const loadAvgStart = os.loadavg();
  const data = loadMnist14();
  const manifest: ZooManifest = readManifest(opts.out) ?? emptyManifest(data.train.n, data.test.n);
  const size = opts.quick ? QUICK_SIZE : FULL_SIZE;
  const known = new Map<string, ModelRecord>();
  for (const r of manifest.models) if (existsSync(path.join(opts.out, r.file))) known.set(r.configHash, r);
  const rejected = new Map<string, RejectedRecord>(manifest.rejected.map((r) => [r.configHash, r]));
  manifest.models = [...known.values()];

  const pool = new WorkerPool(opts.workers);
  let trained = 0;
  let skipped = 0;
  const log = (msg: string) =>
    console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);

  const save = () => {
    manifest.models = [...known.values()];
    manifest.rejected = [...rejected.values()];
    writeManifest(opts.out, manifest);
  };
  const toJob = (spec: ModelSpec): PoolJob => ({ spec, outPath: path.join(opts.out, fileFor(spec)) });
  /** Runs jobs (the list may grow while running); each record goes to `accept` and the manifest is saved. */
  const runJobs = (jobs: PoolJob[], accept: (spec: ModelSpec, rec: ModelRecord) => void) =>
    pool.run(jobs, (job, res) => {
      if (!res.ok) throw new Error(`training ${job.spec.id} failed:\n${res.error}`);
      const rec = toRecord(job.spec, res.measures, fileFor(job.spec));
      trained++;
      const asr = rec.asr === null ? '' : ` asr ${rec.asr.toFixed(3)}`;
      log(
        `${job.spec.id}: acc ${rec.cleanAccuracy.toFixed(4)}${asr} (${(rec.trainingMs / 1000).toFixed(1)} s, cpu ${(rec.trainingCpuMs / 1000).toFixed(1)} s)`,
      );
      accept(job.spec, rec);
      save();
    });

  try {
    // 1. Clean models.
    const clean = cleanPlan(opts.archs, size);
    const cleanTodo = clean.filter((s) => !known.has(configHash(s)));
    skipped += clean.length - cleanTodo.length;
    log(
      `clean models: ${clean.length} planned, ${cleanTodo.length} to train, ${opts.workers} workers, backend ${await pool.backend()}`,
    );
    await runJobs(cleanTodo.map(toJob), (_spec, rec) => known.set(rec.configHash, rec));

    const cleanHashes = new Set(clean.map(configHash));
    for (const arch of opts.archs) {
      const accs = [...known.values()]
        .filter((r) => r.arch === arch && cleanHashes.has(r.configHash))
        .map((r) => r.cleanAccuracy);
      manifest.cleanMedianAccuracy[arch] = median(accs);
    }

    // 2. Backdoored models: each cell's first attempt is queued; a rejected attempt queues the next one.
    type Cell = { arch: Arch; attack: AttackName; rate: number };
    const open: Cell[] = [];
    const queue: PoolJob[] = [];
    const state = (h: string) => (known.has(h) ? 'kept' : rejected.has(h) ? 'rejected' : 'none');
    const enqueue = (c: Cell, from: number) => {
      const next = nextBackdoorAttempt(c, from, state);
      if (next === 'exhausted') open.push(c);
      else if (next === 'kept') skipped++;
      else queue.push(toJob(next));
    };
    for (const arch of opts.archs) for (const c of backdoorCells(size)) enqueue({ arch, ...c }, 0);
    log(`backdoored models: ${queue.length} first attempts to train`);
    await runJobs(queue, (spec, rec) => {
      const problem = stealthProblem(rec, manifest.cleanMedianAccuracy[spec.arch] ?? NaN);
      if (!problem) {
        known.set(rec.configHash, rec);
        return;
      }
      rmSync(path.join(opts.out, rec.file), { force: true });
      rejected.set(rec.configHash, { ...rec, file: '', reason: problem });
      log(`  rejected ${spec.id}: ${problem}`);
      if (spec.attack && spec.poisonRate !== null) {
        enqueue({ arch: spec.arch, attack: spec.attack, rate: spec.poisonRate }, spec.attempt + 1);
      }
    });
    const wallMs = Date.now() - started;
    manifest.runs.push({
      startedAt: new Date(started).toISOString(),
      wallMs,
      workers: opts.workers,
      trained,
      skipped,
      quick: opts.quick,
      archs: opts.archs,
      backend: await pool.backend(),
      loadAvgStart,
      loadAvgEnd: os.loadavg(),
    });
    manifest.models.sort((a, b) => a.id.localeCompare(b.id));
    manifest.rejected.sort((a, b) => a.id.localeCompare(b.id));
    writeManifest(opts.out, manifest);
    log(
      `done: ${trained} trained, ${skipped} cached, ${manifest.models.length} models in ${opts.out}/manifest.json`,
    );
    console.log(summarize(manifest));
    if (open.length) {
      log(
        `cells without a stealthy backdoor after ${MAX_BACKDOOR_ATTEMPTS} attempts: ${open.map((c) => `${c.arch}/${c.attack}@${c.rate}`).join(', ')}`,
      );
    }
  } finally {
    await pool.close();
  }
}

await main();
