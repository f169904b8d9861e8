/**
 * `npx tsx bench/realsize/frozen-head.ts --results DIR [--eval-dir DIR] [--out NAME]`: the per-model table of
 * the adaptive-attacker study (backdoored fine-tunes whose final linear layer was frozen at the base model's
 * weights, or anchored to them: train.py --head; bench/realsize/findings.md "Frozen head"). Reads what
 * `bench/realsize/detect.ts --extra-tests DIR --results DIR` wrote (realsize.json: every condition's rows) and
 * the scan caches beside it (the scans' own detector p-values), and says per model and condition which check
 * decided it (the report's strongest driver, grouped as final-layer weight rows, trigger probing or the
 * ensemble's behavioural channels), with each group's smallest p, the risk, the level and whether the named
 * target class is the true one. Writes bench/results/<NAME>.{json,md} (default realsize-frozen-head).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelEntry } from '../../src/report/types.js';
import { isFailed } from '../../src/report/types.js';
import { fmt, markdownTable } from '../lib/report.js';
import { option } from '../lib/args.js';
import { readScanCache } from './cache.js';
import type { CellResult, RealsizeBench } from './detect.js';
import { conditionMetrics, type ConditionMetrics } from '../torch/metrics.js';
import type { RealsizeModel } from './manifest.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The three groups of evidence a real-size scan has. */
export type CheckGroup = 'final-layer' | 'trigger' | 'behaviour';

/**
 * Which group a report channel belongs to: the final-layer weight rows (reference-free `final-layer`, or the
 * same statistic calibrated against the references, `identity@self:weight-outlier`), trigger probing (its
 * own test and every ensemble channel fed by it: trigger blocks, tiers, the patch map), else the ensemble's
 * behavioural channels on the probes (logits, softmax statistics).
 */
export function groupOf(channel: string): CheckGroup {
  if (channel === 'final-layer' || channel.endsWith('@self:weight-outlier')) return 'final-layer';
  if (channel === 'trigger-probe' || /@(self:)?trigger/.test(channel)) return 'trigger';
  return 'behaviour';
}

export interface FrozenRow {
  condition: string;
  id: string;
  label: 'clean' | 'backdoored';
  attack: string | null;
  head: string | null;
  target: number | null;
  riskScore: number | null;
  riskLevel: string | null;
  pValue: number | null;
  decidedBy: CheckGroup | null;
  /** Smallest p of each group's channels in the report (null: the group had no channel). */
  groupP: Record<CheckGroup, number | null>;
  suspectedTargetClass: number | null;
  targetRight: boolean | null;
  trigger: string | null;
}

function rowsOfCell(
  cell: CellResult,
  entries: Record<string, ModelEntry>,
  models: RealsizeModel[],
): FrozenRow[] {
  const byId = new Map(models.map((m) => [m.id, m]));
  return cell.rows.map((r) => {
    const m = byId.get(r.id);
    const e = m ? entries[m.sha256] : undefined;
    const groupP: Record<CheckGroup, number | null> = { 'final-layer': null, trigger: null, behaviour: null };
    let decidedBy: CheckGroup | null = null;
    if (e && !isFailed(e)) {
      for (const [ch, d] of Object.entries(e.detectors)) {
        if (ch === 'ensemble' || d.pValue === undefined || d.pValue === null) continue;
        const g = groupOf(ch);
        groupP[g] = groupP[g] === null ? d.pValue : Math.min(groupP[g] as number, d.pValue);
      }
      const top = e.explanation.drivers[0];
      decidedBy = top ? groupOf(top.channel) : null;
    }
    const head = (m as unknown as { head?: { mode: string } } | undefined)?.head?.mode ?? null;
    return {
      condition: cell.refs
        ? `${cell.condition} (${cell.refs.n} ${cell.refs.recipe}-recipe refs)`
        : cell.condition,
      id: r.id,
      label: r.label,
      attack: r.attack,
      // a clean model with a head mode is a control (a clean fine-tune under the same head rule)
      head: head ?? (r.label === 'backdoored' ? 'free' : null),
      target: r.target,
      riskScore: r.riskScore,
      riskLevel: r.riskLevel,
      pValue: r.pValue,
      decidedBy,
      groupP,
      suspectedTargetClass: r.suspectedTargetClass,
      targetRight:
        r.label === 'backdoored' && r.target !== null && r.riskScore !== null
          ? r.suspectedTargetClass === r.target
          : null,
      trigger: r.trigger,
    };
  });
}

function main(): void {
  const resultsDir = path.resolve(option('--results') ?? '.tmp/frozen-head');
  const evalDir = path.resolve(option('--eval-dir') ?? path.join(ROOT, 'bench', '.cache', 'realsize-eval'));
  const name = option('--out') ?? 'realsize-frozen-head';
  const file = path.join(resultsDir, 'realsize.json');
  if (!existsSync(file)) {
    console.error(
      `frozen-head: no ${file} (run bench/realsize/detect.ts --extra-tests DIR --results ${resultsDir})`,
    );
    process.exit(1);
  }
  const bench = JSON.parse(readFileSync(file, 'utf8')) as RealsizeBench;
  const rows: FrozenRow[] = [];
  const tools = new Set<string>();
  for (const cell of bench.cells) {
    const tag = cell.refs ? `-refs-${cell.refs.recipe}` : '';
    const cache = readScanCache(
      path.join(evalDir, cell.arch, cell.budget, `scan-${cell.condition}${tag}.cache.json`),
    );
    if (cache) tools.add((JSON.parse(cache.key) as { tool: string }).tool);
    rows.push(...rowsOfCell(cell, cache?.entries ?? {}, bench.models));
  }
  // the headline figures: each head's backdoored models against the zoo's own clean test models (the controls,
  // clean fine-tunes under a head rule, are listed per model, not pooled with them)
  const byId = new Map(bench.models.map((m) => [m.id, m]));
  const headOf = (id: string) =>
    (byId.get(id) as unknown as { head?: { mode: string } } | undefined)?.head?.mode;
  const summary: { condition: string; backdoored: string; metrics: ConditionMetrics; runner: string }[] = [];
  for (const c of bench.cells) {
    const clean = c.rows.filter((r) => r.label === 'clean' && !headOf(r.id));
    for (const h of ['frozen', 'anchored', 'frozen or anchored']) {
      const bd = c.rows.filter((r) => r.label === 'backdoored' && h.includes(headOf(r.id) ?? 'free'));
      if (!bd.length) continue;
      summary.push({
        condition: c.refs ? `${c.condition} (${c.refs.n} ${c.refs.recipe}-recipe refs)` : c.condition,
        backdoored: `${h} head (${bd.length})`,
        metrics: conditionMetrics([...clean, ...bd]),
        runner: c.runner,
      });
    }
  }
  const out = {
    generatedAt: new Date().toISOString(),
    tools: [...tools],
    heldOut:
      'nothing in the tool was chosen on these models; shipped defaults, default budget, through the CLI',
    summary,
    rows,
  };
  const dest = path.join(ROOT, 'bench', 'results');
  mkdirSync(dest, { recursive: true });
  writeFileSync(path.join(dest, `${name}.json`), JSON.stringify(out, null, 1) + '\n');
  const p = (x: number | null) => (x === null ? '-' : x < 1e-3 ? x.toExponential(1) : fmt(x, 3));
  const md = [
    '# Real-size ResNet-18: backdoors with the classifier head frozen (adaptive attacker)',
    '',
    `Generated by \`npx tsx bench/realsize/frozen-head.ts\` from \`bench/realsize/detect.ts --extra-tests\` on ${out.generatedAt}`,
    `(tool: the CLI bundle sha256 ${[...tools].map((t) => t.slice(0, 12)).join(', ')}). **Held out**: ${out.heldOut}.`,
    'How the models were made and what the figures mean: bench/realsize/findings.md, "Frozen head".',
    '',
    '## Per condition',
    '',
    "Each head's backdoored models against the zoo's own clean test models (the clean controls, clean fine-tunes",
    'made under the same head rule, are in the per-model table, not pooled).',
    '',
    markdownTable(
      [
        'condition',
        'backdoored',
        'AUROC (risk)',
        'AUROC (p)',
        'clean high',
        'clean medium or high',
        'backdoored high',
        'target named right',
        'per attack',
      ],
      summary.map((s) => {
        const m = s.metrics;
        const pct = (x: number | null | undefined) =>
          x === null || x === undefined ? '-' : `${Math.round(x * 100)}%`;
        return [
          s.condition,
          s.backdoored,
          fmt(m?.aurocRisk ?? undefined),
          fmt(m?.aurocP ?? undefined),
          pct(m?.cleanHigh),
          pct(m?.cleanMediumOrHigh),
          pct(m?.backdooredHigh),
          m ? `${m.targetHits} / ${m.backdooredCount}` : '-',
          m
            ? Object.entries(m.perAttack)
                .map(([a, v]) => `${a} ${fmt(v ?? undefined)}`)
                .join(', ')
            : '-',
        ];
      }),
    ),
    '',
    '## Per model',
    '',
    "Decided by: the group of the report's strongest driver (final-layer weight rows; trigger probing and the",
    'ensemble channels it feeds; the behavioural channels on the probes). Group p: the smallest p of its channels.',
    '',
    markdownTable(
      [
        'condition',
        'model',
        'head',
        'risk',
        'level',
        'p',
        'decided by',
        'final-layer p',
        'trigger p',
        'behaviour p',
        'target',
        'named',
        'right',
      ],
      rows.map((r) => [
        r.condition,
        r.id.replace(/^resnet18-test-long-/, ''),
        r.head ?? '-',
        String(r.riskScore ?? '-'),
        r.riskLevel ?? '-',
        p(r.pValue),
        r.decidedBy ?? '-',
        p(r.groupP['final-layer']),
        p(r.groupP.trigger),
        p(r.groupP.behaviour),
        String(r.target ?? '-'),
        String(r.suspectedTargetClass ?? '-'),
        r.targetRight === null ? '-' : r.targetRight ? 'yes' : 'no',
      ]),
    ),
    '',
  ].join('\n');
  writeFileSync(path.join(dest, `${name}.md`), md);
  console.error(`wrote bench/results/${name}.json and .md (${rows.length} rows)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
