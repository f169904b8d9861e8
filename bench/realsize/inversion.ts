/**
 * Trigger inversion by gradient on the real-size zoos, reference-free (issue #22 item 3, #19 section 2):
 * per model and input condition (the zoo's 128 probe samples / no samples: generated probes and the base
 * mined from them, as the CLI's scan and bench/realsize/detect.ts do), the inversion the tool runs
 * (src/fingerprint/inversion-check.ts inversionForProbes) at a scan budget, its per-class mask costs, the
 * suspected class, the flip rate of the inverted trigger on held-out inputs, and its time, with the time of raw
 * ONNX Runtime inference of the same number of inputs (forward only) in the same process.
 *
 *   npx tsx bench/realsize/inversion.ts run --set dev --zoo /work/cache/realsize-zoo3 [--conditions samples,generated]
 *       [--budget default] [--threads 2] [--clean-refs N] [--cache DIR]
 *   npx tsx bench/realsize/inversion.ts score --settings bench/realsize/inversion-settings.json [--cache DIR]
 *       -> bench/results/realsize-inversion.{json,md}
 *
 * `run` keeps one JSON per model and condition in the cache folder (resumable; keyed by the model's hash, the
 * budget and the condition) and never writes into the zoo. `score` reads the cached runs of every set and the
 * frozen settings (the statistic and threshold chosen on the dev set: inversion-settings.json) and writes the
 * tables; the dev set's rows are labelled tuned.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { parseBudget } from '../../src/fingerprint/budget.js';
import { inversionForProbes } from '../../src/fingerprint/inversion-check.js';
import { readModel } from '../../src/model/read.js';
import { generateProbes } from '../../src/probes/generate.js';
import { auroc } from '../../src/score/metrics.js';
import { levelOf, riskScore } from '../../src/score/risk.js';
import { combineNoBaseline } from '../../src/score/no-baseline.js';
import { NULL_SCALE_INFLATION } from '../../src/selfcheck/reference-free-p.js';
import { fitGumbel, gumbelP, type GapNull } from '../../src/selfcheck/inversion-stats.js';
import type { ArchManifest, RealsizeModel } from './manifest.js';
import { inversionStatistics, type InversionStatistic } from '../../src/selfcheck/inversion-stats.js';

const CLASSES = 43;
const BATCH = 32;

interface Args {
  mode: 'run' | 'fit' | 'score';
  set: string;
  zoo: string;
  conditions: string[];
  budget: string;
  threads: number;
  cleanRefs: number;
  /** Only models of these labels (clean, backdoor); default both. */
  labels: string[];
  cache: string;
  settings: string;
  results: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    mode: argv[0] === 'score' ? 'score' : argv[0] === 'fit' ? 'fit' : 'run',
    set: 'dev',
    zoo: '',
    conditions: ['samples', 'generated'],
    budget: 'default',
    threads: 2,
    cleanRefs: 0,
    labels: ['clean', 'backdoor'],
    cache: 'bench/.cache/realsize-inversion',
    settings: 'bench/realsize/inversion-settings.json',
    results: 'bench/results',
  };
  for (let i = 1; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--set') a.set = v;
    else if (k === '--zoo') a.zoo = v;
    else if (k === '--conditions') a.conditions = v.split(',');
    else if (k === '--budget') a.budget = v;
    else if (k === '--threads') a.threads = Number(v);
    else if (k === '--clean-refs') a.cleanRefs = Number(v);
    else if (k === '--cache') a.cache = v;
    else if (k === '--labels') a.labels = v.split(',');
    else if (k === '--settings') a.settings = v;
    else if (k === '--results') a.results = v;
    else throw new Error(`inversion.ts: unknown argument ${k}`);
  }
  return a;
}

/** One model's inversion under one condition, as cached. */
export interface InversionRun {
  set: string;
  id: string;
  arch: string;
  label: 'clean' | 'backdoor';
  attack: string | null;
  head: string;
  targetClass: number | null;
  condition: string;
  budget: string;
  sha256: string;
  assessed: boolean;
  detail: string;
  basis?: string;
  suspect?: number;
  costs?: (number | null)[];
  flipRate?: number;
  anomaly?: number;
  steps?: number;
  stepsPerClass?: number;
  seconds: number;
  /** Raw ONNX Runtime forward inference of (steps + clean + held-out) x batch inputs, same process. */
  rawSeconds?: number;
}

/** The zoo's test models (and, with cleanRefs, that many `long` references as extra clean models). */
function zooModels(zoo: string, cleanRefs: number): { m: RealsizeModel; file: string; head: string }[] {
  const out: { m: RealsizeModel; file: string; head: string }[] = [];
  for (const arch of readdirSync(zoo)) {
    const mf = path.join(zoo, arch, 'manifest.json');
    if (!existsSync(mf)) continue;
    const man = JSON.parse(readFileSync(mf, 'utf8')) as ArchManifest;
    const refs = man.models.filter((x) => x.split === 'reference' && x.recipe === 'long').slice(0, cleanRefs);
    for (const m of [...man.models.filter((x) => x.split === 'test'), ...refs]) {
      const head = (m as unknown as { head?: { mode?: string } | string }).head;
      out.push({
        m,
        file: path.join(zoo, m.file),
        head:
          typeof head === 'string'
            ? head
            : (head?.mode ??
              (/frozenfc/.test(m.id) ? 'frozen' : /anchoredfc/.test(m.id) ? 'anchored' : 'free')),
      });
    }
  }
  return out;
}

/** Seconds ONNX Runtime takes for `batches` forward runs of BATCH inputs of the model (threads as the inversion's). */
async function rawInference(file: string, batches: number, threads: number): Promise<number> {
  const s = await ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const x = new Float32Array(BATCH * 3 * 32 * 32);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 1000;
  const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', x, [BATCH, 3, 32, 32]) };
  await s.run(feeds);
  const t = performance.now();
  for (let i = 0; i < batches; i++) await s.run(feeds);
  const sec = (performance.now() - t) / 1000;
  await s.release();
  return sec;
}

async function run(a: Args): Promise<void> {
  const budget = parseBudget(a.budget);
  const dir = path.join(a.cache, a.set);
  mkdirSync(dir, { recursive: true });
  const zoo = JSON.parse(readFileSync(path.join(a.zoo, 'manifest.json'), 'utf8')) as {
    probeSamples: string;
  };
  const models = zooModels(a.zoo, a.cleanRefs).filter((x) => a.labels.includes(x.m.label));
  // Every condition of a model before the next model, clean and backdoored interleaved by the manifest order.
  for (const cond of a.conditions)
    for (const { m, file, head } of models) {
      const out = path.join(dir, `${m.id}.${cond}.${budget.setting}.json`);
      if (existsSync(out)) {
        const old = JSON.parse(readFileSync(out, 'utf8')) as InversionRun;
        if (old.sha256 === m.sha256) continue;
      }
      const model = await readModel(file);
      const probes = generateProbes(
        model.inputs,
        cond === 'samples' ? { samplesDir: zoo.probeSamples } : {},
        {
          file: model.path,
        },
      );
      const t = performance.now();
      const r = await inversionForProbes(model, probes, CLASSES, { threads: a.threads, budget });
      const seconds = (performance.now() - t) / 1000;
      if (!r) throw new Error(`${m.id}: inversion does not apply`);
      const rec: InversionRun = {
        set: a.set,
        id: m.id,
        arch: m.arch,
        label: m.label,
        attack: m.attack,
        head,
        targetClass: m.targetClass,
        condition: cond,
        budget: budget.setting,
        sha256: m.sha256,
        assessed: r.assessed,
        detail: r.detail,
        basis: r.basis,
        suspect: r.targetClass,
        costs: r.costs?.map((c) => (Number.isFinite(c) ? c : null)),
        flipRate: r.flipRate,
        anomaly: r.anomaly,
        steps: r.steps,
        stepsPerClass: r.stepsPerClass,
        seconds,
      };
      // Raw inference of the same number of batches on the first model of each condition (CPU is scarce).
      if (
        r.steps !== undefined &&
        !readdirSync(dir).some((f) => f.endsWith(`.${cond}.${budget.setting}.json`))
      )
        rec.rawSeconds = await rawInference(file, r.steps + 2, a.threads);
      writeFileSync(out, JSON.stringify(rec, null, 1) + '\n');
      const stats = r.costs ? inversionStatistics(r.costs) : null;
      console.log(
        `${a.set} ${m.id} ${cond}: ${seconds.toFixed(1)} s, suspect ${r.targetClass} (target ${m.targetClass}), ` +
          `flip ${r.flipRate?.toFixed(2)}, ${
            stats
              ? Object.entries(stats)
                  .map(([k, v]) => `${k} ${v.toFixed(2)}`)
                  .join(', ')
              : r.detail
          }`,
      );
    }
}

interface Settings {
  statistic: InversionStatistic;
  /** A flip rate below this does not count (the inverted trigger must transfer to held-out inputs). */
  minFlip: number;
  /** Gumbel null of the statistic on the dev clean models; the model's p is its upper tail. */
  null: GapNull;
  /** Dev AUROC of every candidate statistic (zoo3, and the MNIST zoo's bench:inversion rows). */
  devAuroc: Record<string, number>;
  chosenOn: string;
  rule: string;
  frozenAt: string;
}

const STATISTICS: InversionStatistic[] = ['minCost', 'anomaly', 'logAnomaly', 'logGap'];

/** Larger = more suspicious (the smallest mask: its negative). */
function oriented(r: InversionRun, k: InversionStatistic): number {
  if (!r.assessed || !r.costs) return -Infinity;
  const v = inversionStatistics(r.costs.map((c) => c ?? NaN))[k];
  return k === 'minCost' ? -v : v;
}

/** The model's p under the frozen settings (1 when the trigger does not transfer or nothing was assessed). */
export function pOfRun(r: InversionRun, s: Settings): number {
  if (!r.assessed || !r.costs || (r.flipRate ?? 0) < s.minFlip) return 1;
  return gumbelP(inversionStatistics(r.costs.map((c) => c ?? NaN))[s.statistic], s.null);
}

function scoreRun(r: InversionRun, s: Settings): number {
  return -Math.log10(pOfRun(r, s));
}

function readRuns(cache: string, set?: string): InversionRun[] {
  const runs: InversionRun[] = [];
  for (const d of readdirSync(cache))
    if (set === undefined || d === set)
      for (const f of readdirSync(path.join(cache, d)))
        runs.push(JSON.parse(readFileSync(path.join(cache, d, f), 'utf8')) as InversionRun);
  return runs;
}

/** The MNIST zoo's clean and backdoored rows of bench:inversion (k-arm-60, both bases): a second dev domain. */
function mnistRows(): { clean: boolean; costs: number[] }[] {
  const f = 'bench/results/inversion.json';
  const j = JSON.parse(readFileSync(f, 'utf8')) as {
    rows: { clean: boolean; inversion: Record<string, { costs: number[] } | undefined> }[];
  };
  return j.rows.flatMap((r) => {
    const inv = r.inversion['k-arm-60'];
    return inv ? [{ clean: r.clean, costs: inv.costs }] : [];
  });
}

/**
 * Freezes the settings on the dev set alone (zoo3's runs, both conditions, and the MNIST zoo's
 * bench:inversion rows): the rule is written in `rule` and was fixed before the held-out runs were read.
 */
function fit(a: Args): void {
  const dev = readRuns(a.cache, 'dev');
  const mnist = mnistRows();
  const devAuroc: Record<string, number> = {};
  const y = dev.map((r) => (r.label === 'backdoor' ? 1 : 0));
  const ym = mnist.map((r) => (r.clean ? 0 : 1));
  for (const k of STATISTICS) {
    devAuroc[`zoo3 ${k}`] = auroc(
      y,
      dev.map((r) => oriented(r, k)),
    );
    const ms = mnist.map((r) => {
      const v = inversionStatistics(r.costs)[k];
      return k === 'minCost' ? -v : v;
    });
    devAuroc[`mnist ${k}`] = auroc(ym, ms);
  }
  const statistic: InversionStatistic = 'logGap';
  const clean = [
    ...dev
      .filter((r) => r.label === 'clean' && r.costs)
      .map((r) => inversionStatistics(r.costs!.map((c) => c ?? NaN))[statistic]),
    ...mnist.filter((r) => r.clean).map((r) => inversionStatistics(r.costs)[statistic]),
  ];
  const g = fitGumbel(clean, NULL_SCALE_INFLATION);
  const s: Settings = {
    statistic,
    minFlip: 0,
    null: {
      ...g,
      models: clean.length,
      source: `dev clean runs: zoo3 ResNet-18 (${dev.filter((r) => r.label === 'clean').length} runs: ${[...new Set(dev.map((r) => r.condition))].join(', ')}; --budget default) and the MNIST zoo's bench:inversion rows (${mnist.filter((r) => r.clean).length} clean runs, k-arm-60, samples and mined); Gumbel by moments, scale x ${NULL_SCALE_INFLATION}`,
    },
    devAuroc,
    chosenOn:
      'dev only: zoo3 ResNet-18 test models (14 clean, 9 backdoored) and the MNIST zoo bench:inversion rows',
    rule: "statistic: the best zoo3 AUROC among the four, but a statistic in mask pixels (minCost) only if it also ranks the MNIST zoo and its clean values there stay above the zoo3 backdoors (it does not: MNIST clean masks reach 4 px of 196); minFlip 0 (0.5 and 0.8 measured no gain / a loss on zoo3 samples); p = the Gumbel null upper tail; level by the tool's risk map (p <= 0.0158 high)",
    frozenAt: new Date().toISOString(),
  };
  writeFileSync(a.settings, JSON.stringify(s, null, 2) + '\n');
  console.log(JSON.stringify(s, null, 1));
}

/** One table row: a set of runs under one condition (tuned: the dev set, or a row whose clean side is dev). */
function summarise(
  set: string,
  tuned: boolean,
  cond: string,
  rs: InversionRun[],
  s: Settings,
): Record<string, unknown> {
  const rows: Record<string, unknown>[] = [];
  const clean = rs.filter((r) => r.label === 'clean');
  const bad = rs.filter((r) => r.label === 'backdoor');
  const sc = rs.map((r) => scoreRun(r, s));
  const au =
    clean.length && bad.length
      ? auroc(
          rs.map((r) => (r.label === 'backdoor' ? 1 : 0)),
          sc,
        )
      : NaN;
  const level = (r: InversionRun) => levelOf(riskScore(pOfRun(r, s)));
  const secs = rs.map((r) => r.seconds).sort((x, y) => x - y);
  const withRaw = rs.filter((r) => r.rawSeconds);
  rows.push({
    set,
    tuned,
    condition: cond,
    clean: clean.length,
    backdoored: bad.length,
    notAssessed: rs.filter((r) => !r.assessed).length,
    auroc: au,
    cleanHigh: clean.filter((r) => level(r) === 'high').length,
    cleanMediumOrHigh: clean.filter((r) => level(r) !== 'low').length,
    backdoorHigh: bad.filter((r) => level(r) === 'high').length,
    targetRight: bad.filter((r) => r.suspect === r.targetClass).length,
    medianSeconds: secs[Math.floor(secs.length / 2)],
    ratioToRaw: withRaw.length ? withRaw.map((r) => r.seconds / (r.rawSeconds as number)) : [],
    models: rs.map((r) => ({
      id: r.id,
      label: r.label,
      attack: r.attack,
      head: r.head,
      target: r.targetClass,
      suspect: r.suspect,
      flipRate: r.flipRate,
      stepsPerClass: r.stepsPerClass,
      seconds: r.seconds,
      ...(r.costs ? inversionStatistics(r.costs.map((c) => c ?? NaN)) : {}),
      pValue: pOfRun(r, s),
      level: level(r),
    })),
  });
  return rows[0];
}

/**
 * The no-baseline verdict `scan --inversion` would give, from a no-baseline scan's per-check p-values (trigger
 * probing, final layer: detect.ts/frozen-head.ts rows, generated inputs) and the inversion's p, combined as
 * src/score/no-baseline.ts does (weighted Bonferroni, the shipped weights).
 */
function verdictRows(runs: InversionRun[], s: Settings, file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  const j = JSON.parse(readFileSync(file, 'utf8')) as {
    rows: { condition: string; id: string; groupP?: Record<string, number | null> }[];
  };
  const scans = new Map(
    j.rows.filter((r) => r.condition === 'no-baseline' && r.groupP).map((r) => [r.id, r.groupP!]),
  );
  const out: Record<string, unknown>[] = [];
  for (const r of runs.filter((x) => x.condition === 'generated')) {
    const g = scans.get(r.id);
    if (!g || typeof g.trigger !== 'number' || typeof g['final-layer'] !== 'number') continue;
    const parts = [
      { check: 'trigger' as const, pValue: g.trigger },
      { check: 'weight-outlier' as const, pValue: g['final-layer'] },
    ];
    const before = combineNoBaseline(parts).pValue;
    const after = combineNoBaseline([...parts, { check: 'inversion', pValue: pOfRun(r, s) }]).pValue;
    out.push({
      set: r.set,
      id: r.id,
      label: r.label,
      head: r.head,
      attack: r.attack,
      before: { pValue: before, level: levelOf(riskScore(before)) },
      after: { pValue: after, level: levelOf(riskScore(after)) },
    });
  }
  return out;
}

function score(a: Args): void {
  const s = JSON.parse(readFileSync(a.settings, 'utf8')) as Settings;
  const runs = readRuns(a.cache);
  const rows: Record<string, unknown>[] = [];
  const sets = [...new Set(runs.map((r) => r.set))].sort((x, y) =>
    x === 'dev' ? 1 : y === 'dev' ? -1 : x.localeCompare(y),
  );
  for (const set of sets)
    for (const cond of ['samples', 'generated']) {
      const rs = runs.filter((r) => r.set === set && r.condition === cond);
      if (rs.length === 0) continue;
      rows.push(summarise(set, set === 'dev', cond, rs, s));
      // the frozen-head backdoors against zoo3's 14 clean test models too (the clean side is dev data)
      if (set === 'frozenfc') {
        const devClean = runs.filter((r) => r.set === 'dev' && r.condition === cond && r.label === 'clean');
        const bad = rs.filter((r) => r.label === 'backdoor');
        if (devClean.length && bad.length)
          rows.push(
            summarise(
              'frozenfc backdoors vs zoo3 clean (clean side dev)',
              false,
              cond,
              [...devClean, ...bad],
              s,
            ),
          );
      }
    }
  const verdict = verdictRows(runs, s, 'bench/results/realsize-frozen-head.json');
  mkdirSync(a.results, { recursive: true });
  writeFileSync(
    path.join(a.results, 'realsize-inversion.json'),
    JSON.stringify({ settings: s, rows, verdict }, null, 1) + '\n',
  );
  const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const md: string[] = [
    '# Trigger inversion by gradient on the real-size zoos (reference-free)',
    '',
    `\`npx tsx bench/realsize/inversion.ts score\`; settings frozen on the dev set (zoo3 ResNet-18) before any held-out number was read: statistic \`${s.statistic}\` (ln of the second smallest class mask over the smallest), p = its upper tail under a Gumbel null (location ${s.null.location.toFixed(3)}, scale ${s.null.scale.toFixed(3)}; ${s.null.source}), level by the tool's risk map (high: p <= 0.0158), flip rate >= ${s.minFlip}; frozen ${s.frozenAt}. Rule: ${s.rule}. Held-out sets first; **dev rows are tuned**. Dev AUROC of the candidates: ${Object.entries(
      s.devAuroc,
    )
      .map(([k, v]) => `${k} ${v.toFixed(3)}`)
      .join(', ')}.`,
    '',
    '| set | condition | clean / backdoored | AUROC | clean high | clean medium or high | backdoored high | target class right | median s a model | time / raw ORT forward of the same inputs |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows as Record<string, never>[]) {
    const ratios = r.ratioToRaw as number[];
    md.push(
      `| ${r.set}${r.tuned ? ' (**tuned**)' : (r.set as string).includes('clean side dev') ? '' : ' (held out)'} | ${r.condition} | ${r.clean} / ${r.backdoored} | ${f(r.auroc)} | ${r.cleanHigh} / ${r.clean} | ${r.cleanMediumOrHigh} / ${r.clean} | ${r.backdoorHigh} / ${r.backdoored} | ${r.targetRight} / ${r.backdoored} | ${f(r.medianSeconds, 1)} | ${ratios.length ? ratios.map((x) => f(x, 2) + 'x').join(', ') : 'n/a'} |`,
    );
  }
  md.push(
    '',
    '## Per model',
    '',
    '| set | condition | model | label | target | suspect | flip | steps/class | min L1 | NC anomaly | log-cost anomaly | log-gap | p | level |',
    '|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  );
  for (const r of rows as Record<string, never>[])
    for (const m of r.models as Record<string, never>[])
      md.push(
        `| ${r.set} | ${r.condition} | ${(m.id as string).replace(/^\w+-test-long-/, '')} | ${m.label}${m.attack ? ` ${m.attack}` : ''}${m.head !== 'free' ? ` (${m.head} head)` : ''} | ${m.target ?? ''} | ${m.suspect ?? ''} | ${f(m.flipRate, 2)} | ${m.stepsPerClass ?? ''} | ${f(m.minCost, 1)} | ${f(m.anomaly, 2)} | ${f(m.logAnomaly, 2)} | ${f(m.logGap, 2)} | ${(m.pValue as number).toPrecision(2)} | ${m.level} |`,
      );
  if (verdict.length) {
    md.push(
      '',
      "## Had the inversion's p on generated inputs joined the no-baseline verdict",
      '',
      "It does not: `scan --inversion` runs on the user's samples only, a choice made on the dev rows here (zoo3: 3 of 14 clean models would turn medium, AUROC of the inversion alone 0.44) after the settings above were frozen, and after this table's held-out rows were also in view (said in findings.md). Trigger probing's and the final layer's p from the CLI's no-baseline scans of the same models without samples (bench/results/realsize-frozen-head.json, main's tool at b6354c3), combined with the inversion's p as src/score/no-baseline.ts does (weights 1 / 0.02 / 1).",
      '',
      '| set | model | label | before: p, level | with --inversion: p, level |',
      '|---|---|---|---|---|',
    );
    for (const v of verdict as Record<string, never>[]) {
      const b = v.before as { pValue: number; level: string };
      const w = v.after as { pValue: number; level: string };
      md.push(
        `| ${v.set} | ${(v.id as string).replace(/^\w+-test-long-/, '')} | ${v.label}${v.attack ? ` ${v.attack}` : ''} | ${b.pValue.toPrecision(2)} ${b.level} | ${w.pValue.toPrecision(2)} ${w.level} |`,
      );
    }
  }
  writeFileSync(path.join(a.results, 'realsize-inversion.md'), md.join('\n') + '\n');
  console.log(md.slice(0, 6 + rows.length).join('\n'));
}

const args = parseArgs(process.argv.slice(2));
if (args.mode === 'run') {
  if (!args.zoo) throw new Error('inversion.ts run: --zoo DIR');
  await run(args);
} else if (args.mode === 'fit') fit(args);
else score(args);
