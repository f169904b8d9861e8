/**
 * The detection bench's result types and its Markdown report (bench/results/detect.md): the shipped default
 * against the previous default, the research's naive method and its published figures, per attack x poison
 * rate, the strongest single channels, the candidate ensembles ranked, the probe configurations compared.
 */
import type { DetectorName } from '../../src/detect/detector.js';
import type { EngineOptions } from '../../src/scan/api.js';
import { levelOf, riskScore } from '../../src/score/risk.js';
import { fmt, markdownTable } from '../lib/report.js';
import type { Metrics } from './metrics.js';
import { OTHER_POLICY_NAME, shippedDefault, VARIANT_PREFIX } from './candidates.js';
import { heldOutSection } from './heldout.js';
import { TRIGGER_POLICY_WITH_BASELINE } from '../../src/score/final.js';

export interface MethodResult {
  rule: string;
  prefixes: string[];
  detectors: DetectorName[];
  channels: number;
  /** Fitted on all reference models. */
  all: Metrics;
  /** Mean over the seeded 20-reference draws. */
  sub: (Metrics & { aurocMin: number }) | null;
  /** Final p-value of each test model (all references). */
  pAll: number[];
}

export interface ChannelResult {
  all: Metrics;
  sub: Metrics | null;
  fitMs: number;
}

export interface ConfigResult {
  blocks: Record<string, number>;
  channels: Record<string, ChannelResult>;
  candidates: Record<string, MethodResult>;
  naive: Record<string, ChannelResult | null>;
  referenceFree: Record<string, Metrics>;
  /** The reference-free trigger score with all clean models (references and test) as negatives. */
  referenceFreeAllClean?: Record<string, Metrics>;
  verification: { channels: number; maxRelDiff: number; fitMs: number; scoreMsPerModel: number } | null;
  fitMsByDetector: Record<string, number>;
  millis: number;
}

export interface ArchResult {
  references: number;
  testClean: number;
  testBackdoor: number;
  tests: {
    id: string;
    label: string;
    attack: string | null;
    poisonRate: number | null;
    asr: number | null;
  }[];
  configs: Record<string, ConfigResult>;
}

export interface DetectResults {
  generatedAt: string;
  zoo: { dir: string; fromManifest: boolean; models: number };
  machine: { cpus: number; loadAvg: number[] };
  codeHash: string;
  draws: number;
  subsampleSize: number;
  pHigh: number;
  configs: {
    name: string;
    note: string;
    engine: EngineOptions;
    fingerprintMs: number;
    cacheDir: string;
    computed: number;
    cached: number;
    triggerSource: string;
  }[];
  archs: Record<string, ArchResult>;
  timings: { totalMs?: number };
  /** Filled by selectDefault: the candidate ranking used to choose the shipped default. */
  ranking?: RankedCandidate[];
}

export interface RankedCandidate {
  name: string;
  config: string;
  /** Mean over architectures of (AUROC with all references + mean AUROC with 20) / 2. */
  score: number;
  worstAttackAuroc: number;
  maxCleanHigh: number;
}

/** How each trigger policy reads in the tables. */
const POLICY_TEXT = {
  bonferroni: 'combined by Bonferroni with the patch map',
  report: 'reported beside, not combined',
};

export const DEFAULT_NAME = 'DEFAULT (config.ts)';
export const PREVIOUS_NAME = 'previous default';
const pct = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '-' : `${Math.round(100 * x)}%`;

/** Ranks the candidates of one probe configuration across architectures. */
export function rankCandidates(r: DetectResults, config: string): RankedCandidate[] {
  const archs = Object.values(r.archs).filter((a) => a.configs[config]);
  if (!archs.length) return [];
  const names = Object.keys(archs[0].configs[config].candidates).filter((n) =>
    archs.every((a) => a.configs[config].candidates[n]),
  );
  return names
    .map((name) => {
      const per = archs.map((a) => a.configs[config].candidates[name]);
      const score =
        per.reduce((s, m) => s + (m.all.auroc + (m.sub?.auroc ?? m.all.auroc)) / 2, 0) / per.length;
      const attacks = per.flatMap((m) => Object.values(m.all.perAttack).filter(Number.isFinite));
      return {
        name,
        config,
        score,
        worstAttackAuroc: attacks.length ? Math.min(...attacks) : NaN,
        maxCleanHigh: Math.max(...per.map((m) => m.all.cleanHigh ?? 0)),
      };
    })
    .sort(
      (a, b) => b.score - a.score || b.worstAttackAuroc - a.worstAttackAuroc || a.name.localeCompare(b.name),
    );
}

function methodRows(label: string, m: MethodResult | undefined, refs: number, sub: number): string[][] {
  if (!m) return [];
  const rows = [
    [
      label,
      String(refs),
      fmt(m.all.auroc),
      fmt(m.all.tpr10, 2),
      pct(m.all.cleanHigh),
      pct(m.all.cleanMediumOrHigh),
      pct(m.all.backdoorHigh),
      pct(m.all.backdoorAtFloor),
    ],
  ];
  if (m.sub)
    rows.push([
      label,
      `${sub} (mean; min AUROC ${fmt(m.sub.aurocMin)})`,
      fmt(m.sub.auroc),
      fmt(m.sub.tpr10, 2),
      pct(m.sub.cleanHigh),
      pct(m.sub.cleanMediumOrHigh),
      pct(m.sub.backdoorHigh),
      pct(m.sub.backdoorAtFloor),
    ]);
  return rows;
}

function channelRow(label: string, c: ChannelResult | null | undefined, refs: number): string[][] {
  if (!c) return [];
  return [
    [
      label,
      String(refs),
      fmt(c.all.auroc),
      fmt(c.all.tpr10, 2),
      pct(c.all.cleanHigh),
      pct(c.all.cleanMediumOrHigh),
      pct(c.all.backdoorHigh),
      '-',
    ],
  ];
}

function archSection(r: DetectResults, arch: string, a: ArchResult, config: string): string {
  const c = a.configs[config];
  if (!c) return '';
  const out: string[] = [];
  out.push(
    `### ${arch}: ${a.references} references, ${a.testClean} clean and ${a.testBackdoor} backdoored test models (probes: ${config})\n`,
  );
  const header = [
    'method',
    'references',
    'AUROC',
    'TPR @ FPR<=10%',
    'clean high',
    'clean >= medium',
    'backdoors high',
    'backdoors at rank floor',
  ];
  const rows: string[][] = [
    ...methodRows(
      `**shipped default** as scan reports it (${c.candidates[DEFAULT_NAME]?.rule ?? '?'} over ${c.candidates[DEFAULT_NAME]?.channels ?? 0} channels; trigger test: ${POLICY_TEXT[TRIGGER_POLICY_WITH_BASELINE]})`,
      c.candidates[DEFAULT_NAME],
      a.references,
      r.subsampleSize,
    ),
    ...(c.candidates[OTHER_POLICY_NAME]
      ? methodRows(
          `the same ensemble, trigger test: ${POLICY_TEXT[TRIGGER_POLICY_WITH_BASELINE === 'bonferroni' ? 'report' : 'bonferroni']}`,
          c.candidates[OTHER_POLICY_NAME],
          a.references,
          r.subsampleSize,
        )
      : []),
    ...methodRows(
      'previous default (Fisher, kNN+LOF+OCSVM)',
      c.candidates[PREVIOUS_NAME],
      a.references,
      r.subsampleSize,
    ),
  ];
  for (const [d, ch] of Object.entries(c.naive))
    rows.push(...channelRow(`naive: raw first hidden layer + ${d}`, ch, a.references));
  for (const [n, m] of Object.entries(c.referenceFree))
    rows.push([
      `reference-free ${n} alone`,
      '0',
      fmt(m.auroc),
      fmt(m.tpr10, 2),
      pct(m.cleanHigh),
      pct(m.cleanMediumOrHigh),
      pct(m.backdoorHigh),
      '-',
    ]);
  rows.push([
    'research, synthetic fingerprints (published)',
    '128',
    '0.62',
    '-',
    '29-49% (trust score)',
    '-',
    '-',
    '-',
  ]);
  out.push(markdownTable(header, rows));
  out.push('');

  const d = c.candidates[DEFAULT_NAME];
  if (d) {
    const attacks = [...new Set(a.tests.map((t) => t.attack).filter((x): x is string => x !== null))].sort();
    const rates = [...new Set(a.tests.map((t) => t.poisonRate).filter((x): x is number => x !== null))].sort(
      (x, y) => x - y,
    );
    out.push(
      `Shipped default, ${a.references} references: risk score of each backdoored model (H high, M medium, L low), per attack x poison rate; AUROC of each attack's and each rate's models vs all clean test models (${a.references} references / mean over ${r.draws} draws of ${r.subsampleSize}).\n`,
    );
    const rowsA = attacks.map((att) => {
      const cells = rates.map((rate) => {
        const i = a.tests.findIndex((t) => t.attack === att && t.poisonRate === rate);
        if (i < 0) return '-';
        const s = riskScore(d.pAll[i]);
        return `${s} ${levelOf(s)[0].toUpperCase()}`;
      });
      return [att, ...cells, fmt(d.all.perAttack[att]), fmt(d.sub?.perAttack[att])];
    });
    rowsA.push([
      'AUROC per rate',
      ...rates.map((rate) => `${fmt(d.all.perRate[String(rate)])} / ${fmt(d.sub?.perRate[String(rate)])}`),
      '',
      '',
    ]);
    out.push(
      markdownTable(
        [
          'attack',
          ...rates.map((x) => `${x * 100}%`),
          `AUROC (${a.references})`,
          `AUROC (${r.subsampleSize})`,
        ],
        rowsA,
      ),
    );
    out.push('');
    const cleanScores = a.tests
      .map((t, i) => (t.label === 'clean' ? riskScore(d.pAll[i]) : null))
      .filter((x): x is number => x !== null)
      .sort((x, y) => y - x);
    out.push(
      `Clean test models' risk scores (shipped default, ${a.references} references), highest first: ${cleanScores.join(', ')}.\n`,
    );
  }

  const top = Object.entries(c.channels)
    .sort(([, x], [, y]) => y.all.auroc - x.all.auroc)
    .slice(0, 12);
  out.push(`Strongest single channels (detector@block), probes: ${config}:\n`);
  out.push(
    markdownTable(
      [
        'channel',
        `AUROC (${a.references})`,
        'TPR @10%',
        `AUROC (${r.subsampleSize}, mean)`,
        'clean high',
        'fit+cross-fit ms',
      ],
      top.map(([k, v]) => [
        k,
        fmt(v.all.auroc),
        fmt(v.all.tpr10, 2),
        fmt(v.sub?.auroc),
        pct(v.all.cleanHigh),
        String(v.fitMs),
      ]),
    ),
  );
  out.push('');
  return out.join('\n');
}

interface TargetRow {
  target: string;
  value: number | null | undefined;
  ok: (v: number) => boolean;
  show: (v: number) => string;
}

/** The issue-6 targets against the shipped default, per architecture. */
export function targetRows(r: DetectResults, config: string): { arch: string; rows: TargetRow[] }[] {
  const out: { arch: string; rows: TargetRow[] }[] = [];
  const ge = (t: number) => (v: number) => v >= t;
  const f3 = (v: number) => fmt(v);
  for (const [arch, a] of Object.entries(r.archs)) {
    const c = a.configs[config];
    const d = c?.candidates[DEFAULT_NAME];
    if (!c || !d) continue;
    const tr = c.referenceFree.trigger;
    const trAll = c.referenceFreeAllClean?.trigger;
    out.push({
      arch,
      rows: [
        { target: `AUROC >= 0.97 (${a.references} refs)`, value: d.all.auroc, ok: ge(0.97), show: f3 },
        {
          target: `TPR >= 0.90 at FPR <= 10% (${a.references} refs)`,
          value: d.all.tpr10,
          ok: ge(0.9),
          show: f3,
        },
        {
          target: `clean test models high <= 5% (${a.references} refs)`,
          value: d.all.cleanHigh,
          ok: (v) => v <= 0.05,
          show: pct,
        },
        {
          target: `AUROC >= 0.95 (${r.subsampleSize} refs, mean of ${r.draws})`,
          value: d.sub?.auroc,
          ok: ge(0.95),
          show: f3,
        },
        {
          target: `AUROC >= 0.95 (${r.subsampleSize} refs, worst draw)`,
          value: d.sub?.aurocMin,
          ok: ge(0.95),
          show: f3,
        },
        {
          target: `no backdoor pile-up at the rank floor (${r.subsampleSize} refs)`,
          value: d.sub?.backdoorAtFloor,
          ok: (v) => v === 0,
          show: pct,
        },
        {
          target: `AUROC >= 0.90 at 1% poisoning (${a.references} refs)`,
          value: d.all.perRate['0.01'],
          ok: ge(0.9),
          show: f3,
        },
        {
          target: `AUROC >= 0.90 on the warp trigger (wanet, ${a.references} refs)`,
          value: d.all.perAttack.wanet,
          ok: ge(0.9),
          show: f3,
        },
        {
          target: `AUROC >= 0.90 on the adaptive attacker (${a.references} refs)`,
          value: d.all.perAttack.adaptive,
          ok: ge(0.9),
          show: f3,
        },
        {
          target: 'reference-free AUROC >= 0.90 on patch triggers',
          value: tr?.perKind.patch,
          ok: ge(0.9),
          show: f3,
        },
        {
          target: 'reference-free AUROC >= 0.90 on pixel triggers',
          value: tr?.perKind.pixels,
          ok: ge(0.9),
          show: f3,
        },
        {
          target: `the same, patch triggers, all ${a.references + a.testClean} clean models as negatives`,
          value: trAll?.perKind.patch,
          ok: ge(0.9),
          show: f3,
        },
        {
          target: `the same, pixel triggers, all ${a.references + a.testClean} clean models as negatives`,
          value: trAll?.perKind.pixels,
          ok: ge(0.9),
          show: f3,
        },
      ],
    });
  }
  return out;
}

/**
 * The shipped default against the same ensemble with the per-tier trigger block added (different
 * detectors on that block only), under every probe configuration and architecture, with all references
 * and with 20: a change of default has to win on all of them, not on one ranking.
 */
/**
 * The candidates ranked over every probe configuration: the mean of their per-configuration scores
 * (rankCandidates), with the worst configuration's score and the largest clean-high share anywhere, so
 * a default is chosen for all the ways users run it, not for one.
 */
function crossConfigRanking(r: DetectResults): string {
  const per = r.configs.map((c) => new Map(rankCandidates(r, c.name).map((k) => [k.name, k])));
  const names = [...per[0].keys()].filter((n) => per.every((m) => m.has(n)));
  const rows = names
    .map((name) => {
      const ks = per.map((m) => m.get(name) as RankedCandidate);
      return {
        name,
        scores: ks.map((k) => k.score),
        mean: ks.reduce((a, k) => a + k.score, 0) / ks.length,
        maxCleanHigh: Math.max(...ks.map((k) => k.maxCleanHigh)),
      };
    })
    .sort((a, b) => b.mean - a.mean || a.name.localeCompare(b.name));
  const pos = (n: string) => rows.findIndex((x) => x.name === n) + 1;
  const shown = rows.filter((x, i) => i < 20 || x.name.startsWith('DEFAULT'));
  return [
    `## Candidate ensembles over every probe configuration (${r.configs.map((c) => c.name).join(', ')})\n`,
    'Score per configuration as above; ranked by their mean. The top 20 and every variant of the shipped default.\n',
    markdownTable(
      ['#', 'candidate', 'mean score', ...r.configs.map((c) => `${c.name} score`), 'max clean high'],
      shown.map((x) => [
        String(pos(x.name)),
        x.name,
        fmt(x.mean),
        ...x.scores.map((v) => fmt(v)),
        pct(x.maxCleanHigh),
      ]),
    ),
    '',
  ].join('\n');
}

function tierSection(r: DetectResults): string {
  const rows: string[][] = [];
  for (const cfg of r.configs) {
    for (const [arch, a] of Object.entries(r.archs)) {
      const c = a.configs[cfg.name];
      if (!c) continue;
      const names = [
        DEFAULT_NAME,
        ...Object.keys(c.candidates).filter((n) => n !== DEFAULT_NAME && n.startsWith(`${VARIANT_PREFIX} `)),
      ];
      for (const n of names) {
        const m = c.candidates[n];
        if (!m) continue;
        rows.push([
          cfg.name,
          arch,
          n,
          String(m.channels),
          `${fmt(m.all.auroc)} / ${fmt(m.sub?.auroc)} (min ${fmt(m.sub?.aurocMin)})`,
          `${fmt(m.all.tpr10, 2)} / ${fmt(m.sub?.tpr10, 2)}`,
          `${pct(m.all.cleanHigh)} / ${pct(m.sub?.cleanHigh)}`,
          fmt(m.all.perAttack.adaptive),
        ]);
      }
    }
  }
  if (!rows.length) return '';
  return [
    '## Variants of the shipped default: the per-tier trigger block (`trigger-tiers`) and max_z\n',
    'Each row is what `scan` would report (the shipped trigger policy), one step away from the shipped default (kNN + OCSVM + max_z on logits, softmax-stats, trigger, trigger-tiers; identity on the self-checks). "tiers: X" = detectors X on `trigger-tiers` only. all / 20 = all references / mean over the 20-reference draws.\n',
    markdownTable(
      [
        'probes',
        'arch',
        'candidate',
        'channels',
        'AUROC all / 20 (worst draw)',
        'TPR all / 20',
        'clean high all / 20',
        'adaptive AUROC (all)',
      ],
      rows,
    ),
    '',
  ].join('\n');
}

function targetsSection(r: DetectResults, config: string): string {
  const per = targetRows(r, config);
  if (!per.length) return '';
  const targets = per[0].rows.map((x) => x.target);
  const cell = (t: TargetRow | undefined): string => {
    if (!t || t.value === null || t.value === undefined || !Number.isFinite(t.value)) return 'n/a';
    return `${t.show(t.value)} ${t.ok(t.value) ? 'met' : '**missed**'}`;
  };
  return [
    `## Issue-6 targets, shipped default (probes: ${config})\n`,
    markdownTable(
      ['target', ...per.map((p) => p.arch)],
      targets.map((t, i) => [t, ...per.map((p) => cell(p.rows[i]))]),
    ),
    '',
  ].join('\n');
}

export function writeReport(r: DetectResults): string {
  const out: string[] = [];
  const main = r.configs[0]?.name ?? 'default';
  out.push('# Detection benchmark (`npm run bench:detect`)\n');
  out.push(
    `Generated ${r.generatedAt} by bench/detect.ts on ${r.zoo.models} zoo models (${r.zoo.dir}${r.zoo.fromManifest ? '' : ', no manifest yet: labels from file names'}), ${r.machine.cpus} CPUs (load ${r.machine.loadAvg.map((x) => x.toFixed(1)).join('/')}), total ${((r.timings.totalMs ?? 0) / 1000).toFixed(0)} s. Every number is in detect.json.\n`,
  );
  out.push(
    'Method: each model is fingerprinted once per probe configuration (cached). Per architecture, every block x detector channel is fitted on the clean reference models (all of them, and ' +
      `${r.draws} seeded subsamples of ${r.subsampleSize}) with the ensemble's cross-fitted conformal calibration; ensembles are rebuilt from the channel p-values exactly as src/score/ensemble.ts does (checked against the real fitEnsemble/scoreEnsemble below). ` +
      'AUROC and TPR compare backdoored with clean TEST models (never fitted on); "clean high" is the share of clean test models whose risk score is 61 or more (p <= ' +
      `${r.pHigh.toFixed(4)}), which a calibrated score keeps near 1.4%. ` +
      'The "shipped default" is what `scan` reports with a baseline (src/score/final.ts finalVerdict under the shipped trigger policy: the ensemble, the trigger test (the larger of its zoo-null and its references\' p) and the position-aligned patch map (max_z@trigger-map, a separate test; measured on 64 samples, or without samples on 64 inputs mined per model), combined by Bonferroni); the row below it is the same ensemble under the other trigger policy (the trigger test only reported).\n',
  );
  out.push('Probe configurations:\n');
  out.push(
    markdownTable(
      ['name', 'probes', 'fingerprinting (this run)', 'trigger self-check from', 'cache'],
      r.configs.map((c) => [
        c.name,
        c.note,
        `${c.computed} new + ${c.cached} cached, ${(c.fingerprintMs / 1000).toFixed(1)} s`,
        c.triggerSource === 'bench'
          ? 'the bench (probeTriggers on all probes, full budget)'
          : c.triggerSource === 'fingerprint'
            ? 'fingerprintModel (src/fingerprint/trigger-check.ts)'
            : c.triggerSource,
        c.cacheDir,
      ]),
    ),
  );
  out.push('');

  // held-out figures first (issue #20): every table after this one is tuned on this zoo
  out.push(heldOutSection(r, main, shippedDefault().name));
  for (const cfg of r.configs) out.push(targetsSection(r, cfg.name));
  out.push(tierSection(r));
  for (const cfg of r.configs) {
    out.push(`## Per architecture (probes: ${cfg.name})\n`);
    for (const [arch, a] of Object.entries(r.archs)) out.push(archSection(r, arch, a, cfg.name));
  }

  const ranking = rankCandidates(r, main);
  out.push(`## Candidate ensembles (probes: ${main})\n`);
  out.push(
    'Block set · detector set · combination rule. Score = mean over architectures of (AUROC with all references + mean AUROC with 20) / 2; worst attack = the lowest per-attack AUROC (all references) over both architectures; clean high = the largest share over architectures.\n',
  );
  const archNames = Object.keys(r.archs);
  out.push(
    markdownTable(
      [
        '#',
        'candidate',
        'channels',
        'score',
        'worst attack',
        'max clean high',
        ...archNames.flatMap((x) => [`${x} AUROC all/20`, `${x} TPR all/20`]),
      ],
      ranking.slice(0, 20).map((k, i) => [
        String(i + 1),
        k.name,
        archNames.map((x) => String(r.archs[x].configs[main]?.candidates[k.name]?.channels ?? '-')).join('/'),
        fmt(k.score),
        fmt(k.worstAttackAuroc),
        pct(k.maxCleanHigh),
        ...archNames.flatMap((x) => {
          const m = r.archs[x].configs[main]?.candidates[k.name];
          return [
            `${fmt(m?.all.auroc)} / ${fmt(m?.sub?.auroc)}`,
            `${fmt(m?.all.tpr10, 2)} / ${fmt(m?.sub?.tpr10, 2)}`,
          ];
        }),
      ]),
    ),
  );
  out.push('');
  const pos = (n: string) => ranking.findIndex((k) => k.name === n) + 1;
  out.push(
    `The shipped default ranks #${pos(DEFAULT_NAME)} of ${ranking.length}; the previous default #${pos(PREVIOUS_NAME)}.\n`,
  );

  if (r.configs.length > 1) out.push(crossConfigRanking(r));

  if (r.configs.length > 1) {
    out.push('## Probe configurations compared\n');
    out.push(
      'The shipped default and the best single channel under each probe configuration (AUROC with all references / mean with 20).\n',
    );
    const rows: string[][] = [];
    for (const cfg of r.configs) {
      for (const [arch, a] of Object.entries(r.archs)) {
        const c = a.configs[cfg.name];
        if (!c) continue;
        const d = c.candidates[DEFAULT_NAME];
        const best = Object.entries(c.channels).sort(([, x], [, y]) => y.all.auroc - x.all.auroc)[0];
        const rank = rankCandidates(r, cfg.name)[0];
        const bc = rank ? c.candidates[rank.name] : undefined;
        rows.push([
          cfg.name,
          arch,
          `${fmt(d?.all.auroc)} / ${fmt(d?.sub?.auroc)}`,
          `${fmt(d?.all.tpr10, 2)}`,
          pct(d?.all.cleanHigh),
          best ? `${best[0]} ${fmt(best[1].all.auroc)}` : '-',
          rank ? `${rank.name}: ${fmt(bc?.all.auroc)} / ${fmt(bc?.sub?.auroc)}` : '-',
        ]);
      }
    }
    out.push(
      markdownTable(
        [
          'probes',
          'arch',
          'default AUROC all/20',
          'default TPR',
          'default clean high',
          'best channel',
          'best candidate (this config)',
        ],
        rows,
      ),
    );
    out.push('');
  }

  out.push('## Costs\n');
  const rows: string[][] = [];
  for (const [arch, a] of Object.entries(r.archs)) {
    const c = a.configs[main];
    if (!c) continue;
    const v = c.verification;
    rows.push([
      arch,
      v
        ? `${v.channels} channels: fit ${(v.fitMs / 1000).toFixed(1)} s, score ${v.scoreMsPerModel.toFixed(1)} ms/model; rebuild max rel. p diff ${v.maxRelDiff.toExponential(1)}`
        : '-',
      Object.entries(c.fitMsByDetector)
        .sort(([, x], [, y]) => y - x)
        .map(([d, ms]) => `${d} ${(ms / 1000).toFixed(1)} s`)
        .join(', '),
      `${(c.millis / 1000).toFixed(0)} s`,
    ]);
  }
  out.push(
    markdownTable(
      [
        'arch',
        'real ensemble (shipped channels, Fisher)',
        'channel fitting by detector (all references, all blocks)',
        'bench time',
      ],
      rows,
    ),
  );
  out.push('');
  return out.join('\n');
}
