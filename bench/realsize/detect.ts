/**
 * `npm run bench:realsize [-- --zoo DIR] [--archs a,b] [--budgets none,fast,default,thorough]
 * [--conditions baseline,baseline+samples,no-baseline+samples,no-baseline] [--speed N] [--build-only] [--cached-only]
 * [--scan-from-end] [--scan-chunk N] [--ref-recipes cheap,long]
 * [--src | --cli FILE] [--results DIR] [--extra-tests DIR[,DIR]] [--keep-tests]`:
 * detection on the real-size zoo (bench/realsize/README.md), per architecture and scan budget, through the
 * CLI a user runs: `baseline build` of the clean references (with or without the 128 real probe samples)
 * and `scan --format json` of every clean and backdoored test model, or a scan without a baseline (with or
 * without the samples). Default conditions: baseline (generated probes), no-baseline+samples, no-baseline.
 * Budget `none` passes no --budget flag (with --cli of a checkout from before the flag: what the tool did
 * before it had one); the default is `default`. A baseline condition gets one cell per recipe that made the
 * architecture's references (bench/realsize/references.ts; --ref-recipes picks some). Then the scan time of --speed N (default 2) test models
 * against raw ONNX Runtime in this process (bench/realsize/speed.ts). A baseline build is cached beside its
 * folder and reused for the same tool, references, samples and budget (--build-only builds and stops).
 * The tool's thresholds, weights and budget settings were chosen on other zoos (MNIST, bench:torch,
 * bench:speed's random-weight networks), so these are held-out figures for the shipped defaults.
 * Writes bench/results/realsize.json and realsize.md; a run restricted by --archs/--budgets/--conditions
 * keeps the other cells of the previous results. --extra-tests DIR scores another zoo folder's test models (e.g.
 * train.py --head frozen: backdoored models and a few clean controls made under the same rule, no references)
 * in place of this zoo's backdoored ones, beside this zoo's clean test models and against its references.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { bundleIsStale } from '../speed/cli.js';
import { buildBaseline, cliRunner, scan, type BuildResult, type CliRunner } from '../torch/cli.js';
import { conditionMetrics, type ConditionMetrics, type ScanRow } from '../torch/metrics.js';
import { SetupError } from '../torch/python.js';
import { isFailed } from '../../src/report/types.js';
import type { RealsizeManifest, RealsizeModel } from './manifest.js';
import { withExtraTests } from './extra-tests.js';
import { probeTensor } from './probe-tensor.js';
import { buildKey, cachedBuild, cachedScan } from './cache.js';
import { renderRealsize } from './report.js';
import { measureSpeed, speedModels, type SpeedRow } from './speed.js';
import { referenceSets, type ReferenceSet } from './references.js';
import { option } from '../lib/args.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const CONDITIONS = [
  { id: 'baseline', label: '20 clean references, generated probes', baseline: true, samples: false },
  { id: 'baseline+samples', label: '20 clean references + 128 real samples', baseline: true, samples: true },
  { id: 'no-baseline+samples', label: 'no baseline, 128 real samples', baseline: false, samples: true },
  { id: 'no-baseline', label: 'no baseline, no samples', baseline: false, samples: false },
] as const;
/** Test models per CLI scan process: a run stopped midway keeps the chunks it finished (cache.ts). */
const SCAN_CHUNK = 4;
const DEFAULT_CONDITIONS = ['baseline', 'no-baseline+samples', 'no-baseline'];

/** A scanned test model, with what the report says ran on it (report version 2 fields when present). */
export interface RealsizeRow extends ScanRow {
  notAssessed: string | null;
  checks: { check: string; ran: boolean; passes: number; skipped?: string }[] | null;
  budget: { setting: string; macs: number; macsPerPass: number; passes: number } | null;
  summary: string | null;
}

export interface CellResult {
  arch: string;
  budget: string;
  condition: string;
  /** A baseline condition's references: the recipe that made them and how many (absent before recipes). */
  refs?: { recipe: string; n: number } | null;
  build: BuildResult | null;
  scanWallMs: number | null;
  scanError: string | null;
  metrics: ConditionMetrics | null;
  notAssessed: { clean: number; backdoored: number };
  /** Share of scanned models on which the trigger check ran (null when the report does not say). */
  triggerRan: number | null;
  rows: RealsizeRow[];
  generatedAt: string;
  runner: string;
  bundleStale: boolean | null;
}

export interface RealsizeBench {
  generatedAt: string;
  zoo: Omit<RealsizeManifest, 'models' | 'rejected'> & { models: number; rejected: number };
  models: RealsizeModel[];
  rejected: RealsizeManifest['rejected'];
  /** ONNX Runtime's argmax on the 128 probe samples vs PyTorch's, per model: the export is faithful. */
  exportCheck: {
    models: number;
    mismatchedPredictions: number;
    worst: { id: string; mismatches: number } | null;
  };
  cells: CellResult[];
  /** Scan time against raw ONNX Runtime in the same process, for a few test models (bench/realsize/speed.ts). */
  speed: SpeedRow[];
}

/** The commit a checkout is at (and whether its work tree differs), for the results' runner label. */
function gitDescribe(dir: string): string {
  const r = spawnSync('git', ['-C', dir, 'describe', '--always', '--dirty'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'not a git checkout';
}

function loadZoo(dir: string): RealsizeManifest {
  const file = path.join(dir, 'manifest.json');
  if (!existsSync(file))
    throw new SetupError(`bench:realsize: no zoo at ${dir} (npm run bench:realsize-zoo builds it)`);
  const m = JSON.parse(readFileSync(file, 'utf8')) as RealsizeManifest;
  for (const e of m.models) {
    const sha = createHash('sha256')
      .update(readFileSync(path.join(dir, e.file)))
      .digest('hex');
    if (sha !== e.sha256) throw new SetupError(`bench:realsize: ${e.file} does not match its manifest hash`);
  }
  return m;
}

/** Runs every model on the probe samples in ONNX Runtime and compares its argmax with PyTorch's. */
async function exportCheck(zooDir: string, m: RealsizeManifest): Promise<RealsizeBench['exportCheck']> {
  const input = probeTensor(m.data.dir);
  let total = 0;
  let worst: { id: string; mismatches: number } | null = null;
  for (const e of m.models) {
    const s = await ort.InferenceSession.create(path.resolve(zooDir, e.file));
    const out = (await s.run({ input }))['logits'];
    const k = out.dims[1];
    const data = out.data as Float32Array;
    let mism = 0;
    e.probePredictions.forEach((p, i) => {
      let best = 0;
      for (let c = 1; c < k; c++) if (data[i * k + c] > data[i * k + best]) best = c;
      if (best !== p) mism++;
    });
    await s.release();
    total += mism;
    if (!worst || mism > worst.mismatches) worst = { id: e.id, mismatches: mism };
  }
  return { models: m.models.length, mismatchedPredictions: total, worst };
}

type Report = NonNullable<ReturnType<typeof scan>['report']>;

function rowsOf(
  zooDir: string,
  tests: RealsizeModel[],
  report: Report | null,
  message: string,
): RealsizeRow[] {
  const byPath = new Map((report?.models ?? []).map((m) => [path.resolve(ROOT, m.path), m] as const));
  return tests.map((t) => {
    const base = {
      id: t.id,
      label: t.label === 'backdoor' ? ('backdoored' as const) : ('clean' as const),
      attack: t.attack,
      rate: t.poisonRate ?? 0,
      target: t.targetClass,
    };
    const empty = {
      riskScore: null,
      riskLevel: null,
      pValue: null,
      suspectedTargetClass: null,
      trigger: null,
      notAssessed: null,
      checks: null,
      budget: null,
      summary: null,
    };
    const m = byPath.get(path.resolve(zooDir, t.file));
    if (!m)
      return {
        ...base,
        ...empty,
        durationMs: null,
        error: message || 'missing from the report',
        errorCode: null,
      };
    if (isFailed(m))
      return { ...base, ...empty, durationMs: m.durationMs ?? null, error: m.error, errorCode: m.errorCode };
    const tr = m.explanation.trigger;
    // report version 2 (the --budget change) adds these; version 1 reports have none of them
    const v2 = m as unknown as Record<string, unknown>;
    const na = v2.notAssessed as { reason: string } | undefined;
    return {
      ...base,
      riskScore: (v2.riskScore as number | null) ?? null,
      riskLevel: v2.riskLevel as string,
      pValue: (v2.pValue as number | null) ?? null,
      suspectedTargetClass: m.explanation.suspectedTargetClass ?? null,
      trigger: tr ? `${tr.kind}${tr.location ? ` @ ${tr.location}` : ''} (flip ${tr.flipRate})` : null,
      durationMs: m.durationMs ?? null,
      error: null,
      errorCode: null,
      notAssessed: na ? na.reason : null,
      checks: (v2.checks as RealsizeRow['checks']) ?? null,
      budget: (v2.budget as RealsizeRow['budget']) ?? null,
      summary: m.explanation.summary,
    };
  });
}

/** Did the trigger check run on this model? From the report's checks (version 2), else from its explanation. */
function triggerRanOn(r: RealsizeRow): boolean | null {
  if (r.checks) return r.checks.some((c) => c.check === 'trigger-probe' && c.ran);
  if (r.summary === null) return null;
  return !/trigger probing does not apply|trigger probing was skipped|no trigger check/i.test(r.summary);
}

async function main(): Promise<void> {
  const zooDir = path.resolve(option('--zoo') ?? path.join(ROOT, 'bench', '.cache', 'realsize-zoo'));
  const extraDir = option('--extra-tests');
  // --extra-tests A,B: several folders; --keep-tests: the zoo's own backdoored test models stay beside them
  const manifest = extraDir
    ? withExtraTests(
        loadZoo(zooDir),
        extraDir.split(',').map((d) => path.resolve(d)),
        process.argv.includes('--keep-tests'),
      )
    : loadZoo(zooDir);
  // by default every architecture whose zoo is complete (train.py records the clean median last)
  const complete = Object.keys(manifest.archs).filter((a) => manifest.archs[a].cleanMedianAccuracy != null);
  const archs = (option('--archs') ?? complete.join(',')).split(',');
  const budgets = (option('--budgets') ?? 'default').split(',');
  const conds = (option('--conditions') ?? DEFAULT_CONDITIONS.join(',')).split(',');
  const unknown = conds.filter((c) => !CONDITIONS.some((k) => k.id === c));
  if (unknown.length) throw new SetupError(`bench:realsize: unknown condition ${unknown.join(', ')}`);
  // --cli FILE: another checkout's bin/model-fingerprint.js (e.g. main's, to measure the tool before a change)
  const cli = option('--cli');
  const runner: CliRunner = cli
    ? {
        label: `node ${cli} (${gitDescribe(path.dirname(path.dirname(path.resolve(cli))))})`,
        cmd: process.execPath,
        args: [path.resolve(cli)],
      }
    : cliRunner(ROOT, process.argv.includes('--src'));
  const stale = process.argv.includes('--src') || cli ? null : bundleIsStale(ROOT);
  // what a cached baseline build must have been made by: the bundle's bytes, else the checkout's commit
  const bundle = path.join(ROOT, 'dist', 'cli', 'index.js');
  const toolStamp =
    stale === null || !existsSync(bundle)
      ? gitDescribe(cli ? path.dirname(path.dirname(path.resolve(cli))) : ROOT)
      : createHash('sha256').update(readFileSync(bundle)).digest('hex');
  if (stale) console.error('note: src/ is newer than dist/cli: the bundle (what users run) is measured');
  const RESULTS = path.resolve(option('--results') ?? path.join(ROOT, 'bench', 'results'));
  const resultsFile = path.join(RESULTS, 'realsize.json');
  const prev = existsSync(resultsFile)
    ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as RealsizeBench)
    : null;
  console.error('checking every export against PyTorch on the 128 probe samples (ONNX Runtime)');
  // --build-only: build (and cache) the baselines of the chosen conditions, scan nothing (e.g. while the
  // test models still train)
  const buildOnly = process.argv.includes('--build-only');
  // --cached-only: results from the scan caches alone (models without an entry are listed as not scanned),
  // e.g. to write the tables of a run stopped at a deadline
  const cachedOnly = process.argv.includes('--cached-only');
  // --scan-from-end: scan the test models from the last one (beside a run from the first: they share the cache)
  const scanFromEnd = process.argv.includes('--scan-from-end');
  // --scan-chunk N: test models per CLI process (two runs from both ends overlap by at most one chunk)
  const scanChunk = Math.max(1, Number(option('--scan-chunk') ?? SCAN_CHUNK));
  const check = await exportCheck(zooDir, manifest);
  // --speed N: time N test models per architecture in-process against raw ONNX Runtime (0: none)
  const speedN = Number(option('--speed') ?? 2);
  const speed: SpeedRow[] = [];
  const samples = manifest.probeSamples;
  const cells: CellResult[] = [];
  const evalDir = path.join(ROOT, 'bench', '.cache', 'realsize-eval');
  const save = () => {
    // a cell is replaced by this run's cell of the same arch, budget, condition and reference recipe (a
    // baseline cell from before recipes were recorded counts as the cheap recipe's)
    const refsOf = (c: CellResult) =>
      c.condition.startsWith('baseline') ? (c.refs?.recipe ?? 'cheap') : null;
    const keep = (prev?.cells ?? []).filter(
      (c) =>
        !cells.some(
          (n) =>
            n.arch === c.arch &&
            n.budget === c.budget &&
            n.condition === c.condition &&
            refsOf(n) === refsOf(c),
        ),
    );
    const { models, rejected, ...rest } = manifest;
    const out: RealsizeBench = {
      generatedAt: new Date().toISOString(),
      zoo: { ...rest, models: models.length, rejected: rejected.length },
      models,
      rejected,
      exportCheck: check,
      cells: [...keep, ...cells].filter((c) => models.some((m) => m.arch === c.arch)),
      speed: [
        ...(prev?.speed ?? []).filter(
          (r) =>
            !speed.some((n) => n.arch === r.arch && n.budget === r.budget && n.condition === r.condition),
        ),
        ...speed,
      ],
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(resultsFile, JSON.stringify(out, null, 1) + '\n');
    const notes = path.join(ROOT, 'bench', 'realsize', 'findings.md');
    writeFileSync(
      path.join(RESULTS, 'realsize.md'),
      renderRealsize(out, existsSync(notes) ? readFileSync(notes, 'utf8') : ''),
    );
  };
  // --ref-recipes a,b: the baseline conditions with these references only (default: one cell per recipe)
  const refRecipes = option('--ref-recipes')?.split(',');
  for (const arch of archs) {
    const sets = referenceSets(manifest.models, arch).filter(
      (s) => !refRecipes || refRecipes.includes(s.recipe),
    );
    const tests = manifest.models.filter((m) => m.arch === arch && m.split === 'test');
    for (const budget of budgets) {
      const budgetArgs = budget === 'none' ? [] : ['--budget', budget];
      for (const c of CONDITIONS.filter((k) => conds.includes(k.id)))
        for (const set of c.baseline ? sets : [null]) {
          const refs = set?.refs ?? [];
          const dir = path.join(evalDir, arch, budget);
          mkdirSync(dir, { recursive: true });
          // per reference recipe: a baseline (and the scans against it) of one recipe never overwrites another's
          const tag = set ? `-refs-${set.recipe}` : '';
          const baselineDir = path.join(dir, `baseline-${c.samples ? 'samples' : 'generated'}${tag}`);
          let build: BuildResult | null = null;
          const baselineKey = buildKey(runner, toolStamp, refs, c.samples, budgetArgs);
          const cellRefs = set ? { recipe: set.recipe, n: refs.length } : null;
          if (c.baseline) {
            console.error(
              `${arch} / budget ${budget} / ${c.id}: baseline build of ${refs.length} ${set?.recipe}-recipe references`,
            );
            build = cachedBuild(baselineDir, baselineKey, () =>
              buildBaseline(
                runner,
                ROOT,
                refs.map((m) => path.resolve(zooDir, m.file)),
                baselineDir,
                c.samples ? samples : undefined,
                budgetArgs,
              ),
            );
          }
          if (buildOnly) continue;
          const now = { generatedAt: new Date().toISOString(), runner: runner.label, bundleStale: stale };
          if (build && !build.ok) {
            console.error(`  baseline build failed: ${build.message}`);
            cells.push({
              arch,
              budget,
              condition: c.id,
              refs: cellRefs,
              build,
              scanWallMs: null,
              scanError: null,
              metrics: null,
              notAssessed: { clean: 0, backdoored: 0 },
              triggerRan: null,
              rows: [],
              ...now,
            });
            save();
            continue;
          }
          console.error(`${arch} / budget ${budget} / ${c.id}: scanning ${tests.length} test models`);
          const res = cachedScan(
            path.join(dir, `scan-${c.id}${tag}.cache.json`),
            JSON.stringify({
              runner: runner.label,
              tool: toolStamp,
              build: c.baseline ? baselineKey : null,
              c,
              budgetArgs,
            }),
            tests.map((m) => ({ sha256: m.sha256, path: path.relative(ROOT, path.resolve(zooDir, m.file)) })),
            (paths) =>
              cachedOnly
                ? { report: null, ms: 0, status: null, message: 'not scanned: a --cached-only run' }
                : scan(runner, ROOT, paths, path.join(dir, `scan-${c.id}${tag}.json`), {
                    baselineDir: c.baseline ? baselineDir : undefined,
                    samplesDir: !c.baseline && c.samples ? samples : undefined,
                    extraArgs: budgetArgs,
                  }),
            scanChunk,
            scanFromEnd,
          );
          console.error(`  scanned ${res.scanned}, ${tests.length - res.scanned} from the cache`);
          const rows = rowsOf(zooDir, tests, res.report, res.message);
          const metrics = conditionMetrics(rows);
          const ran = rows.map(triggerRanOn).filter((x): x is boolean => x !== null);
          const cell: CellResult = {
            arch,
            budget,
            condition: c.id,
            refs: cellRefs,
            build,
            scanWallMs: res.ms,
            scanError: res.report ? null : res.message,
            metrics,
            notAssessed: {
              clean: rows.filter((r) => r.notAssessed && r.label === 'clean').length,
              backdoored: rows.filter((r) => r.notAssessed && r.label === 'backdoored').length,
            },
            triggerRan: ran.length ? ran.filter(Boolean).length / ran.length : null,
            rows,
            ...now,
          };
          console.error(
            `  AUROC ${metrics.aurocRisk?.toFixed(3) ?? '-'}, clean high ${metrics.cleanHigh ?? '-'}, ` +
              `not assessed ${cell.notAssessed.clean + cell.notAssessed.backdoored}, ` +
              `${((metrics.msPerModel ?? 0) / 1000).toFixed(1)} s/model`,
          );
          cells.push(cell);
          save();
        }
      if (speedN > 0 && !buildOnly && !cachedOnly) {
        // timed against the first reference set's baseline (the one built first)
        const first: ReferenceSet | undefined = sets[0];
        const generated = path.join(evalDir, arch, budget, `baseline-generated-refs-${first?.recipe}`);
        const built = cells.some(
          (c) =>
            c.arch === arch &&
            c.budget === budget &&
            c.condition === 'baseline' &&
            c.refs?.recipe === first?.recipe &&
            c.build?.ok,
        );
        const b = budget === 'none' ? 'default' : budget;
        speed.push(
          ...(await measureSpeed(zooDir, speedModels(tests, speedN), probeTensor(manifest.data.dir), [
            { budget: b, condition: 'no-baseline', baselineDir: null },
            ...(built ? [{ budget: b, condition: 'baseline', baselineDir: generated }] : []),
          ])),
        );
        save();
      }
    }
  }
  save();
  console.error(`wrote ${path.relative(ROOT, resultsFile)} and realsize.md`);
}

main().catch((e) => {
  if (e instanceof SetupError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
});
