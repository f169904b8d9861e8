/**
 * `npm run bench:torch` (tsx bench/torch/main.ts [--retrain] [--src] [--archs cnn,mlp,rgb,digits8] [--exporter dynamo] [--results DIR]): the cross-toolchain
 * detection benchmark of issue #6. Clean and backdoored MNIST classifiers trained in real PyTorch and
 * exported by PyTorch's own ONNX exporter (bench/torch/train.py, cached in bench/.cache/torch-zoo) are
 * scanned by the shipped CLI exactly as a user runs it: `baseline build` of the 40 clean references per
 * architecture (with and without --probe-samples), then `scan --format json` of the clean and backdoored
 * test models, and a scan without any baseline (reference-free checks only). Writes
 * bench/results/torch.json and bench/results/torch.md. --src runs src/cli/main.ts through tsx instead of
 * the committed bundle (bin/model-fingerprint.js); --retrain retrains the zoo (with --archs, only those
 * architectures, keeping the others); --render-only rewrites torch.md
 * from torch.json (after editing bench/torch/findings.md).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleIsStale } from '../speed/cli.js';
import { buildBaseline, cliRunner, scan, type BuildResult } from './cli.js';
import {
  CONDITIONS,
  type ConditionResult,
  type Manifest,
  type ManifestModel,
  type TorchBench,
} from './types.js';
import { conditionMetrics, type ScanRow } from './metrics.js';
import { ensureDynamoExporter, ensureTorch, SetupError, trainZoo } from './python.js';
import { renderMarkdown } from './report.js';
import { isFailed } from '../../src/report/types.js';
import { option } from '../lib/args.js';

function flag(name: string): boolean {
  return process.argv.includes(name);
}

/**
 * --exporter dynamo: the same models (same seeds, same weights) exported by PyTorch's default exporter
 * instead, with their weights in external `.onnx.data` files; own zoo, evaluation and results files
 * (torch-dynamo.json/.md), so the two exporters are compared model by model.
 */
const EXPORTER = option('--exporter') ?? 'torchscript';
if (EXPORTER !== 'torchscript' && EXPORTER !== 'dynamo') {
  console.error(`bench:torch: --exporter ${EXPORTER}: expected torchscript or dynamo`);
  process.exit(1);
}
const SUFFIX = EXPORTER === 'dynamo' ? '-dynamo' : '';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = path.join(ROOT, 'bench', '.cache');
const ZOO = path.join(CACHE, `torch-zoo${SUFFIX}`);
const SITE = path.join(CACHE, 'torch-site');
const EVAL = path.join(CACHE, `torch-eval${SUFFIX}`);
const RESULTS_NAME = `torch${SUFFIX}`;

function loadManifest(): Manifest {
  const m = JSON.parse(readFileSync(path.join(ZOO, 'manifest.json'), 'utf8')) as Manifest;
  for (const e of m.models) {
    // the dynamo exporter's weights file is part of the model (train.py hashes both)
    const h = createHash('sha256').update(readFileSync(path.join(ZOO, e.file)));
    const data = path.join(ZOO, `${e.file}.data`);
    if (existsSync(data)) h.update(readFileSync(data));
    const sha = h.digest('hex');
    if (sha !== e.sha256)
      throw new SetupError(`bench:torch: ${e.file} does not match its manifest hash; rerun with --retrain`);
  }
  return m;
}

type RowBase = Pick<ScanRow, 'id' | 'label' | 'attack' | 'rate' | 'target'>;

/** A model the scan did not score: its error, no scores. */
function failedRow(
  base: RowBase,
  error: string,
  errorCode: string | null,
  durationMs: number | null,
): ScanRow {
  return {
    ...base,
    riskScore: null,
    riskLevel: null,
    pValue: null,
    suspectedTargetClass: null,
    trigger: null,
    durationMs,
    error,
    errorCode,
  };
}

function rowsOf(tests: ManifestModel[], result: ReturnType<typeof scan>): ScanRow[] {
  const byPath = new Map((result.report?.models ?? []).map((m) => [path.resolve(ROOT, m.path), m] as const));
  return tests.map((t) => {
    const base: RowBase = { id: t.id, label: t.label, attack: t.attack, rate: t.rate, target: t.target };
    const m = byPath.get(path.join(ZOO, t.file));
    if (!m) return failedRow(base, result.message || 'missing from the report', null, null);
    if (isFailed(m)) return failedRow(base, m.error, m.errorCode, m.durationMs ?? null);
    const tr = m.explanation.trigger;
    return {
      ...base,
      riskScore: m.riskScore,
      riskLevel: m.riskLevel,
      pValue: m.pValue,
      suspectedTargetClass: m.explanation.suspectedTargetClass ?? null,
      trigger: tr ? `${tr.kind}${tr.location ? ` @ ${tr.location}` : ''} (flip ${tr.flipRate})` : null,
      durationMs: m.durationMs ?? null,
      error: null,
      errorCode: null,
    };
  });
}

function main(): void {
  if (flag('--render-only')) {
    // Re-renders torch.md from torch.json (e.g. after editing bench/torch/findings.md); no scans.
    const dir = path.resolve(option('--results') ?? path.join(ROOT, 'bench', 'results'));
    const b = JSON.parse(readFileSync(path.join(dir, `${RESULTS_NAME}.json`), 'utf8')) as TorchBench;
    writeMarkdown(dir, b);
    return;
  }
  const retrain = flag('--retrain');
  if (retrain || !existsSync(path.join(ZOO, 'manifest.json'))) {
    ensureTorch(ROOT, SITE);
    if (EXPORTER === 'dynamo') ensureDynamoExporter(ROOT, SITE);
    const t = performance.now();
    // --retrain --archs X retrains only X and keeps the zoo's other architectures (their files and hashes).
    const only = option('--archs');
    trainZoo(
      ROOT,
      SITE,
      ZOO,
      ['--exporter', EXPORTER, ...(only ? ['--archs', only] : [])],
      Boolean(only) && existsSync(path.join(ZOO, 'manifest.json')),
    );
    console.error(`trained the zoo in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
  const manifest = loadManifest();
  const runner = cliRunner(ROOT, flag('--src'));
  const stale = flag('--src') ? null : bundleIsStale(ROOT);
  if (stale)
    console.error(
      'note: src/ is newer than dist/cli: the bundle (what users run) is measured; --src measures src/',
    );
  const archs = (option('--archs') ?? [...new Set(manifest.models.map((m) => m.arch))].join(',')).split(',');
  // Each architecture's own held-out PNGs (grey 28x28 digits; recoloured 32x32 RGB for rgb).
  const samplesOf = (arch: string): string => path.join(ZOO, manifest.sampleDirs?.[arch] ?? 'samples');
  const results: Record<string, ConditionResult[]> = {};
  for (const arch of archs) {
    const refs = manifest.models.filter((m) => m.arch === arch && m.split === 'reference');
    const tests = manifest.models.filter((m) => m.arch === arch && m.split === 'test');
    const dir = path.join(EVAL, arch);
    mkdirSync(dir, { recursive: true });
    results[arch] = [];
    // The normalisation flags, for an architecture normalised outside its graph (the rgb models).
    const norm = manifest.normalisationByArch?.[arch];
    const normArgs =
      norm && !norm.inGraph ? ['--input-mean', norm.mean.join(','), '--input-std', norm.std.join(',')] : null;
    for (const c of CONDITIONS) {
      if (c.normalise && !normArgs) continue;
      const extraArgs = c.normalise && normArgs ? normArgs : [];
      let build: BuildResult | null = null;
      const baselineDir = path.join(
        dir,
        `baseline-${c.samples ? 'samples' : 'generated'}${c.normalise ? '-norm' : ''}`,
      );
      if (c.baseline) {
        console.error(`${arch} / ${c.id}: baseline build of ${refs.length} references`);
        build = buildBaseline(
          runner,
          ROOT,
          refs.map((m) => path.join(ZOO, m.file)),
          baselineDir,
          c.samples ? samplesOf(arch) : undefined,
          extraArgs,
        );
        if (!build.ok) {
          console.error(`  baseline build failed: ${build.message}`);
          results[arch].push({
            condition: c.id,
            build,
            scanWallMs: null,
            scanError: null,
            metrics: null,
            rows: [],
          });
          continue;
        }
      }
      console.error(`${arch} / ${c.id}: scanning ${tests.length} test models`);
      const res = scan(
        runner,
        ROOT,
        tests.map((m) => path.relative(ROOT, path.join(ZOO, m.file))),
        path.join(dir, `scan-${c.id}.json`),
        {
          baselineDir: c.baseline ? baselineDir : undefined,
          samplesDir: !c.baseline && c.samples ? samplesOf(arch) : undefined,
          extraArgs: c.baseline ? [] : extraArgs,
        },
      );
      const rows = rowsOf(tests, res);
      const metrics = conditionMetrics(rows);
      console.error(
        `  AUROC ${metrics.aurocRisk?.toFixed(3) ?? '-'}, failed ${metrics.failed}, ${(res.ms / 1000).toFixed(1)} s`,
      );
      results[arch].push({
        condition: c.id,
        build,
        scanWallMs: res.ms,
        scanError: res.report ? null : res.message,
        metrics,
        rows,
      });
    }
  }
  const { models, ...rest } = manifest;
  // --results DIR: e.g. a --src comparison run that must not overwrite the committed results.
  const RESULTS = path.resolve(option('--results') ?? path.join(ROOT, 'bench', 'results'));
  const generatedAt = new Date().toISOString();
  const run = { generatedAt, runner: runner.label, bundleStale: stale };
  // A run restricted with --archs keeps the other architectures' results (and says when they were made),
  // as long as their models are still in the manifest.
  const prevFile = path.join(RESULTS, `${RESULTS_NAME}.json`);
  const prev =
    option('--archs') && existsSync(prevFile)
      ? (JSON.parse(readFileSync(prevFile, 'utf8')) as TorchBench)
      : null;
  const kept = Object.entries(prev?.results ?? {}).filter(
    ([a]) => !archs.includes(a) && manifest.models.some((m) => m.arch === a),
  );
  const out: TorchBench = {
    generatedAt,
    runner: runner.label,
    bundleStale: stale,
    manifest: { ...rest, models: models.length },
    models,
    results: { ...Object.fromEntries(kept), ...results },
    runs: {
      ...Object.fromEntries(
        kept.map(([a]) => [
          a,
          prev?.runs?.[a] ?? {
            generatedAt: prev!.generatedAt,
            runner: prev!.runner,
            bundleStale: prev!.bundleStale,
          },
        ]),
      ),
      ...Object.fromEntries(archs.map((a) => [a, run])),
    },
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(path.join(RESULTS, `${RESULTS_NAME}.json`), JSON.stringify(out, null, 1) + '\n');
  writeMarkdown(RESULTS, out);
  console.error(`wrote ${path.relative(ROOT, RESULTS)}/${RESULTS_NAME}.json and ${RESULTS_NAME}.md`);
}

function writeMarkdown(dir: string, b: TorchBench): void {
  const notesFile = path.join(ROOT, 'bench', 'torch', `findings${SUFFIX}.md`);
  const notes = existsSync(notesFile) ? readFileSync(notesFile, 'utf8') : '';
  writeFileSync(path.join(dir, `${RESULTS_NAME}.md`), renderMarkdown(b, notes));
}

try {
  main();
} catch (e) {
  if (e instanceof SetupError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
