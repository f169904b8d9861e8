/**
 * `npx tsx bench/realsize/summary.ts --from DIR/realsize.json --arch A --tag T [--title "..."] [--tool "..."]
 * [--results DIR]`: one architecture's detection rows from a bench:realsize run (detect.ts, e.g. with
 * --extra-tests A,B --keep-tests: every test model of the architecture), per condition and per family of test
 * models (train.py's `head`: free, frozen, anchored), with the one-sided 95% bounds the counts allow:
 * clean called high k of n -> the rate is below the Clopper-Pearson upper bound; backdoored called high k of
 * n -> detection is above the lower bound. Writes bench/results/realsize-<tag>.{json,md}. No scan is run here:
 * the rows are the run's, and a model that run did not scan is counted as not scanned, never as low.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { conditionMetrics, type ConditionMetrics } from '../torch/metrics.js';
import { levelOf } from '../../src/score/risk.js';
import { fmt, markdownTable } from '../lib/report.js';
import { SetupError } from '../torch/python.js';
import { option } from '../lib/args.js';
import type { CellResult, RealsizeBench, RealsizeRow } from './detect.js';
import { conditionLabel } from './references.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The one-sided confidence level of the bounds. */
const ALPHA = 0.05;

/** log of the binomial probability P(X = k) for n trials at rate p. */
function logPmf(k: number, n: number, p: number): number {
  let lc = 0;
  for (let i = 1; i <= k; i++) lc += Math.log((n - k + i) / i);
  const a = k === 0 ? 0 : k * Math.log(p);
  const b = n - k === 0 ? 0 : (n - k) * Math.log1p(-p);
  return lc + a + b;
}

/** P(X <= k) for X ~ Binomial(n, p). */
export function binomCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  let s = 0;
  for (let i = 0; i <= k; i++) s += Math.exp(logPmf(i, n, p));
  return Math.min(1, s);
}

/** The p at which f (monotone decreasing in p) crosses target, by bisection on [0, 1]. */
function solveDecreasing(f: (p: number) => number, target: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) > target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** One-sided Clopper-Pearson upper bound of a rate seen k times in n (k = 0: 1 - alpha^(1/n)). */
export function upperBound(k: number, n: number, alpha = ALPHA): number {
  if (k >= n) return 1;
  return solveDecreasing((p) => binomCdf(k, n, p), alpha);
}

/** One-sided Clopper-Pearson lower bound of a rate seen k times in n (k = n: alpha^(1/n)). */
export function lowerBound(k: number, n: number, alpha = ALPHA): number {
  if (k <= 0) return 0;
  // P(X >= k | p) = 1 - P(X <= k - 1 | p) increases with p: solve 1 - cdf = alpha
  return solveDecreasing((p) => binomCdf(k - 1, n, p), 1 - alpha);
}

/** The family of a test model: the head rule that made it (train.py names them ...-frozenfc-, ...-anchoredfc-). */
export function familyOf(id: string): 'free' | 'frozen' | 'anchored' {
  if (id.includes('-frozenfc-')) return 'frozen';
  if (id.includes('-anchoredfc-')) return 'anchored';
  return 'free';
}

export interface SummaryRow {
  condition: string;
  label: string;
  backdoored: string;
  clean: { n: number; high: number; mediumOrHigh: number; highBelow: number };
  bd: { n: number; high: number; highAbove: number; targetRight: number };
  notScanned: number;
  metrics: ConditionMetrics;
}

function count(rows: RealsizeRow[], pick: (r: RealsizeRow) => boolean): number {
  return rows.filter((r) => r.riskScore !== null && pick(r)).length;
}

/** The rows of one cell: every backdoored model against every clean one, then per family of backdoors. */
export function summaryRows(cell: CellResult): SummaryRow[] {
  const clean = cell.rows.filter((r) => r.label === 'clean');
  const fams = [...new Set(cell.rows.filter((r) => r.label === 'backdoored').map((r) => familyOf(r.id)))];
  const groups: [string, RealsizeRow[]][] = [['all', cell.rows.filter((r) => r.label === 'backdoored')]];
  if (fams.length > 1)
    for (const f of fams)
      groups.push([`${f} head`, cell.rows.filter((r) => r.label === 'backdoored' && familyOf(r.id) === f)]);
  return groups.map(([name, bd]) => {
    const rows = [...clean, ...bd];
    const cs = clean.filter((r) => r.riskScore !== null);
    const bs = bd.filter((r) => r.riskScore !== null);
    const high = (r: RealsizeRow) => levelOf(r.riskScore as number) === 'high';
    const cHigh = count(cs, high);
    const bHigh = count(bs, high);
    return {
      condition: cell.condition,
      label: conditionLabel(cell.condition, cell.refs),
      backdoored: name,
      clean: {
        n: cs.length,
        high: cHigh,
        mediumOrHigh: count(cs, (r) => levelOf(r.riskScore as number) !== 'low'),
        highBelow: upperBound(cHigh, cs.length),
      },
      bd: {
        n: bs.length,
        high: bHigh,
        highAbove: lowerBound(bHigh, bs.length),
        targetRight: count(bs, (r) => r.suspectedTargetClass !== null && r.suspectedTargetClass === r.target),
      },
      notScanned: rows.filter((r) => r.riskScore === null).length,
      metrics: conditionMetrics(rows),
    };
  });
}

function pct(x: number): string {
  return `${(x * 100).toFixed(0)}%`;
}

export function renderSummary(
  title: string,
  tool: string,
  rows: SummaryRow[],
  cmd: string,
  note = '',
): string {
  const table = markdownTable(
    [
      'condition',
      'backdoored',
      'AUROC (risk)',
      'AUROC (-log p)',
      'clean high (95% upper bound)',
      'clean medium or high',
      'backdoored high (95% lower bound)',
      'target class right',
      'not scanned',
    ],
    rows.map((r) => [
      r.label,
      `${r.backdoored} (n ${r.bd.n})`,
      fmt(r.metrics.aurocRisk ?? NaN),
      fmt(r.metrics.aurocP ?? NaN),
      r.clean.n ? `${r.clean.high} / ${r.clean.n} (< ${pct(r.clean.highBelow)})` : '-',
      `${r.clean.mediumOrHigh} / ${r.clean.n}`,
      r.bd.n ? `${r.bd.high} / ${r.bd.n} (> ${pct(r.bd.highAbove)})` : '-',
      `${r.bd.targetRight} / ${r.bd.n}`,
      String(r.notScanned),
    ]),
  );
  return [
    `# ${title}`,
    '',
    `Tool: ${tool}. Command: \`${cmd}\`. Bounds: one-sided 95% Clopper-Pearson on the counts (clean high: the`,
    'rate is below the bound; backdoored high: detection is above it). Held out unless the condition says',
    'otherwise (bench/realsize/findings.md).',
    ...(note ? ['', note] : []),
    '',
    table,
    '',
  ].join('\n');
}

function main(): void {
  const from = option('--from');
  const arch = option('--arch');
  const tag = option('--tag');
  if (!from || !arch || !tag)
    throw new SetupError(
      'usage: summary.ts --from DIR/realsize.json --arch A --tag T [--title ..] [--tool ..]',
    );
  const b = JSON.parse(readFileSync(from, 'utf8')) as RealsizeBench;
  const cells = b.cells.filter((c) => c.arch === arch);
  if (!cells.length) throw new SetupError(`summary.ts: no ${arch} cells in ${from}`);
  const rows = cells.flatMap(summaryRows);
  const title = option('--title') ?? `Real-size ${arch}: every test model`;
  const tool = option('--tool') ?? [...new Set(cells.map((c) => c.runner))].join('; ');
  const cmd =
    option('--cmd') ?? `npx tsx bench/realsize/summary.ts --from ${from} --arch ${arch} --tag ${tag}`;
  const out = path.resolve(option('--results') ?? path.join(ROOT, 'bench', 'results'));
  mkdirSync(out, { recursive: true });
  const json = {
    generatedAt: new Date().toISOString(),
    arch,
    tool,
    command: cmd,
    rows: rows.map(({ metrics, ...r }) => ({ ...r, aurocRisk: metrics.aurocRisk, aurocP: metrics.aurocP })),
    cells: cells.map((c) => ({
      condition: c.condition,
      refs: c.refs ?? null,
      runner: c.runner,
      rows: c.rows,
    })),
  };
  writeFileSync(path.join(out, `realsize-${tag}.json`), JSON.stringify(json, null, 1) + '\n');
  writeFileSync(
    path.join(out, `realsize-${tag}.md`),
    renderSummary(title, tool, rows, cmd, option('--note') ?? ''),
  );
  console.error(`wrote realsize-${tag}.json and .md in ${out}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (e) {
    if (e instanceof SetupError) {
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  }
}
