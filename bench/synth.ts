/**
 * Benchmark of inputs synthesised from the model without data (src/selfcheck/synthesise.ts, issue 19
 * section 3) on the MNIST zoo. For every backdoored model: its OWN trigger's reach (the share of base inputs
 * outside the target class that the trigger, stamped exactly as the zoo poisoned the training data, sends to
 * the target; bench/selfcheck-eval.ts's measure) on three bases: real held-out digits (what the user's samples
 * would give), the mined base (today's no-samples path, mine-base.ts) and the synthesised inputs, one row per
 * synthesis setting. Also: the share of synthesised inputs the model classifies as their class, and the time.
 *
 * With --probe, the trigger check itself (probeTriggers, the product's scoring) runs on the mined and the
 * synthesised bases of every model, clean ones included, and the AUROC clean vs backdoored (no baseline, no
 * samples) and the share of clean models called high (under a Gumbel null fitted on the dev architecture's
 * clean reference models) are reported per architecture.
 *
 * Settings are chosen on the dev architecture (--dev, default mlp) and reported on the other (held out).
 *
 *   npx tsx bench/synth.ts [--zoo bench/.cache/zoo] [--dev mlp] [--archs mlp,cnn]
 *     [--settings 'name:tv=0.05,l2=0.002,bn=0.1,lr=0.05,steps=200,jitter=1,flips=0;...'] [--probe]
 *     [--max-clean 40] [--control 0] [--nulls-from FILE] [--out bench/results] [--name synth]
 *
 * Writes bench/results/<name>.json and <name>.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { logitsSession } from './lib/logits-session.js';
import { readModel } from '../src/model/read.js';
import { auroc } from '../src/score/metrics.js';
import { mineTriggerBase } from '../src/selfcheck/mine-base.js';
import { DEFAULT_TRIGGER_BUDGET, probeTriggers } from '../src/selfcheck/trigger-probe.js';
import {
  conservativeNull,
  fitGumbel,
  triggerPValue,
  TRIGGER_SCORE_NULLS,
  type GumbelNull,
} from '../src/selfcheck/reference-free-p.js';
import { synthesiseInputs, type SynthesiseOptions } from '../src/selfcheck/synthesise.js';
import { loadMnist14 } from './zoo/data.js';
import { type Trigger } from './zoo/triggers.js';
import { triggerReach } from './lib/trigger-reach.js';
import type { ModelRecord, ZooManifest } from './zoo/manifest.js';
import { fmt, markdownTable, round } from './lib/report.js';

import { P_HIGH } from '../src/score/risk.js';

process.env.ORT_DISABLE_TELEMETRY ??= '1';

/** The p-value at or below which the risk score calls "high" (61+): the scan's own threshold. */
const HIGH_P = P_HIGH;
const BASE_COUNT = 128;
/** The reach column of clean models stamped with a backdoored model's trigger (a control: no backdoor there). */
const CONTROL = 'clean (control)';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

type Setting = { name: string; opts: Partial<SynthesiseOptions> };

/** 'name:tv=0.05,l2=0.002;other:...' -> settings (numbers; flips=1 turns mirroring on). */
function parseSettings(text: string): Setting[] {
  return text
    .split(';')
    .filter((s) => s.trim())
    .map((s) => {
      const [name, rest = ''] = s.split(':');
      const opts: Record<string, number | boolean> = {};
      for (const kv of rest.split(',').filter(Boolean)) {
        const [k, v] = kv.split('=');
        opts[k] = k === 'flips' ? v === '1' : Number(v);
      }
      return { name, opts: opts as Partial<SynthesiseOptions> };
    });
}

interface Row {
  id: string;
  arch: string;
  split: string;
  attack: string | null;
  targetClass: number | null;
  base: string;
  /** Backdoored models: share of base inputs outside the target that the own trigger sends there. */
  reach?: number;
  /** Synthesised bases: share classified as their class. */
  reached?: number;
  bnNodes?: number;
  synthMs?: number;
  score?: number;
  suspect?: number;
  /** Union rows only: the Fisher p-value. */
  p?: number;
}

interface Detection {
  auroc: number;
  cleanHigh: number;
  targetHit: number;
  byAttack: Record<string, number | null>;
}

type Entry = ModelRecord & { trigger?: Trigger | null };
interface Loaded {
  families: boolean;
  input: { name: string; shape: (number | string)[]; range: [number, number] };
  output: { name: string; classes: number };
  models: Entry[];
}

/**
 * The MNIST zoo's manifest, or the families zoo's (bench/families: PyTorch-trained, Fashion-MNIST/GTSRB,
 * other attacks; one domain per run, that of `arch`) mapped onto the same fields. Its triggers are stamped by
 * Python, so its models carry none here: the families zoo gives AUROC and clean-high, no reach.
 */
function readManifest(zooDir: string, arch: string): Loaded {
  const raw = JSON.parse(readFileSync(path.join(zooDir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  if (raw.format !== 'fingerprint-action-families-zoo') {
    const m = raw as unknown as ZooManifest & Omit<Loaded, 'families'>;
    return { families: false, input: m.input, output: m.output, models: m.models as Entry[] };
  }
  const domains = raw.domains as Record<string, { classes: number; shape: number[] }>;
  const models = raw.models as {
    id: string;
    file: string;
    arch: string;
    domain: string;
    split: 'reference' | 'test';
    label: string;
    family?: string;
    targetClass?: number | string | null;
  }[];
  const domain = domains[models.find((m) => m.arch === arch)?.domain ?? ''];
  if (!domain) throw new Error(`${zooDir}: no models of architecture ${arch}`);
  const input = raw.input as { name: string; range: [number, number] };
  return {
    families: true,
    input: { name: input.name, shape: ['N', ...domain.shape], range: input.range },
    output: { name: (raw.output as { name: string }).name, classes: domain.classes },
    models: models.map(
      (m) =>
        ({
          id: m.id,
          file: m.file,
          arch: m.arch,
          split: m.split,
          label: m.label === 'clean' ? 'clean' : 'backdoor',
          attack: m.label === 'clean' ? null : (m.family ?? 'unknown'),
          targetClass: typeof m.targetClass === 'number' ? m.targetClass : null,
          trigger: null,
        }) as unknown as Entry,
    ),
  };
}

async function main(): Promise<void> {
  const zooDir = arg('zoo', 'bench/.cache/zoo');
  const dev = arg('dev', 'mlp');
  const archs = arg('archs', 'mlp,cnn').split(',');
  const settings = parseSettings(arg('settings', 'default:'));
  const probe = process.argv.includes('--probe');
  const maxClean = Number(arg('max-clean', '40'));
  const controls = Number(arg('control', '0'));
  const nullsFrom = arg('nulls-from', '');
  const outDir = arg('out', 'bench/results');
  const name = arg('name', 'synth');
  const manifest = readManifest(zooDir, archs[0]);
  const shape = manifest.input.shape.slice(1).map(Number);
  const size = shape.reduce((a, b) => a * b, 1);
  const classes = manifest.output.classes;
  const range = { lo: manifest.input.range[0], hi: manifest.input.range[1] };
  // Real digits for the reach: only the MNIST zoo has stampable triggers (the families zoo's are Python's).
  const samples = manifest.families ? new Float32Array(0) : loadMnist14().test.x.slice(0, BASE_COUNT * size);
  const models = manifest.models.filter((m) => archs.includes(m.arch));
  // Clean models: with --probe, the reference ones (null fit) and the test ones, at most maxClean per split and arch.
  const chosen = models.filter((m) => {
    if (m.label !== 'clean') return true;
    // Without --probe: only --control clean test models per arch (their reach under a borrowed trigger).
    if (!probe)
      return (
        m.split === 'test' &&
        models.filter((o) => o.label === 'clean' && o.arch === m.arch && o.split === 'test').indexOf(m) <
          controls
      );
    // Nulls given (--nulls-from): the reference models would only fit nulls, so they are skipped.
    if (nullsFrom && m.split === 'reference') return false;
    const same = models.filter((o) => o.label === 'clean' && o.arch === m.arch && o.split === m.split);
    return same.indexOf(m) < maxClean;
  });

  const rows: Row[] = [];
  for (const m of chosen) {
    const file = path.join(zooDir, m.file);
    const { run, release } = await logitsSession(
      file,
      { inputName: manifest.input.name, outputName: manifest.output.name },
      shape,
    );
    const backdoor =
      m.label !== 'clean' && m.trigger && m.targetClass !== null && m.targetClass !== undefined;
    // A clean model's control: a backdoored model's trigger and target of the same architecture (the i-th
    // clean model takes the i-th backdoored one's, cyclically). Its reach is what the stamp does without a
    // backdoor: a base that flips into the target under any stamp would show a "reach" there too.
    const control = backdoor
      ? null
      : (() => {
          const bd = models.filter((o) => o.arch === m.arch && o.label !== 'clean' && o.trigger);
          const cl = chosen.filter((o) => o.arch === m.arch && o.label === 'clean');
          return bd.length ? bd[cl.indexOf(m) % bd.length] : null;
        })();
    const source = backdoor ? m : control;
    const common = {
      id: m.id,
      arch: m.arch,
      split: m.split,
      attack: m.label === 'clean' ? null : (m.attack ?? 'unknown'),
      targetClass: m.targetClass ?? null,
    };
    const reachOf = async (base: Float32Array) =>
      source
        ? round(
            await triggerReach(
              run,
              base,
              size,
              classes,
              source.trigger as Trigger,
              source.targetClass as number,
            ),
            3,
          )
        : undefined;
    const mined = await mineTriggerBase(run, shape, {
      classes,
      budget: DEFAULT_TRIGGER_BUDGET,
      seed: 1,
      range,
      count: BASE_COUNT,
    });
    if (!mined) throw new Error(`${m.id}: could not mine a base`);
    const scoreOf = async (base: Float32Array) => {
      if (!probe) return {};
      const r = await probeTriggers(run, base, shape, { classes, budget: mined.probeBudget, seed: 1, range });
      return { score: round(r.selfCheck.score, 4), suspect: r.selfCheck.targetClass };
    };
    if (source) rows.push({ ...common, base: 'samples', reach: await reachOf(samples) });
    rows.push({ ...common, base: 'mined', reach: await reachOf(mined.base), ...(await scoreOf(mined.base)) });
    const model = await readModel(file);
    for (const s of settings) {
      const t0 = performance.now();
      const r = await synthesiseInputs(model, shape, {
        classes,
        seed: 1,
        range,
        count: BASE_COUNT,
        ...s.opts,
      });
      const ms = performance.now() - t0;
      if (!r.synthesised) throw new Error(`${m.id}: not synthesised: ${r.reason}`);
      rows.push({
        ...common,
        base: `synth:${s.name}`,
        reach: await reachOf(r.base),
        reached: round(r.reached, 3),
        bnNodes: r.bnNodes.length,
        synthMs: round(ms, 0),
        ...(await scoreOf(r.base)),
      });
    }
    await release();
    process.stderr.write('.');
  }
  process.stderr.write('\n');

  const bases = ['samples', 'mined', ...settings.map((s) => `synth:${s.name}`)];
  const attacks = [...new Set(rows.filter((r) => r.attack).map((r) => r.attack as string))].sort();
  const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
  const reach: Record<string, Record<string, Record<string, number>>> = {};
  for (const arch of archs) {
    reach[arch] = {};
    for (const base of bases) {
      reach[arch][base] = {};
      for (const attack of [...attacks, 'all', CONTROL]) {
        const v = rows
          .filter(
            (r) =>
              r.arch === arch &&
              r.base === base &&
              r.reach !== undefined &&
              (attack === CONTROL ? !r.attack : r.attack && (attack === 'all' || r.attack === attack)),
          )
          .map((r) => r.reach as number);
        reach[arch][base][attack] = round(mean(v), 3);
      }
    }
  }
  const synthStats = Object.fromEntries(
    archs.map((arch) => [
      arch,
      Object.fromEntries(
        settings.map((s) => {
          const rs = rows.filter((r) => r.arch === arch && r.base === `synth:${s.name}`);
          return [
            s.name,
            {
              reached: round(mean(rs.map((r) => r.reached as number)), 3),
              medianMs: rs.map((r) => r.synthMs as number).sort((a, b) => a - b)[rs.length >> 1],
              bnNodes: rs[0]?.bnNodes ?? 0,
            },
          ];
        }),
      ),
    ]),
  );

  // --probe: AUROC and clean-high share per arch and base; the null fitted on the dev arch's reference clean models.
  const detection: Record<string, Record<string, Detection>> = {};
  const scoredBases = bases.slice(1);
  const nulls: Record<string, GumbelNull> = {};
  if (probe) {
    for (const base of bases.slice(1)) {
      const ref = rows.filter(
        (r) => r.base === base && r.arch === dev && !r.attack && r.split === 'reference',
      );
      // --nulls-from FILE: the nulls an earlier run fitted (e.g. on the MNIST zoo's dev MLPs, for the families zoo).
      const given = nullsFrom
        ? (JSON.parse(readFileSync(nullsFrom, 'utf8')) as { nulls: Record<string, GumbelNull> }).nulls[base]
        : undefined;
      nulls[base] =
        given ??
        (ref.length >= 2
          ? conservativeNull(
              fitGumbel(ref.map((r) => r.score as number)),
              classes,
              ref.length,
              `${dev} ${base}`,
            )
          : TRIGGER_SCORE_NULLS.mined);
    }
    // Per model, a p-value per base under its null; the Fisher union of the mined and a synthesised base
    // (both probed: twice the probing) as one more "base", its p from the chi-square with 4 degrees of freedom.
    const pOf = (r: Row) => triggerPValue(r.score as number, classes, nulls[r.base]);
    for (const s of settings) {
      const synth = `synth:${s.name}`;
      const union = `fisher(mined, ${synth})`;
      for (const m of rows.filter((r) => r.base === 'mined')) {
        const o = rows.find((r) => r.id === m.id && r.base === synth);
        if (!o) continue;
        const x = -2 * (Math.log(pOf(m)) + Math.log(pOf(o)));
        rows.push({ ...m, base: union, score: x, p: Math.exp(-x / 2) * (1 + x / 2) });
      }
      scoredBases.push(union);
    }
    const pValueOf = (r: Row) => r.p ?? pOf(r);
    for (const arch of archs) {
      detection[arch] = {};
      for (const base of scoredBases) {
        const rs = rows.filter((r) => r.arch === arch && r.base === base);
        const neg = rs.filter((r) => !r.attack);
        const pos = rs.filter((r) => r.attack);
        // Clean models called high: the test split (the dev reference models fitted the null).
        const test = neg.filter((r) => r.split !== 'reference' || arch !== dev);
        detection[arch][base] = {
          auroc: round(
            auroc(
              [...neg.map(() => 0), ...pos.map(() => 1)],
              [...neg.map((r) => r.score as number), ...pos.map((r) => r.score as number)],
            ),
            3,
          ),
          cleanHigh: round(test.filter((r) => pValueOf(r) <= HIGH_P).length / Math.max(1, test.length), 3),
          targetHit: round(
            pos.filter((r) => r.suspect === r.targetClass).length / Math.max(1, pos.length),
            3,
          ),
          byAttack: Object.fromEntries(
            attacks.map((a) => {
              const pa = pos.filter((r) => r.attack === a);
              return [
                a,
                pa.length && neg.length
                  ? round(
                      auroc(
                        [...neg.map(() => 0), ...pa.map(() => 1)],
                        [...neg.map((r) => r.score as number), ...pa.map((r) => r.score as number)],
                      ),
                      3,
                    )
                  : null,
              ];
            }),
          ),
        };
      }
    }
  }

  const result = { zoo: zooDir, dev, archs, settings, bases, reach, synthStats, detection, nulls, rows };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(result, null, 1) + '\n');
  const md = markdown(result, attacks);
  writeFileSync(path.join(outDir, `${name}.md`), md);
  console.log(md);
}

function markdown(
  r: {
    zoo: string;
    dev: string;
    archs: string[];
    settings: Setting[];
    bases: string[];
    reach: Record<string, Record<string, Record<string, number>>>;
    synthStats: Record<string, Record<string, { reached: number; medianMs: number; bnNodes: number }>>;
    detection: Record<string, Record<string, Detection>>;
  },
  attacks: string[],
): string {
  const held = (arch: string) =>
    arch === r.dev ? `${arch} (dev: settings chosen here)` : `${arch} (held out)`;
  const lines = [
    '# Inputs synthesised from the model (no data): trigger reach on the zoo',
    '',
    `Zoo \`${r.zoo}\`; generated by \`npx tsx bench/synth.ts${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\`. ` +
      `${BASE_COUNT} inputs per base. Settings were chosen on the ${r.dev} models; the other architecture is held out.`,
    '',
    'Settings: ' +
      r.settings.map((s) => `\`${s.name}\` ${JSON.stringify(s.opts)}`).join('; ') +
      ' (empty: the shipped defaults of src/selfcheck/synthesise.ts).',
    '',
    '## Trigger reach',
    '',
    "Mean over the backdoored models of the share of base inputs (outside the target class) that the model's OWN " +
      'trigger, stamped as the zoo poisoned its training data, sends to the target class. samples = 128 real ' +
      'held-out digits (the reach a user with samples gets); mined = the no-samples base today. ' +
      `${CONTROL}: clean models (with --probe) stamped with a backdoored model's trigger and scored on its ` +
      'target: what a stamp does without a backdoor (a fragile base flips under any stamp; lower is better there).',
    '',
  ];
  for (const arch of r.archs) {
    lines.push(`### ${held(arch)}`, '');
    lines.push(
      markdownTable(
        ['base', ...attacks, 'all', CONTROL],
        r.bases.map((b) => [b, ...[...attacks, 'all', CONTROL].map((a) => fmt(r.reach[arch][b][a], 2))]),
      ),
      '',
    );
  }
  lines.push('## Synthesis', '');
  lines.push(
    markdownTable(
      ['arch', 'setting', 'classified as their class', 'median ms per model', 'BN layers matched'],
      r.archs.flatMap((a) =>
        Object.entries(r.synthStats[a]).map(([s, v]) => [
          a,
          s,
          fmt(v.reached, 3),
          String(v.medianMs),
          String(v.bnNodes),
        ]),
      ),
    ),
    '',
  );
  if (Object.keys(r.detection).length) {
    lines.push('## Trigger check on the base (no baseline, no samples)', '');
    lines.push(
      `AUROC clean vs backdoored of the trigger-probing score; clean called high: p <= ${HIGH_P} under a Gumbel ` +
        `null fitted on the ${r.dev} reference clean models of the same base (counted on the clean models the null did not see; ` +
        'with --nulls-from, the nulls of an earlier run); target hit: the suspected class is the true target. ' +
        'fisher(...): both bases probed, their p-values combined by Fisher (twice the probing).',
      '',
    );
    lines.push(
      markdownTable(
        ['arch', 'base', 'AUROC all', ...attacks, 'clean called high', 'target hit'],
        r.archs.flatMap((a) =>
          Object.entries(r.detection[a]).map(([b, v]) => [
            held(a),
            b,
            fmt(v.auroc, 3),
            ...attacks.map((k) =>
              v.byAttack[k] === null || v.byAttack[k] === undefined ? '-' : fmt(v.byAttack[k] as number, 3),
            ),
            fmt(v.cleanHigh, 3),
            fmt(v.targetHit, 2),
          ]),
        ),
      ),
      '',
    );
  }
  return lines.join('\n');
}

await main();
