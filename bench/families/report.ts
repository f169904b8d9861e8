/**
 * bench/results/families.md from the bench:families results: the zoo, then every table twice: HELD OUT (the
 * shipped defaults as the CLI gives them; nothing in the tool was chosen on these families or domains) and
 * TUNED (the in-sample optimum: per group the best condition, and the threshold that keeps clean FPR <= 5%,
 * both picked with the labels of these same models). Then the targets of issue #20, misses, errors, and the
 * hand-written findings (bench/families/findings.md, appended verbatim).
 */
import { fmt, markdownTable } from '../lib/report.js';
import { groupMetrics, type FamilyRow, type GroupMetrics } from './metrics.js';
import { CONDITIONS, type FamiliesBench, type FamilyModel } from './types.js';

const FAMILY_ORDER = [
  'badnets',
  'freq',
  'invisible-linf',
  'invisible-l2',
  'trojannn',
  'sig',
  'filter',
  'accessory',
  'all-to-all',
  'clean-label',
  'dynamic',
  'adaptive',
];
/** Issue #20's targets, with 20 references, held out. */
const FAMILY_TARGET = 0.9;
const ARCH_TARGET = 0.95;

function pct(x: number | null): string {
  return x === null ? '-' : `${Math.round(x * 100)}%`;
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function range(a: number[]): string {
  return a.length ? `${fmt(median(a))} [${fmt(Math.min(...a))}, ${fmt(Math.max(...a))}]` : '-';
}

function condLabel(id: string): string {
  return CONDITIONS.find((c) => c.id === id)?.label ?? id;
}

/** Conditions present in the results, in CONDITIONS order. */
function conditionsOf(b: FamiliesBench): string[] {
  const have = new Set(Object.values(b.results).flatMap((r) => Object.keys(r)));
  return CONDITIONS.map((c) => c.id).filter((id) => have.has(id));
}

function familiesOf(b: FamiliesBench): string[] {
  const have = new Set(b.models.map((m) => m.family).filter((f): f is string => f !== null));
  return [...FAMILY_ORDER.filter((f) => have.has(f)), ...[...have].filter((f) => !FAMILY_ORDER.includes(f))];
}

/** Rows of one condition over the given architectures; clean rows from the test split only unless allClean. */
function rowsFor(b: FamiliesBench, cond: string, archs: string[], allClean = false): FamilyRow[] {
  const split = new Map(b.models.map((m) => [m.id, m.split] as const));
  return archs.flatMap((a) =>
    (b.results[a]?.[cond]?.rows ?? []).filter((r) => allClean || split.get(r.id) === 'test'),
  );
}

function metricsFor(
  b: FamiliesBench,
  cond: string,
  archs: string[],
  family: string | null,
  allClean = false,
): GroupMetrics | null {
  const rows = rowsFor(b, cond, archs, allClean);
  if (!rows.length) return null;
  const clean = rows.filter((r) => r.label === 'clean');
  const bad = rows.filter((r) => r.label === 'backdoored' && (family === null || r.family === family));
  return bad.length ? groupMetrics(clean, bad) : null;
}

function heldOutRow(label: string, m: GroupMetrics | null): string[] {
  if (!m) return [label, '-', '-', '-', '-', '-', '-'];
  return [
    label,
    fmt(m.auroc ?? NaN),
    pct(m.backdooredHigh),
    pct(m.cleanHigh),
    pct(m.cleanMediumOrHigh),
    m.targetFlagged ? `${m.targetRight}/${m.targetFlagged}` : '-',
    `${m.clean} / ${m.backdoored}${m.failed ? ` (${m.failed} failed)` : ''}`,
  ];
}

const HELD_OUT_HEADER = [
  'group',
  'AUROC',
  'backdoored high',
  'clean high',
  'clean medium+',
  'target right (flagged single-target)',
  'clean / backdoored scanned',
];

function zooSection(b: FamiliesBench, archs: string[], families: string[]): string[] {
  const out: string[] = [];
  const rows = archs.map((a) => {
    const m = b.models.filter((x) => x.arch === a);
    const clean = m.filter((x) => x.label === 'clean');
    const bd = m.filter((x) => x.label === 'backdoored');
    const dom = b.manifest.domains[m[0]?.domain ?? ''];
    return [
      a,
      `${m[0]?.domain ?? '-'} (${dom?.classes ?? '-'} classes, ${dom?.shape?.join('x') ?? '-'})`,
      String(clean.filter((x) => x.split === 'reference').length),
      String(clean.filter((x) => x.split === 'test').length),
      String(bd.length),
      range(clean.map((x) => x.cleanAccuracy)),
      range(bd.map((x) => x.cleanAccuracy)),
      range(bd.map((x) => x.attackSuccess ?? NaN)),
      `${Math.round(b.manifest.trainSeconds?.[a] ?? 0)} s`,
    ];
  });
  out.push(
    markdownTable(
      [
        'arch',
        'domain',
        'references',
        'clean test',
        'backdoored',
        'clean acc (clean models)',
        'clean acc (backdoored)',
        'attack success',
        'training wall time',
      ],
      rows,
    ),
  );
  out.push('');
  out.push('Backdoored models kept per family and architecture (attack success: median [min, max]):');
  out.push('');
  out.push(
    markdownTable(
      ['family', ...archs],
      families.map((f) => [
        f,
        ...archs.map((a) => {
          const m = b.models.filter((x) => x.arch === a && x.family === f);
          return m.length ? `${m.length}: ${range(m.map((x) => x.attackSuccess ?? NaN))}` : '0';
        }),
      ]),
    ),
  );
  return out;
}

function triggerSummary(m: FamilyModel): string {
  const t = m.trigger ?? {};
  const keep = Object.entries(t).filter(
    ([k]) => !['bits', 'patternSeed', 'generatorSeed', 'matrix', 'chosenNeurons'].includes(k),
  );
  return keep.map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ');
}

export function renderMarkdown(b: FamiliesBench, findings: string): string {
  const out: string[] = [];
  const archs = Object.keys(b.results).filter((a) => b.models.some((m) => m.arch === a));
  const conds = conditionsOf(b);
  const families = familiesOf(b);
  const domains = [...new Set(b.models.map((m) => m.domain))];
  out.push('# Attack families and data domains the tool was never tuned on (issue #20)');
  out.push('');
  out.push(
    `Generated ${b.generatedAt} by \`npm run bench:families\` (\`tsx bench/families/main.ts --zoo ${b.zoo}\`). ` +
      `Tool measured: ${b.runner}${b.bundleStale ? ' (src/ was newer than the bundle)' : ''}. Zoo: ` +
      `${b.models.length} models trained by ${b.manifest.generator} with PyTorch ${b.manifest.torch}, exported with ` +
      `${b.manifest.exporter}, opset ${b.manifest.opset}; ${b.manifest.rejectedTries} training tries rejected by ` +
      `the stealth rule (clean accuracy within ${b.manifest.stealth.accuracyTolerance * 100} points of the ` +
      `architecture's clean median, attack success >= ${b.manifest.stealth.minAttackSuccess}).`,
  );
  out.push('');
  out.push(
    '**Every figure in the HELD-OUT tables is held out.** The shipped defaults (the ensemble, its ' +
      'detectors and thresholds, the reference-free null, the trigger menu and its budgets, the risk bands) were ' +
      "chosen on the MNIST zoo (bench/zoo) and bench:torch's digits; none of them was chosen or tuned on these " +
      'attack families, on Fashion-MNIST or on GTSRB, and the tool is run exactly as a user runs it. The TUNED ' +
      'tables are the in-sample optimum on this same zoo (per group the best condition, and a threshold picked on ' +
      'these clean models): an upper bound on what tuning here would buy, not a result.',
  );
  out.push('');
  out.push(
    'Data: ' +
      domains
        .map((d) => {
          const x = b.manifest.domains[d];
          return `\`${d}\`: ${x.source}; ${x.train} training images (seeded subset), ${x.test} test images for accuracy and attack success, ${x.samples.count} further held-out test images as PNG (${x.samples.dir}) for --probe-samples`;
        })
        .join('. ') +
      '.',
  );
  out.push('');
  out.push('## The zoo');
  out.push('');
  out.push(...zooSection(b, archs, families));
  out.push('');
  out.push('## HELD OUT: the shipped defaults through the CLI');
  out.push('');
  out.push(
    '"clean high" counts clean TEST models; without a baseline the references are unseen too, and the ' +
      '"all clean" rows count them as well. "target right": single-target backdoors called high whose suspected ' +
      'target class is the true one (all-to-all has no single target and is not counted).',
  );
  for (const c of conds) {
    out.push('');
    out.push(`### ${condLabel(c)} (held out)`);
    out.push('');
    const measured = archs.filter((a) => b.results[a]?.[c]?.rows.length);
    const notMeasured = archs
      .filter((a) => b.results[a]?.[c] && !b.results[a][c].rows.length)
      .map((a) => `${a} (${b.results[a][c].build?.message.split('\n')[0] ?? 'no rows'})`);
    if (notMeasured.length) {
      out.push(`Not measured: ${notMeasured.join('; ')}.`);
      out.push('');
    }
    if (!measured.length) continue;
    const rows: string[][] = [];
    for (const a of measured) rows.push(heldOutRow(`arch ${a}`, metricsFor(b, c, [a], null)));
    for (const d of domains) {
      const da = measured.filter((a) => b.models.some((m) => m.arch === a && m.domain === d));
      if (da.length) rows.push(heldOutRow(`domain ${d}`, metricsFor(b, c, da, null)));
    }
    if (measured.length > 1) rows.push(heldOutRow('all', metricsFor(b, c, measured, null)));
    // without a baseline, references scanned too (not with --no-refs-as-clean) are more unseen clean models
    const refIds = new Set(b.models.filter((m) => m.split === 'reference').map((m) => m.id));
    for (const a of measured)
      if (b.results[a][c].rows.some((r) => refIds.has(r.id)))
        rows.push(heldOutRow(`arch ${a}, all clean (refs too)`, metricsFor(b, c, [a], null, true)));
    for (const f of families) rows.push(heldOutRow(`family ${f}`, metricsFor(b, c, measured, f)));
    out.push(markdownTable(HELD_OUT_HEADER, rows));
    out.push('');
    out.push(`AUROC per family and architecture (${c}, held out):`);
    out.push('');
    out.push(
      markdownTable(
        ['family', ...measured],
        families.map((f) => [f, ...measured.map((a) => fmt(metricsFor(b, c, [a], f)?.auroc ?? NaN))]),
      ),
    );
  }
  out.push('');
  out.push('## TUNED: the in-sample optimum on this zoo (not a result)');
  out.push('');
  out.push(
    'Per group: the condition with the best AUROC (picked with these labels), and the TPR at the threshold ' +
      'that keeps the clean false-positive rate <= 5% on these same clean test models.',
  );
  out.push('');
  const tunedRow = (label: string, archList: string[], family: string | null): string[] => {
    let best: { c: string; m: GroupMetrics } | null = null;
    for (const c of conds) {
      const m = metricsFor(b, c, archList, family);
      if (m?.auroc !== null && m && (!best || (m.auroc ?? 0) > (best.m.auroc ?? 0))) best = { c, m };
    }
    return best
      ? [label, fmt(best.m.auroc ?? NaN), best.c, fmt(best.m.tprAt5 ?? NaN, 2)]
      : [label, '-', '-', '-'];
  };
  out.push(
    markdownTable(
      ['group', 'best AUROC (tuned)', 'condition picked', 'TPR @ FPR <= 5% (tuned threshold)'],
      [
        ...archs.map((a) => tunedRow(`arch ${a}`, [a], null)),
        ...families.map((f) => tunedRow(`family ${f}`, archs, f)),
      ],
    ),
  );
  out.push('');
  out.push('## Issue #20 targets (held out, 20 references)');
  out.push('');
  const ref = conds.includes('ref20') ? 'ref20' : conds[0];
  const famRows = families.map((f) => {
    const m = metricsFor(b, ref, archs, f);
    const ok = (m?.auroc ?? 0) >= FAMILY_TARGET;
    return [f, fmt(m?.auroc ?? NaN), ok ? 'met' : '**missed**'];
  });
  const archRows = archs.map((a) => {
    const m = metricsFor(b, ref, [a], null);
    return [`arch ${a}`, fmt(m?.auroc ?? NaN), (m?.auroc ?? 0) >= ARCH_TARGET ? 'met' : '**missed**'];
  });
  out.push(
    markdownTable(
      ['group', `AUROC (${ref})`, `target (family >= ${FAMILY_TARGET}, arch >= ${ARCH_TARGET})`],
      [...famRows.map((r) => [`family ${r[0]}`, r[1], r[2]]), ...archRows],
    ),
  );
  out.push('');
  out.push('## Misses and false alarms');
  out.push('');
  const list = (rows: FamilyRow[]) =>
    rows.length ? rows.map((r) => `${r.id} (${r.riskScore})`).join(', ') : '-';
  out.push(
    markdownTable(
      ['arch', 'condition', 'backdoored below high', 'clean at medium or high'],
      archs.flatMap((a) =>
        conds
          .filter((c) => b.results[a]?.[c])
          .map((c) => {
            const rows = b.results[a][c].rows;
            return [
              a,
              c,
              list(rows.filter((r) => r.label === 'backdoored' && r.riskScore !== null && r.riskScore < 61)),
              list(rows.filter((r) => r.label === 'clean' && r.riskScore !== null && r.riskScore >= 31)),
            ];
          }),
      ),
    ),
  );
  out.push('');
  out.push('## Errors the tool gave');
  out.push('');
  const errors: string[] = [];
  for (const a of archs)
    for (const c of conds) {
      const run = b.results[a]?.[c];
      if (!run) continue;
      if (run.build && !run.build.ok)
        errors.push(`- ${a} / ${c}, baseline build: \`${run.build.message.replace(/\n/g, ' | ')}\``);
      if (run.scanError) errors.push(`- ${a} / ${c}, scan: \`${run.scanError.replace(/\n/g, ' | ')}\``);
      for (const r of run.rows)
        if (r.error) errors.push(`- ${a} / ${c}, ${r.id}: \`${r.error.replace(/\n/g, ' | ')}\``);
    }
  out.push(errors.length ? errors.join('\n') : 'None: every model was read, fingerprinted and scanned.');
  out.push('');
  out.push('## Scan time');
  out.push('');
  out.push(
    markdownTable(
      ['arch', ...conds],
      archs.map((a) => [
        a,
        ...conds.map((c) => {
          const run = b.results[a]?.[c];
          const ms = run?.rows.map((r) => r.durationMs).filter((x): x is number => x !== null) ?? [];
          return ms.length ? `${(median(ms) / 1000).toFixed(2)} s/model` : '-';
        }),
      ]),
    ),
  );
  out.push('');
  out.push('## Backdoored test models');
  out.push('');
  out.push(
    markdownTable(
      ['model', 'family', 'trigger', 'poisoned', 'target', 'clean acc', 'attack success'],
      b.models
        .filter((m) => m.label === 'backdoored')
        .map((m) => [
          m.id,
          m.family ?? '',
          triggerSummary(m),
          `${(m.poisonRate * 100).toFixed(1)}%`,
          String(m.targetClass),
          fmt(m.cleanAccuracy),
          fmt(m.attackSuccess ?? NaN) +
            (m.decoyFlipRate !== undefined ? ` (decoys flip ${fmt(m.decoyFlipRate)})` : ''),
        ]),
    ),
  );
  if (findings.trim()) {
    out.push('');
    out.push(findings.trim());
  }
  return out.join('\n') + '\n';
}
