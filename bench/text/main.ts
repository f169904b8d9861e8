/**
 * `npm run bench:text` (tsx bench/text/main.ts [--corpus man|debian] [--archs bag,cnn,transformer]
 * [--conditions ID,...] [--src] [--fit-null] [--timing] [--order] [--render-only] [--token-inversion]): detection on the text zoo
 * (bench/text/train.py, `npm run bench:text-zoo`), through the shipped CLI exactly as a user runs it.
 * --corpus debian scores the held-out zoo (Debian package descriptions, another corpus and vocabulary, nothing
 * chosen on it): results in bench/results/text-heldout.json/.md, scans in bench/.cache/text-eval-debian/; it
 * refuses --fit-null (nothing may be fitted on a held-out corpus). Per architecture:
 *   baseline-40-samples     baseline of the 40 references built with the held-out texts (samples.txt,
 *                           --vocab-file), scan of the test split (20 clean, the backdoored)
 *   baseline-20-samples     the same with the first 20 references
 *   baseline-20-generated   the first 20 references, no samples (texts mined per model)
 *   free-samples            no baseline, the held-out texts: scan of the test split and of the 40 references
 *                           (unseen by a reference-free check: more clean models for the false-alarm rate)
 *   free-generated          no baseline, no samples
 * Metrics per condition (bench/torch/metrics.ts): AUROC of the risk score, TPR at FPR <= 10%, the share of
 * clean and backdoored models called high, AUROC per attack, the target class, and for rare-word backdoors
 * whether the suspected trigger holds the real word. --fit-null: scans the dev split's clean models without a
 * baseline (with and without samples) and fits the token trigger score's Gumbel nulls on them (the shipped
 * constants, src/selfcheck/reference-free-p.ts TOKEN_TRIGGER_SCORE_NULLS), also per architecture left out.
 * --timing: wall and CPU time of one reference-free scan per architecture, in this process. --order: the
 * rank of each rare-word backdoor's trigger word in the screening orders (bench/text/order.ts).
 * --token-inversion: builds and scans with `--token-inversion` (scans in <eval>-inversion/, results in
 * <stem>-inversion.json/.md). Results:
 * bench/results/text.json and text.md; scans are cached in bench/.cache/text-eval/<arch>/.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleIsStale } from '../speed/cli.js';
import { buildBaseline, cliRunner, scan, type BuildResult, type CliRunner } from '../torch/cli.js';
import { conditionMetrics, type ConditionMetrics, type ScanRow } from '../torch/metrics.js';
import { isFailed, type ScanReport } from '../../src/report/types.js';
import { levelOf } from '../../src/score/risk.js';
import {
  fitGumbel,
  conservativeNull,
  triggerPValue,
  type GumbelNull,
} from '../../src/selfcheck/reference-free-p.js';
import { loadTextZoo, ROOT, TEXT_CORPORA, type TextCorpus, type TextModel, type TextZoo } from './zoo.js';
import { renderTextMarkdown } from './report.js';
import { timeScans, type TimingRow } from './timing.js';
import { screeningOrders, type OrderRow } from './order.js';
import { P_HIGH } from '../../src/score/risk.js';
import { option } from '../lib/args.js';

function flag(name: string): boolean {
  return process.argv.includes(name);
}
export interface TextCondition {
  id: string;
  label: string;
  refs: number;
  samples: boolean;
}

export const TEXT_CONDITIONS: TextCondition[] = [
  {
    id: 'baseline-40-samples',
    label: 'baseline of 40 clean references, with the held-out texts',
    refs: 40,
    samples: true,
  },
  {
    id: 'baseline-20-samples',
    label: 'baseline of the first 20 references, with the held-out texts',
    refs: 20,
    samples: true,
  },
  {
    id: 'baseline-20-generated',
    label: 'baseline of the first 20 references, no samples (texts mined per model)',
    refs: 20,
    samples: false,
  },
  {
    id: 'free-samples',
    label: 'no baseline, with the held-out texts (test split + the 40 references as clean)',
    refs: 0,
    samples: true,
  },
  {
    id: 'free-generated',
    label: 'no baseline, no samples (test split + the 40 references as clean)',
    refs: 0,
    samples: false,
  },
];

export interface TextRow extends ScanRow {
  arch: string;
  split: string;
  realTrigger: string[] | null;
  foundWords: string[] | null;
  triggerScore: number | null;
}

export interface TextConditionResult {
  condition: string;
  build: BuildResult | null;
  scanWallMs: number | null;
  scanError: string | null;
  metrics: ConditionMetrics | null;
  /** Rare-word backdoors (with or without decoys) called high / medium or high, and of them, how many named the real word. */
  rareWord: { high: number; highHit: number; flagged: number; flaggedHit: number; total: number };
  rows: TextRow[];
}

export interface NullFit {
  basis: string;
  models: number;
  fit: GumbelNull;
  /** Per architecture left out: the null fitted on the other two, and the share of that architecture's dev clean models at p <= P_HIGH (risk 61+). */
  leaveOut: Record<string, { fit: GumbelNull; highShare: number; models: number }>;
}

export interface TextBench {
  /** The corpus the zoo was trained on (absent: the man pages, results written before the option). */
  corpus?: TextCorpus;
  generatedAt: string;
  runner: string;
  bundleStale: boolean | null;
  zoo: { dirs: string[]; models: number; byArch: Record<string, Record<string, number>>; rejected: number };
  models: Omit<TextModel, 'path'>[];
  results: Record<string, TextConditionResult[]>;
  nulls?: NullFit[];
  timing?: TimingRow[];
  order?: OrderRow[];
  /** Built and scanned with --token-inversion (opt-in). */
  tokenInversion?: boolean;
}

const RESULTS = path.join(ROOT, 'bench', 'results');
const CORPUS = (option('--corpus') ?? 'man') as TextCorpus;
/** --token-inversion: every build and scan with the token search's trigger inversion (scans and results apart). */
const INVERSION = flag('--token-inversion');
const EVAL = path.join(
  ROOT,
  'bench',
  '.cache',
  (CORPUS === 'man' ? 'text-eval' : `text-eval-${CORPUS}`) + (INVERSION ? '-inversion' : ''),
);
/** Results file stem: text (the man-page zoo) or text-heldout (another corpus and vocabulary); -inversion with it. */
const RESULTS_STEM = (CORPUS === 'man' ? 'text' : 'text-heldout') + (INVERSION ? '-inversion' : '');

function rowsOf(models: TextModel[], report: ScanReport | null, message: string): TextRow[] {
  const byPath = new Map((report?.models ?? []).map((m) => [path.resolve(ROOT, m.path), m] as const));
  return models.map((t) => {
    const base = {
      id: t.id,
      arch: t.arch,
      split: t.split,
      label: t.label,
      attack: t.attack,
      rate: t.rate,
      target: t.target,
      realTrigger: t.trigger,
    };
    const m = byPath.get(t.path);
    const failed = (error: string, errorCode: string | null, durationMs: number | null): TextRow => ({
      ...base,
      riskScore: null,
      riskLevel: null,
      pValue: null,
      suspectedTargetClass: null,
      trigger: null,
      durationMs,
      error,
      errorCode,
      foundWords: null,
      triggerScore: null,
    });
    if (!m) return failed(message || 'missing from the report', null, null);
    if (isFailed(m)) return failed(m.error, m.errorCode, m.durationMs ?? null);
    const tr = m.explanation.trigger;
    return {
      ...base,
      riskScore: m.riskScore,
      riskLevel: m.riskLevel,
      pValue: m.pValue,
      suspectedTargetClass: m.explanation.suspectedTargetClass ?? null,
      trigger: tr ? `${(tr.words ?? tr.tokens ?? []).join(' ')} (flip ${tr.flipRate})` : null,
      durationMs: m.durationMs ?? null,
      error: null,
      errorCode: null,
      foundWords: tr?.words ?? null,
      triggerScore: m.detectors['trigger-probe']?.score ?? null,
    };
  });
}

function rareWordHits(rows: TextRow[]): TextConditionResult['rareWord'] {
  const rare = rows.filter((r) => r.label === 'backdoored' && (r.attack ?? '').startsWith('rare'));
  const hit = (r: TextRow) =>
    Boolean(r.foundWords && r.realTrigger && r.foundWords.includes(r.realTrigger[0]));
  const high = rare.filter((r) => r.riskScore !== null && levelOf(r.riskScore) === 'high');
  const flagged = rare.filter((r) => r.riskScore !== null && levelOf(r.riskScore) !== 'low');
  return {
    high: high.length,
    highHit: high.filter(hit).length,
    flagged: flagged.length,
    flaggedHit: flagged.filter(hit).length,
    total: rare.length,
  };
}

/** One condition for one architecture: build (when it has a baseline), scan, rows. Cached scan reports are reused with --cached. */
function runCondition(runner: CliRunner, zoo: TextZoo, arch: string, c: TextCondition): TextConditionResult {
  const dir = path.join(EVAL, arch);
  mkdirSync(dir, { recursive: true });
  const refs = zoo.models.filter((m) => m.arch === arch && m.split === 'reference').slice(0, c.refs || 40);
  const tests = zoo.models.filter((m) => m.arch === arch && m.split === 'test');
  const scanned = c.refs > 0 ? tests : [...tests, ...refs];
  const vocabArgs = ['--vocab-file', zoo.vocabFile, ...(INVERSION ? ['--token-inversion'] : [])];
  let build: BuildResult | null = null;
  const baselineDir = path.join(dir, `baseline-${c.id}`);
  const out = path.join(dir, `scan-${c.id}.json`);
  if (flag('--cached') && existsSync(out)) {
    const report = JSON.parse(readFileSync(out, 'utf8')) as ScanReport;
    const rows = rowsOf(scanned, report, '');
    return {
      condition: c.id,
      build: null,
      scanWallMs: null,
      scanError: null,
      metrics: conditionMetrics(rows),
      rareWord: rareWordHits(rows),
      rows,
    };
  }
  if (c.refs > 0) {
    console.error(`${arch} / ${c.id}: baseline build of ${refs.length} references`);
    build = buildBaseline(
      runner,
      ROOT,
      refs.map((m) => m.path),
      baselineDir,
      c.samples ? zoo.samplesText : undefined,
      vocabArgs,
    );
    if (!build.ok) {
      console.error(`  baseline build failed: ${build.message}`);
      return {
        condition: c.id,
        build,
        scanWallMs: null,
        scanError: null,
        metrics: null,
        rareWord: rareWordHits([]),
        rows: [],
      };
    }
  }
  console.error(`${arch} / ${c.id}: scanning ${scanned.length} models`);
  const res = scan(
    runner,
    ROOT,
    scanned.map((m) => path.relative(ROOT, m.path)),
    out,
    {
      baselineDir: c.refs > 0 ? baselineDir : undefined,
      samplesDir: c.refs === 0 && c.samples ? zoo.samplesText : undefined,
      extraArgs: c.refs > 0 ? [] : vocabArgs,
    },
  );
  const rows = rowsOf(scanned, res.report, res.message);
  const metrics = conditionMetrics(rows);
  console.error(
    `  AUROC ${metrics.aurocRisk?.toFixed(3) ?? '-'}, clean high ${metrics.cleanHigh ?? '-'}, failed ${metrics.failed}, ${(res.ms / 1000).toFixed(1)} s`,
  );
  return {
    condition: c.id,
    build,
    scanWallMs: res.ms,
    scanError: res.report ? null : res.message,
    metrics,
    rareWord: rareWordHits(rows),
    rows,
  };
}

/** --fit-null: reference-free scans of the dev split's clean models; Gumbel fits per basis, all and leave-one-architecture-out. */
function fitNulls(runner: CliRunner, zoo: TextZoo, archs: string[]): NullFit[] {
  const out: NullFit[] = [];
  for (const [basis, samples] of [
    ['samples', true],
    ['mined', false],
  ] as const) {
    const scores: Record<string, number[]> = {};
    for (const arch of archs) {
      const clean = zoo.models.filter((m) => m.arch === arch && m.split === 'dev' && m.label === 'clean');
      const file = path.join(EVAL, arch, `dev-null-${basis}.json`);
      mkdirSync(path.dirname(file), { recursive: true });
      if (!(flag('--cached') && existsSync(file))) {
        console.error(`${arch}: null fit, ${clean.length} dev clean models, basis ${basis}`);
        scan(
          runner,
          ROOT,
          clean.map((m) => path.relative(ROOT, m.path)),
          file,
          { samplesDir: samples ? zoo.samplesText : undefined, extraArgs: ['--vocab-file', zoo.vocabFile] },
        );
      }
      const report = JSON.parse(readFileSync(file, 'utf8')) as ScanReport;
      scores[arch] = report.models.flatMap((m) =>
        !isFailed(m) && m.detectors['trigger-probe'] ? [m.detectors['trigger-probe'].score] : [],
      );
    }
    const all = Object.values(scores).flat();
    const source = (which: string[], n: number) =>
      `text zoo dev split clean models (${which.join(', ')}; ${n} models), man-page paragraphs by product, 6 classes, basis ${basis}`;
    const fit = conservativeNull(fitGumbel(all), 6, all.length, source(archs, all.length));
    const leaveOut: NullFit['leaveOut'] = {};
    for (const arch of archs) {
      const others = archs.filter((a) => a !== arch);
      const xs = others.flatMap((a) => scores[a]);
      if (xs.length < 2) continue;
      const f = conservativeNull(fitGumbel(xs), 6, xs.length, source(others, xs.length));
      const mine = scores[arch];
      leaveOut[arch] = {
        fit: f,
        models: mine.length,
        highShare: mine.filter((s) => triggerPValue(s, 6, f) <= P_HIGH).length / Math.max(1, mine.length),
      };
    }
    out.push({ basis, models: all.length, fit, leaveOut });
    console.error(`null ${basis}: ${JSON.stringify(fit)}`);
  }
  return out;
}

function main(): void {
  if (!TEXT_CORPORA.includes(CORPUS)) {
    console.error(`bench:text: --corpus is one of ${TEXT_CORPORA.join(', ')} (got ${CORPUS})`);
    process.exit(2);
  }
  if (CORPUS !== 'man' && flag('--fit-null')) {
    console.error(`bench:text: --fit-null fits on the man-page zoo's dev split only; ${CORPUS} is held out`);
    process.exit(2);
  }
  const resultsFile = path.join(RESULTS, `${RESULTS_STEM}.json`);
  const resultsMd = path.join(RESULTS, `${RESULTS_STEM}.md`);
  if (flag('--render-only')) {
    const b = JSON.parse(readFileSync(resultsFile, 'utf8')) as TextBench;
    writeFileSync(resultsMd, renderTextMarkdown(b, notes()));
    return;
  }
  const zoo = loadTextZoo(true, CORPUS);
  const runner = cliRunner(ROOT, flag('--src'));
  const stale = flag('--src') ? null : bundleIsStale(ROOT);
  if (stale)
    console.error(
      'note: src/ is newer than dist/cli: the bundle (what users run) is measured; --src measures src/',
    );
  const archs = (option('--archs') ?? 'bag,cnn,transformer').split(',');
  const wanted = option('--conditions')?.split(',');
  const prev = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as TextBench) : null;
  const results: Record<string, TextConditionResult[]> = { ...(prev?.results ?? {}) };
  let nulls = prev?.nulls;
  let timing = prev?.timing;
  let order = prev?.order;
  if (flag('--fit-null')) nulls = fitNulls(runner, zoo, archs);
  else if (flag('--timing')) timing = undefined;
  if (!flag('--fit-null') && !flag('--timing') && !flag('--order')) {
    for (const arch of archs) {
      // a condition needs as many references as it names (a smaller zoo, e.g. 24 references, skips the 40)
      const available = zoo.models.filter((m) => m.arch === arch && m.split === 'reference').length;
      const fits = (c: TextCondition) => c.refs <= available;
      for (const c of TEXT_CONDITIONS.filter((c) => !fits(c)))
        console.error(`${arch} / ${c.id}: skipped, ${available} references (needs ${c.refs})`);
      const kept = (results[arch] ?? []).filter(
        (r) =>
          wanted &&
          !wanted.includes(r.condition) &&
          TEXT_CONDITIONS.some((c) => c.id === r.condition && fits(c)),
      );
      const run = TEXT_CONDITIONS.filter((c) => fits(c) && (!wanted || wanted.includes(c.id))).map((c) =>
        runCondition(runner, zoo, arch, c),
      );
      results[arch] = [...kept, ...run].sort(
        (a, b) =>
          TEXT_CONDITIONS.findIndex((c) => c.id === a.condition) -
          TEXT_CONDITIONS.findIndex((c) => c.id === b.condition),
      );
    }
  }
  const finish = async () => {
    if (flag('--timing')) timing = await timeScans(zoo, archs, INVERSION);
    if (flag('--order')) order = await screeningOrders(zoo, archs);
    const byArch: TextBench['zoo']['byArch'] = {};
    for (const m of zoo.models) {
      const key = `${m.split}-${m.label}`;
      byArch[m.arch] = byArch[m.arch] ?? {};
      byArch[m.arch][key] = (byArch[m.arch][key] ?? 0) + 1;
    }
    const out: TextBench = {
      corpus: CORPUS,
      generatedAt: new Date().toISOString(),
      runner: runner.label,
      bundleStale: stale,
      zoo: {
        dirs: zoo.dirs.map((d) => path.relative(ROOT, d)),
        models: zoo.models.length,
        byArch,
        rejected: zoo.rejected.length,
      },
      models: zoo.models.map(({ path: _p, ...m }) => m),
      results,
      ...(nulls ? { nulls } : {}),
      ...(timing ? { timing } : {}),
      ...(order ? { order } : {}),
      ...(INVERSION ? { tokenInversion: true } : {}),
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(resultsFile, JSON.stringify(out, null, 1) + '\n');
    writeFileSync(resultsMd, renderTextMarkdown(out, notes()));
    console.error(`wrote bench/results/${RESULTS_STEM}.json and ${RESULTS_STEM}.md`);
  };
  finish().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

function notes(): string {
  // with --token-inversion only the inversion's findings (the shipped scans' are in the file beside)
  const name = INVERSION
    ? 'findings-inversion.md'
    : CORPUS === 'man'
      ? 'findings.md'
      : `findings-${CORPUS}.md`;
  const f = path.join(ROOT, 'bench', 'text', name);
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

main();
