/**
 * `npx tsx bench/realsize/colour-compare.ts --before DIR --after DIR [--zoo ROOT] [--out bench/results]
 * [--tag NAME]`: the real-size zoo's no-baseline scans before and after the coloured patch fills
 * (src/selfcheck/colour-fills.ts), held out (nothing in the fills was chosen on this zoo). DIR is a
 * bench:realsize scan-cache folder (e.g. bench/.cache/realsize-eval-zoo3/resnet18/default) holding
 * scan-no-baseline+samples.cache.json (base: the 128 samples) and scan-no-baseline.cache.json (base: mined).
 *
 * Per condition: trigger probing's own p (the check the fills change) and the no-baseline verdict (trigger
 * probing with the final-layer check, combined as src/score/no-baseline.ts does at the shipped weights),
 * recomputed the same way from both scans' p-values, so a tool difference outside trigger probing (the
 * before scans were made by an older bundle) does not enter; plus the after scan's own CLI risk level.
 * Writes bench/results/realsize-colour{-TAG}.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { argValue } from '../speed/common.js';
import { readScanCache } from './cache.js';
import { readArchManifests } from './manifest.js';
import { isFailed } from '../../src/report/types.js';
import { combineNoBaseline, NO_BASELINE_WEIGHTS } from '../../src/score/no-baseline.js';
import { countsOf, type Counts } from '../refree/weight-choice.js';
import { riskScore } from '../../src/score/risk.js';

const CONDITIONS = [
  { file: 'scan-no-baseline+samples.cache.json', id: 'no-baseline+samples', base: 'samples' },
  { file: 'scan-no-baseline.cache.json', id: 'no-baseline', base: 'mined' },
] as const;

interface Side {
  trigger: number | null;
  finalLayer: number | null;
  /** The verdict recombined at the shipped weights (the same function for both sides). */
  verdict: number | null;
  suspected: number | null;
  shown: string | null;
  cliLevel: string;
  cliRisk: number | null;
  triggerPasses: number | null;
}

interface ModelRow {
  id: string;
  label: 'clean' | 'backdoor';
  attack: string | null;
  target: number | null;
  before: Side | null;
  after: Side | null;
}

type Entry = NonNullable<ReturnType<typeof readScanCache>>['entries'][string];

function side(e: Entry): Side {
  if (isFailed(e)) {
    return {
      trigger: null,
      finalLayer: null,
      verdict: null,
      suspected: null,
      shown: null,
      cliLevel: 'failed',
      cliRisk: null,
      triggerPasses: null,
    };
  }
  const t = e.detectors['trigger-probe']?.pValue ?? null;
  const fl = e.detectors['final-layer']?.pValue ?? null;
  const ran = [
    ...(t !== null ? [{ check: 'trigger' as const, pValue: t }] : []),
    ...(fl !== null ? [{ check: 'weight-outlier' as const, pValue: fl }] : []),
  ];
  const x = e.explanation;
  return {
    trigger: t,
    finalLayer: fl,
    verdict: ran.length ? combineNoBaseline(ran, NO_BASELINE_WEIGHTS).pValue : null,
    suspected: x?.suspectedTargetClass ?? null,
    shown: x?.trigger ? `${x.trigger.location} (flip ${x.trigger.flipRate.toFixed(2)})` : null,
    cliLevel: e.riskLevel,
    cliRisk: e.riskScore ?? null,
    triggerPasses: e.checks?.find((c) => c.check === 'trigger-probe')?.passes ?? null,
  };
}

function rowsOf(beforeDir: string, afterDir: string, file: string, zooRoot: string): ModelRow[] {
  const zoo = readArchManifests(zooRoot);
  const sides = new Map<string, { before: Side | null; after: Side | null }>();
  for (const [which, dir] of [
    ['before', beforeDir],
    ['after', afterDir],
  ] as const) {
    const cache = readScanCache(path.join(dir, file));
    for (const e of Object.values(cache?.entries ?? {})) {
      const id = path.basename(e.path).replace(/\.onnx$/, '');
      const cur = sides.get(id) ?? { before: null, after: null };
      cur[which] = side(e);
      sides.set(id, cur);
    }
  }
  return [...sides]
    .map(([id, s]) => {
      const m = zoo.get(id);
      if (!m) throw new Error(`colour-compare: ${id} is not in ${zooRoot}'s manifests`);
      return { id, label: m.label, attack: m.attack, target: m.targetClass, ...s };
    })
    .sort((a, b) => a.label.localeCompare(b.label) || a.id.localeCompare(b.id));
}

interface Summary {
  /** Models scanned on both sides (the comparison's set). */
  paired: number;
  triggerBefore: Counts;
  triggerAfter: Counts;
  verdictBefore: Counts;
  verdictAfter: Counts;
  patchTriggerP: { id: string; before: number | null; after: number | null }[];
  suspectedRight: { before: number; after: number; of: number };
  cliAfter: { cleanHigh: number; cleanMedium: number; backdoorHigh: number };
}

function summarise(rows: ModelRow[]): Summary {
  const both = rows.filter((r) => r.before?.verdict != null && r.after?.verdict != null);
  const pick = (r: ModelRow, s: 'before' | 'after', k: 'trigger' | 'verdict'): number => r[s]?.[k] ?? 1;
  const counts = (s: 'before' | 'after', k: 'trigger' | 'verdict'): Counts =>
    countsOf(
      both.filter((r) => r.label === 'clean').map((r) => pick(r, s, k)),
      both.filter((r) => r.label !== 'clean').map((r) => pick(r, s, k)),
    );
  const bd = both.filter((r) => r.label !== 'clean');
  const cliAfter = rows.filter((r) => r.after);
  return {
    paired: both.length,
    triggerBefore: counts('before', 'trigger'),
    triggerAfter: counts('after', 'trigger'),
    verdictBefore: counts('before', 'verdict'),
    verdictAfter: counts('after', 'verdict'),
    patchTriggerP: both
      .filter((r) => r.attack === 'patch')
      .map((r) => ({ id: r.id, before: r.before?.trigger ?? null, after: r.after?.trigger ?? null })),
    suspectedRight: {
      before: bd.filter((r) => r.before?.suspected === r.target).length,
      after: bd.filter((r) => r.after?.suspected === r.target).length,
      of: bd.length,
    },
    cliAfter: {
      cleanHigh: cliAfter.filter((r) => r.label === 'clean' && r.after?.cliLevel === 'high').length,
      cleanMedium: cliAfter.filter(
        (r) => r.label === 'clean' && (r.after?.cliLevel === 'high' || r.after?.cliLevel === 'medium'),
      ).length,
      backdoorHigh: cliAfter.filter((r) => r.label !== 'clean' && r.after?.cliLevel === 'high').length,
    },
  };
}

const fmtP = (p: number | null | undefined): string =>
  p == null ? '-' : p < 1e-3 ? p.toExponential(1) : p.toFixed(3);
const fmtA = (a: number | null): string => (a === null ? '-' : a.toFixed(3));
const cnt = (c: Counts): string =>
  `${fmtA(c.auroc)} | ${c.cleanHigh}/${c.clean} | ${c.cleanMedium}/${c.clean} | ${c.backdoorHigh}/${c.backdoored}`;

function render(cmd: string, out: { condition: string; summary: Summary; rows: ModelRow[] }[]): string {
  const lines = [
    '# Real-size zoo, no baseline: trigger probing before and after the coloured patch fills (held out)',
    '',
    `Generated by \`${cmd}\` (${new Date().toISOString()}). Nothing in the fills (which, how many, where)`,
    'was chosen on this zoo: they are fixed a priori from public BadNets-style attacks',
    "(src/selfcheck/colour-fills.ts). The idea came from this zoo's diagnosis (bench/realsize/findings.md),",
    'which is a selection effect: the zoo is the one whose misses suggested colour.',
    '',
    '"trigger p": trigger probing alone (what the fills change). "verdict": trigger probing and the',
    "final-layer check combined at the shipped no-baseline weights, recomputed from each scan's p-values with",
    'the same function (the before scans were made by an older bundle of main whose verdict weighed the',
    'final-layer check 0). Columns: AUROC (of -log10 p), clean high, clean medium or high, backdoored high.',
    '',
    '| condition | score | models | AUROC | clean high | clean medium+ | backdoored high |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const o of out) {
    const s = o.summary;
    for (const [name, c] of [
      ['trigger p, before', s.triggerBefore],
      ['trigger p, after', s.triggerAfter],
      ['verdict, before', s.verdictBefore],
      ['verdict, after', s.verdictAfter],
    ] as const)
      lines.push(`| ${o.condition} | ${name} | ${s.paired} | ${cnt(c)} |`);
    lines.push(
      `| ${o.condition} | CLI level of the after scan (its own risk) | ${o.rows.filter((r) => r.after).length} | - | ${s.cliAfter.cleanHigh} | ${s.cliAfter.cleanMedium} | ${s.cliAfter.backdoorHigh} |`,
    );
  }
  lines.push('');
  lines.push(
    "Suspected target class right (trigger probing's class, backdoored models): " +
      out
        .map(
          (o) =>
            `${o.condition} ${o.summary.suspectedRight.before} -> ${o.summary.suspectedRight.after} of ${o.summary.suspectedRight.of}`,
        )
        .join('; ') +
      '.',
  );
  for (const o of out) {
    lines.push(
      '',
      `## ${o.condition}: per model`,
      '',
      '| model | truth (target) | trigger p before -> after | class before -> after | verdict risk before -> after | CLI level after | trigger passes before -> after | shown trigger after |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const r of o.rows) {
      const b = r.before;
      const a = r.after;
      const risk = (x: Side | null): string => (x?.verdict == null ? '-' : String(riskScore(x.verdict)));
      lines.push(
        `| ${r.id} | ${r.label === 'clean' ? 'clean' : `${r.attack} (${r.target})`} | ${fmtP(b?.trigger)} -> ${fmtP(a?.trigger)} | ${b?.suspected ?? '-'} -> ${a?.suspected ?? '-'} | ${risk(b)} -> ${risk(a)} | ${a?.cliLevel ?? 'not scanned'} | ${b?.triggerPasses ?? '-'} -> ${a?.triggerPasses ?? '-'} | ${a?.shown ?? '-'} |`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

function main(): void {
  const arg = (n: string, d: string): string => argValue(process.argv, n, d);
  const before = arg('before', '');
  const after = arg(
    'after',
    path.join(process.cwd(), 'bench', '.cache', 'realsize-eval-zoo3', 'resnet18', 'default'),
  );
  if (!before) throw new Error('colour-compare: give --before DIR (a scan-cache folder of the tool before)');
  const zoo = arg('zoo', '/work/cache/realsize-zoo3');
  const outDir = arg('out', path.join(process.cwd(), 'bench', 'results'));
  const tag = arg('tag', '');
  const out = CONDITIONS.map((c) => {
    const rows = rowsOf(before, after, c.file, zoo);
    return { condition: c.id, base: c.base, summary: summarise(rows), rows };
  });
  const cmd = `npx tsx bench/realsize/colour-compare.ts ${process.argv.slice(2).join(' ')}`;
  mkdirSync(outDir, { recursive: true });
  const name = `realsize-colour${tag ? `-${tag}` : ''}`;
  writeFileSync(
    path.join(outDir, `${name}.json`),
    JSON.stringify(
      { generatedAt: new Date().toISOString(), command: cmd, before, after, zoo, conditions: out },
      null,
      1,
    ) + '\n',
  );
  writeFileSync(path.join(outDir, `${name}.md`), render(cmd, out));
  console.log(`wrote ${path.join(outDir, name)}.{json,md}`);
}

main();
