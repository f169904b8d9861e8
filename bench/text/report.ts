/**
 * bench/results/text.md from the bench:text results: how to reproduce, the text zoo, the detection tables
 * per architecture and condition, the fitted nulls, the timing, and the hand-written findings
 * (bench/text/findings.md, appended verbatim so a rerun keeps them).
 */
import { fmt, markdownTable } from '../lib/report.js';
import type { TextBench, TextConditionResult } from './main.js';

const CONDITION_LABELS: Record<string, string> = {
  'baseline-40-samples': 'baseline of 40 references, held-out texts',
  'baseline-20-samples': 'baseline of the first 20 references, held-out texts',
  'baseline-20-generated': 'baseline of the first 20 references, no samples',
  'free-samples': 'no baseline, held-out texts (clean: the test split + every reference)',
  'free-generated': 'no baseline, no samples (clean: the test split + every reference)',
};

function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? '-' : `${Math.round(x * 100)}%`;
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s.length
    ? s.length % 2
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
    : NaN;
}

function zooTable(b: TextBench): string {
  const archs = Object.keys(b.zoo.byArch);
  return markdownTable(
    [
      'arch',
      'seq',
      'reference',
      'test clean',
      'test backdoored',
      'dev clean',
      'dev backdoored',
      'clean acc median [min, max]',
      'backdoored acc / ASR median',
    ],
    archs.map((a) => {
      const ms = b.models.filter((m) => m.arch === a);
      const n = (k: string) => String(b.zoo.byArch[a][k] ?? 0);
      const acc = ms.filter((m) => m.label === 'clean').map((m) => m.cleanAcc);
      const bd = ms.filter((m) => m.label === 'backdoored');
      return [
        a,
        String(ms[0]?.seq ?? '-'),
        n('reference-clean'),
        n('test-clean'),
        n('test-backdoored'),
        n('dev-clean'),
        n('dev-backdoored'),
        `${fmt(median(acc))} [${fmt(Math.min(...acc))}, ${fmt(Math.max(...acc))}]`,
        `${fmt(median(bd.map((m) => m.cleanAcc)))} / ${fmt(median(bd.map((m) => m.asr ?? 0)))}`,
      ];
    }),
  );
}

function resultTable(b: TextBench): string {
  const rows: string[][] = [];
  for (const [arch, conds] of Object.entries(b.results)) {
    for (const c of conds) {
      const m = c.metrics;
      const rw = c.rareWord;
      rows.push([
        arch,
        CONDITION_LABELS[c.condition] ?? c.condition,
        m ? fmt(m.aurocRisk ?? undefined) : c.build && !c.build.ok ? `build failed: ${c.build.message}` : '-',
        m ? fmt(m.tpr10 ?? undefined) : '-',
        m ? pct(m.cleanHigh) : '-',
        m ? pct(m.backdooredHigh) : '-',
        m ? `${m.targetHits}/${m.backdooredCount}` : '-',
        rw.total ? `${rw.highHit}/${rw.high} (medium+: ${rw.flaggedHit}/${rw.flagged}; of ${rw.total})` : '-',
        m ? String(m.failed) : '-',
      ]);
    }
  }
  return markdownTable(
    [
      'arch',
      'condition',
      'AUROC',
      'TPR at FPR<=10%',
      'clean called high',
      'backdoored called high',
      'target class right',
      'rare-word backdoors called high: real word named',
      'not scanned',
    ],
    rows,
  );
}

function perAttackTable(b: TextBench): string {
  const attacks = [...new Set(b.models.map((m) => m.attack).filter((a): a is string => a !== null))].sort();
  const rows: string[][] = [];
  for (const [arch, conds] of Object.entries(b.results))
    for (const c of conds)
      rows.push([arch, c.condition, ...attacks.map((a) => fmt(c.metrics?.perAttack[a] ?? undefined))]);
  return markdownTable(['arch', 'condition', ...attacks], rows);
}

function modelRows(c: TextConditionResult, arch: string): string {
  return (
    markdownTable(
      ['model', 'attack', 'rate', 'real trigger -> target', 'risk', 'level', 'found (class: words, flip)'],
      c.rows
        .filter((r) => r.label === 'backdoored')
        .map((r) => [
          r.id,
          r.attack ?? '-',
          String(r.rate),
          `${(r.realTrigger ?? []).join(' ')} -> ${r.target}`,
          r.riskScore === null ? `error: ${r.error}` : String(r.riskScore),
          r.riskLevel ?? '-',
          `${r.suspectedTargetClass ?? '-'}: ${r.trigger ?? '-'}`,
        ]),
    ) + `\n\n(${arch}, ${c.condition})`
  );
}

function nullsSection(b: TextBench): string {
  if (!b.nulls?.length) return '';
  const rows = b.nulls.map((n) => [
    n.basis,
    String(n.models),
    fmt(n.fit.location),
    fmt(n.fit.scale),
    Object.entries(n.leaveOut)
      .map(([a, l]) => `${a}: ${pct(l.highShare)} of ${l.models}`)
      .join('; '),
  ]);
  return (
    '## Token trigger nulls (fitted on the dev split only)\n\n' +
    "`npm run bench:text -- --fit-null`: reference-free scans of the dev split's clean models; a Gumbel fit of the " +
    'trigger score per basis (scale x1.25, location +0.25, as for images). Leave one architecture out: fitted on ' +
    "the other two, the share of the left-out architecture's dev clean models its p-value calls high.\n\n" +
    markdownTable(
      ['basis', 'clean dev models', 'location', 'scale', 'left-out architecture called high'],
      rows,
    ) +
    '\n\n'
  );
}

function timingSection(b: TextBench): string {
  if (!b.timing?.length) return '';
  return (
    '## Scan time (`npm run bench:text -- --timing`)\n\n' +
    'One reference-free scan with the held-out texts, in process (after a warm-up scan); CPU is user + system ' +
    'time of all threads, which bounds the wall time on an otherwise idle 2-core machine. Raw: ONNX Runtime ' +
    'inference of as many random texts in batches of 4096, the same process.\n\n' +
    markdownTable(
      ['arch', 'model', 'scan wall', 'scan CPU', 'raw inference (texts): wall / CPU', 'scan CPU / raw CPU'],
      b.timing.map((t) => [
        t.arch,
        t.model,
        `${(t.wallMs / 1000).toFixed(1)} s`,
        `${(t.cpuMs / 1000).toFixed(1)} s`,
        `${t.rawTexts}: ${(t.rawWallMs / 1000).toFixed(1)} s / ${(t.rawCpuMs / 1000).toFixed(1)} s`,
        `${(t.cpuMs / Math.max(1, t.rawCpuMs)).toFixed(2)}x`,
      ]),
    ) +
    '\n\n'
  );
}

function orderSection(b: TextBench): string {
  if (!b.order?.length) return '';
  const med = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null).sort((p, q) => p - q);
    return v.length ? `${v[v.length >> 1]} (max ${v[v.length - 1]})` : '-';
  };
  const archs = [...new Set(b.order.map((o) => o.arch))];
  return (
    '## Screening order (`npm run bench:text -- --order`)\n\n' +
    'When the budget cannot screen every vocabulary entry, the order decides which are screened. Rank of each ' +
    "rare-word backdoor's trigger word among the 3,000 entries (0 = first), median (max) over the test split: " +
    "today's order (embedding rows that stand out), the target class's first-order (HotFlip) ranking through the " +
    'embedding gradient on 16 held-out texts, and the order the search screens with gradients (the two taking turns ' +
    'with every class).\n\n' +
    markdownTable(
      [
        'arch',
        'models',
        'embedding outliers',
        'target class, first-order',
        'interleaved (what the search screens)',
        'no gradient',
      ],
      archs.map((a) => {
        const r = b.order!.filter((o) => o.arch === a);
        return [
          a,
          String(r.length),
          med(r.map((o) => o.outlier)),
          med(r.map((o) => o.targetGradient)),
          med(r.map((o) => o.merged)),
          String(r.filter((o) => o.merged === null).length),
        ];
      }),
    ) +
    '\n\n'
  );
}

export function renderTextMarkdown(b: TextBench, notes: string): string {
  const details = Object.entries(b.results)
    .flatMap(([arch, conds]) =>
      conds
        .filter((c) => c.condition === 'free-samples' || c.condition === 'baseline-20-samples')
        .map((c) => modelRows(c, arch)),
    )
    .join('\n\n');
  const heldOut = b.corpus !== undefined && b.corpus !== 'man';
  return [
    heldOut
      ? `# Text classifiers, held out: another corpus and vocabulary (bench:text --corpus ${b.corpus})`
      : '# Text classifiers (bench:text)',
    '',
    `Generated ${b.generatedAt} by \`npm run bench:text${heldOut ? ` -- --corpus ${b.corpus}` : ''}\` (${b.runner}${b.bundleStale ? '; the bundle was older than src/' : ''}).`,
    heldOut
      ? `Zoo: \`npm run bench:text-zoo -- --corpus ${b.corpus}\` (bench/text/train.py, bench/text/debian_corpus.py): ` +
        'Debian package descriptions labelled by archive section, with their own vocabulary built from their own ' +
        'training split. Nothing was chosen on this corpus: every default, null and rule the scans use was fixed ' +
        'on the man-page zoo (bench/results/text.md); it has no dev split.'
      : 'Zoo: `npm run bench:text-zoo` (bench/text/train.py, bench/text/corpus.py). Every number below is on the test split ' +
        '(and, for the reference-free rows, the reference split), never on the dev split the nulls and defaults were ' +
        'chosen on.',
    '',
    '## The zoo',
    '',
    zooTable(b),
    '',
    `${b.zoo.rejected} backdoor trainings were rejected by the stealth filter (clean accuracy >= clean median - 0.02, attack success >= 0.8) and retrained with the next seed.`,
    '',
    b.tokenInversion
      ? '## Detection (shipped defaults plus the opt-in `--token-inversion`, as `scan` reports it)'
      : '## Detection (shipped defaults, as `scan` reports it)',
    '',
    resultTable(b),
    '',
    "### AUROC per attack (each attack's backdoored models against all clean models of the condition)",
    '',
    perAttackTable(b),
    '',
    nullsSection(b),
    timingSection(b),
    orderSection(b),
    notes.trim() ? notes.trim() + '\n' : '',
    '## Backdoored test models, per model',
    '',
    details,
    '',
  ].join('\n');
}
