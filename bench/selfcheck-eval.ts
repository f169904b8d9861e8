/**
 * Benchmark of the reference-free trigger self-check (src/selfcheck) on the model zoo: every zoo model is
 * probed with several kinds of base inputs (real held-out digits = user samples; the project's default mixed
 * probe set; uniform noise; "mined": per model, the most confidently classified inputs of a generated pool,
 * src/selfcheck/mine-base.ts, exactly as the product's no-samples path runs it), and the score's AUROC clean-vs-backdoored is reported per attack and
 * architecture, with the suspected-target accuracy, timing, and the Gumbel null fitted on the clean
 * reference models (the constants shipped in src/selfcheck/reference-free-p.ts) and checked on the held-out
 * clean test models.
 *
 * Trigger reach: for every backdoored model, the share of base inputs (not already in the target class) that
 * its OWN trigger, stamped exactly as the zoo poisoned the training data, sends to the target class. It says
 * whether a base can show the backdoor at all, whatever the probing's search finds. "mined-border" is a
 * diagnostic base (not a product path): the mined base with a border of --border pixels (default 3) set to
 * the range's low value, as the zoo's real digits have.
 *
 *   npx tsx bench/selfcheck-eval.ts [--zoo bench/.cache/zoo] [--budget 48000] [--base-count 64]
 *     [--bases samples,probes,mined] (also: noise, probes:<kind>, mined-border) [--border 3]
 *     [--out bench/results] [--detail] [--note "text for the report"]
 *
 * Writes bench/results/selfcheck.json and bench/results/selfcheck.md.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { logitsSession } from './lib/logits-session.js';
import { generateProbes } from '../src/probes/generate.js';
import { Rng } from '../src/probes/rng.js';
import type { ProbeKind } from '../src/probes/types.js';
import { auroc } from '../src/score/metrics.js';
import {
  conservativeNull,
  fitGumbel,
  triggerPValue,
  TRIGGER_SCORE_NULLS,
  type GumbelNull,
} from '../src/selfcheck/reference-free-p.js';
import { DEFAULT_TRIGGER_BUDGET, probeTriggers } from '../src/selfcheck/trigger-probe.js';
import { mineTriggerBase } from '../src/selfcheck/mine-base.js';
import { loadMnist14 } from './zoo/data.js';
import { type Trigger as ZooTrigger } from './zoo/triggers.js';
import { triggerReach } from './lib/trigger-reach.js';

import { P_HIGH } from '../src/score/risk.js';

process.env.ORT_DISABLE_TELEMETRY ??= '1';

/** The p-value at or below which the risk score calls "high" (61+): the scan's own threshold. */
const HIGH_P = P_HIGH;
/** Base inputs per model (--base-count). */
let BASE_COUNT = 128;
/** samples | probes (the default mixed probe set) | probes:<kind>[+<kind>] (one probe kind) | noise | mined. */
type BaseKind = string;

interface ZooEntry {
  id: string;
  file: string;
  arch: string;
  split: string;
  label: string;
  attack: string | null;
  targetClass: number | null;
  asr?: number | null;
  trigger?: ZooTrigger | null;
}
interface Manifest {
  input: { name: string; shape: (number | string)[]; range: [number, number] };
  output: { name: string; classes: number };
  models: ZooEntry[];
}

interface Row {
  id: string;
  arch: string;
  split: string;
  attack: string | null;
  targetClass: number | null;
  base: BaseKind;
  score: number;
  suspect: number | undefined;
  p: number;
  flipRate: number;
  trigger: string;
  ms: number;
  passes: number;
  /** Backdoored models: share of base inputs outside the target that the model's own trigger sends there. */
  reach?: number;
  /** Mined base only: kept inputs per class the model assigns them to. */
  minedPerClass?: number[];
  /** Per family: robust z of every class's gain curve (for trying other combinations offline). */
  familyZ: Record<string, number[]>;
  /** Per family: best margin gain and flip rate per tier and class (tier-major), for offline analysis. */
  tierGain: Record<string, number[]>;
  tierFlip: Record<string, number[]>;
}

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

function baseInputs(kind: BaseKind, shape: number[], inputName: string): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  // Mined per model (below); nothing shared.
  if (kind.startsWith('mined')) return new Float32Array(0);
  if (kind === 'samples') return loadMnist14().test.x.slice(0, BASE_COUNT * size);
  if (kind === 'noise') return new Rng('selfcheck-noise').uniforms(BASE_COUNT * size);
  const kinds = kind.startsWith('probes:') ? (kind.slice(7).split('+') as ProbeKind[]) : 'mixed';
  const set = generateProbes([{ name: inputName, dtype: 'float32', shape: ['N', ...shape] }], {
    count: BASE_COUNT,
    seed: 0,
    kinds,
  });
  return Float32Array.from(set.inputs[0].data as Float32Array);
}

/**
 * Attack groups reported beside the single attacks: "patch" = badnets-corner + badnets-random together (the
 * issue's "patch triggers" target; the adaptive attacker also uses a patch but is reported on its own).
 */
const GROUPS = ['patch'] as const;

function inGroup(attack: string, group: string): boolean {
  if (group === 'patch') return attack === 'badnets-corner' || attack === 'badnets-random';
  return attack === group;
}

/** The shipped null that applies to a kind of base input. */
function shippedNullFor(base: BaseKind): GumbelNull {
  if (base === 'samples') return TRIGGER_SCORE_NULLS.samples;
  return base.startsWith('mined') ? TRIGGER_SCORE_NULLS.mined : TRIGGER_SCORE_NULLS.probes;
}

/** Sets a border of `width` pixels of every [C,H,W] image in `base` to `lo`, in place. */
function clearBorder(base: Float32Array, shape: number[], width: number, lo: number): void {
  const [h, w] = shape.slice(-2);
  const plane = h * w;
  for (let at = 0; at + plane <= base.length; at += plane)
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++)
        if (r < width || c < width || r >= h - width || c >= w - width) base[at + r * w + c] = lo;
}

function round(v: number, d = 3): number {
  return Math.round(v * 10 ** d) / 10 ** d;
}

async function main(): Promise<void> {
  const zooDir = arg(
    'zoo',
    existsSync('bench/.cache/zoo/manifest.json') ? 'bench/.cache/zoo' : 'bench/.cache/zoo-quick',
  );
  const budget = Number(arg('budget', String(DEFAULT_TRIGGER_BUDGET)));
  const bases = arg('bases', 'samples,probes,mined').split(',') as BaseKind[];
  const outDir = arg('out', 'bench/results');
  const border = Number(arg('border', '3'));
  BASE_COUNT = Number(arg('base-count', String(BASE_COUNT)));
  const manifest = JSON.parse(readFileSync(path.join(zooDir, 'manifest.json'), 'utf8')) as Manifest;
  const shape = manifest.input.shape.slice(1).map(Number);
  const classes = manifest.output.classes;
  const range = { lo: manifest.input.range[0], hi: manifest.input.range[1] };
  const baseData = new Map(bases.map((b) => [b, baseInputs(b, shape, manifest.input.name)] as const));

  const rows: Row[] = [];
  for (const m of manifest.models) {
    const { run, release } = await logitsSession(
      path.join(zooDir, m.file),
      { inputName: manifest.input.name, outputName: manifest.output.name },
      shape,
    );
    for (const base of bases) {
      const t0 = performance.now();
      // "mined": the product's no-samples path (mineTriggerBase, then probing with the budget left).
      const mined = base.startsWith('mined')
        ? await mineTriggerBase(run, shape, { classes, budget, seed: 1, range, count: BASE_COUNT })
        : null;
      if (base.startsWith('mined') && !mined)
        throw new Error(`${m.id}: the budget is too small to mine a base`);
      if (mined && base === 'mined-border') clearBorder(mined.base, shape, border, range.lo);
      const inputs = mined ? mined.base : (baseData.get(base) as Float32Array);
      const r = await probeTriggers(run, inputs, shape, {
        classes,
        budget: mined ? mined.probeBudget : budget,
        seed: 1,
        range,
      });
      const ms = performance.now() - t0;
      // Outside the timing: the reach check is the bench's, not the product's.
      const reach =
        m.label !== 'clean' && m.trigger && m.targetClass !== null
          ? await triggerReach(
              run,
              inputs,
              shape.reduce((a, b) => a * b, 1),
              classes,
              m.trigger,
              m.targetClass,
            )
          : undefined;
      rows.push({
        id: m.id,
        arch: m.arch,
        split: m.split,
        attack: m.label === 'clean' ? null : (m.attack ?? 'unknown'),
        targetClass: m.targetClass,
        base,
        score: round(r.selfCheck.score),
        suspect: r.selfCheck.targetClass,
        p: triggerPValue(r.selfCheck.score, classes, shippedNullFor(base)),
        flipRate: round(r.selfCheck.trigger?.flipRate ?? 0),
        trigger: `${r.selfCheck.trigger?.kind} ${r.selfCheck.trigger?.location}`,
        ms: round(ms, 1),
        passes: r.forwardPasses + (mined?.forwardPasses ?? 0),
        ...(reach !== undefined ? { reach: round(reach) } : {}),
        minedPerClass: mined?.perClass,
        familyZ: Object.fromEntries(r.families.map((f) => [f.family, Array.from(f.z, (v) => round(v))])),
        tierGain: Object.fromEntries(
          r.families.map((f) => [f.family, Array.from(f.tierGain, (v) => round(v))]),
        ),
        tierFlip: Object.fromEntries(
          r.families.map((f) => [f.family, Array.from(f.tierFlip, (v) => round(v))]),
        ),
      });
    }
    await release();
    process.stderr.write('.');
  }
  process.stderr.write('\n');

  // AUROC per base x arch x attack (clean models of both splits are the negatives).
  const attacks = [...new Set(rows.filter((r) => r.attack).map((r) => r.attack as string))].sort();
  const archs = [...new Set(rows.map((r) => r.arch))].sort();
  const aurocs: Record<string, Record<string, Record<string, number | null>>> = {};
  const targetHit: Record<string, Record<string, number>> = {};
  for (const base of bases) {
    aurocs[base] = {};
    targetHit[base] = {};
    for (const arch of [...archs, 'all']) {
      aurocs[base][arch] = {};
      const mine = rows.filter((r) => r.base === base && (arch === 'all' || r.arch === arch));
      const neg = mine.filter((r) => !r.attack);
      for (const attack of [...attacks, ...GROUPS, 'all']) {
        const pos = mine.filter((r) => r.attack && (attack === 'all' || inGroup(r.attack, attack)));
        aurocs[base][arch][attack] =
          pos.length && neg.length
            ? round(
                auroc(
                  [...neg.map(() => 0), ...pos.map(() => 1)],
                  [...neg.map((r) => r.score), ...pos.map((r) => r.score)],
                ),
              )
            : null;
      }
    }
    for (const attack of attacks) {
      const pos = rows.filter((r) => r.base === base && r.attack === attack);
      targetHit[base][attack] = round(
        pos.filter((r) => r.suspect === r.targetClass).length / Math.max(1, pos.length),
      );
    }
  }

  // Trigger reach per base x attack: mean and smallest share over the backdoored models.
  const reach: Record<string, Record<string, { mean: number; min: number; models: number } | null>> = {};
  for (const base of bases) {
    reach[base] = {};
    for (const attack of [...attacks, ...GROUPS]) {
      const v = rows
        .filter((r) => r.base === base && r.attack && inGroup(r.attack, attack) && r.reach !== undefined)
        .map((r) => r.reach as number);
      reach[base][attack] = v.length
        ? {
            mean: round(v.reduce((a, b) => a + b, 0) / v.length, 2),
            min: round(Math.min(...v), 2),
            models: v.length,
          }
        : null;
    }
  }

  // Null: fit on clean reference models (samples base), check on clean test models and by 2-fold CV.
  const nullFits: Record<string, unknown> = {};
  const fitted: Record<string, GumbelNull> = {};
  for (const base of bases) {
    const clean = rows.filter((r) => r.base === base && !r.attack);
    const ref = clean.filter((r) => r.split === 'reference');
    const test = clean.filter((r) => r.split !== 'reference');
    if (ref.length < 2) continue;
    const fit = conservativeNull(
      fitGumbel(ref.map((r) => r.score)),
      classes,
      ref.length,
      `${zooDir} ${base}`,
    );
    const highShare = (set: Row[], nm: GumbelNull) =>
      set.length
        ? round(set.filter((r) => triggerPValue(r.score, classes, nm) <= HIGH_P).length / set.length)
        : null;
    const even = clean.filter((_, i) => i % 2 === 0);
    const odd = clean.filter((_, i) => i % 2 === 1);
    const cv = [
      [even, odd],
      [odd, even],
    ].map(([a, b]) =>
      a.length >= 2
        ? highShare(b, conservativeNull(fitGumbel(a.map((r) => r.score)), classes, a.length, 'cv'))
        : null,
    );
    const backdoored = rows.filter((r) => r.base === base && r.attack);
    nullFits[base] = {
      fitted: { location: round(fit.location), scale: round(fit.scale), models: ref.length },
      cleanTestHighShare: highShare(test, fit),
      cvHighShare: cv,
      shippedNullCleanHighShare: highShare(clean, shippedNullFor(base)),
      shippedNullCleanHighShareByArch: Object.fromEntries(
        archs.map((a) => [
          a,
          highShare(
            clean.filter((r) => r.arch === a),
            shippedNullFor(base),
          ),
        ]),
      ),
      shippedNullBackdoorHighShare: highShare(backdoored, shippedNullFor(base)),
    };
    fitted[base] = fit;
  }

  const ms = rows.map((r) => r.ms).sort((a, b) => a - b);
  const timing = {
    medianMs: ms[ms.length >> 1],
    maxMs: ms[ms.length - 1],
    byArch: Object.fromEntries(
      archs.map((a) => {
        const t = rows
          .filter((r) => r.arch === a)
          .map((r) => r.ms)
          .sort((x, y) => x - y);
        return [a, { medianMs: t[t.length >> 1], maxMs: t[t.length - 1] }];
      }),
    ),
    budget,
  };
  const result = {
    zoo: zooDir,
    models: manifest.models.length,
    bases,
    budget,
    aurocs,
    targetHit,
    reach,
    border,
    null: nullFits,
    fittedNulls: fitted,
    shippedNulls: TRIGGER_SCORE_NULLS,
    timing,
    rows,
  };
  mkdirSync(outDir, { recursive: true });
  // Per-tier details are large (8 x classes x tiers per row): kept only with --detail.
  const compact = process.argv.includes('--detail')
    ? result
    : { ...result, rows: rows.map(({ familyZ: _z, tierGain: _g, tierFlip: _f, ...rest }) => rest) };
  writeFileSync(path.join(outDir, 'selfcheck.json'), JSON.stringify(compact, null, 1) + '\n');
  writeFileSync(path.join(outDir, 'selfcheck.md'), markdown(result, attacks, archs));
  console.log(markdown(result, attacks, archs));
}

function markdown(
  r: {
    zoo: string;
    models: number;
    bases: BaseKind[];
    budget: number;
    aurocs: Record<string, Record<string, Record<string, number | null>>>;
    targetHit: Record<string, Record<string, number>>;
    reach: Record<string, Record<string, { mean: number; min: number; models: number } | null>>;
    border: number;
    null: Record<string, unknown>;
    timing: { medianMs: number; maxMs: number; byArch: Record<string, { medianMs: number; maxMs: number }> };
  },
  attacks: string[],
  archs: string[],
): string {
  const lines: string[] = [];
  lines.push('# Reference-free trigger self-check on the zoo');
  lines.push('');
  lines.push(
    `Zoo: \`${r.zoo}\` (${r.models} models). Budget ${r.budget} forward passes per model and base; ` +
      `${BASE_COUNT} base inputs (samples = held-out real digits). ` +
      'Generated by `npx tsx bench/selfcheck-eval.ts`. No baseline or reference model is used for the score.',
  );
  const note = arg('note', '');
  if (note) lines.push('', note);
  lines.push('');
  lines.push('## AUROC, clean vs backdoored (score = trigger self-check score)');
  lines.push('');
  lines.push(`| base inputs | arch | ${[...attacks, ...GROUPS].join(' | ')} | all |`);
  lines.push(`|---|---|${[...attacks, ...GROUPS].map(() => '---|').join('')}---|`);
  for (const base of r.bases) {
    for (const arch of [...archs, 'all']) {
      const row = r.aurocs[base][arch];
      lines.push(
        `| ${base} | ${arch} | ${[...attacks, ...GROUPS, 'all'].map((a) => (row[a] === null ? '-' : String(row[a]))).join(' | ')} |`,
      );
    }
  }
  lines.push('');
  lines.push('## Suspected target class = true target (share of backdoored models)');
  lines.push('');
  lines.push(`| base inputs | ${attacks.join(' | ')} |`);
  lines.push(`|---|${attacks.map(() => '---|').join('')}`);
  for (const base of r.bases)
    lines.push(`| ${base} | ${attacks.map((a) => r.targetHit[base][a]).join(' | ')} |`);
  lines.push('');
  lines.push('## Trigger reach: does the backdoor fire on the base inputs at all?');
  lines.push('');
  lines.push(
    "Share of the base inputs (outside the target class) that each backdoored model's OWN trigger, stamped as " +
      'the zoo poisoned its training data, sends to the target class: mean over the models (smallest). The ' +
      'probing cannot show a backdoor on inputs where even the true trigger does not fire. ' +
      `mined-border = the mined base with a ${r.border}-pixel border set to the low value (a diagnostic, not a ` +
      'product path).',
  );
  lines.push('');
  lines.push(`| base inputs | ${[...attacks, ...GROUPS].join(' | ')} |`);
  lines.push(`|---|${[...attacks, ...GROUPS].map(() => '---|').join('')}`);
  for (const base of r.bases)
    lines.push(
      `| ${base} | ${[...attacks, ...GROUPS]
        .map((a) => {
          const v = r.reach[base][a];
          return v ? `${v.mean.toFixed(2)} (${v.min.toFixed(2)})` : '-';
        })
        .join(' | ')} |`,
    );
  lines.push('');
  lines.push('## Reference-free p-value (Gumbel null of the max class score)');
  lines.push('');
  lines.push('```json');
  lines.push(JSON.stringify(r.null, null, 1));
  lines.push('```');
  lines.push('');
  lines.push(
    `"HighShare" = share of models with p <= ${HIGH_P}. Clean shares must stay <= 0.05 (fit on reference clean models, ` +
      'checked on held-out clean models and by 2-fold cross-validation).',
  );
  lines.push('');
  lines.push('## Timing (one core, ORT intra-op threads = 1)');
  lines.push('');
  lines.push(`Median ${r.timing.medianMs} ms, max ${r.timing.maxMs} ms per model and base.`);
  for (const [a, t] of Object.entries(r.timing.byArch))
    lines.push(`- ${a}: median ${t.medianMs} ms, max ${t.maxMs} ms`);
  lines.push('');
  return lines.join('\n');
}

await main();
