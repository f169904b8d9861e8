/**
 * `npx tsx bench/text/invert.ts [--corpus man|debian] [--arch cnn] [--split dev] [--variants off,tier,...]
 * [--out NAME] [--refs FILE] [--rows FILE]`: the token trigger search with and without gradient-based trigger inversion
 * (src/selfcheck/token-invert.ts), in this process, on one architecture's split of the text zoo, with the
 * held-out texts (reference-free). Per model and variant: the trigger score, the target class, the inverted
 * phrase of the real target (and whether it holds words of the real trigger), and the scan's time. Metrics:
 * AUROC of the trigger score per attack. `--refs FILE` (an earlier run of this script on the references,
 * e.g. `--split reference --limit 20 --variants tier-ex0`): also the tier gains compared feature by feature
 * with the references' (the max robust z over the 3 tiers x classes, MAD floored at 0.1 spreads: the token
 * gain map's rule, a stand-in for the baseline's view of the "trigger-tiers" block) without the inversion
 * ('greedy'), with the inverted phrases in the longest tier ('tiers', the shipped scoring), and with the
 * inverted gains as further features ('extra'). The settings of the inversion were chosen with this on the
 * man-page zoo's dev split; the held-out corpus is scored through bench:text --token-inversion with them
 * frozen. Writes bench/results/<out>.json and .md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readModel } from '../../src/model/read.js';
import { generateProbes } from '../../src/probes/generate.js';
import { inferVocabSize } from '../../src/model/graph.js';
import { runTokenTriggerCheck } from '../../src/fingerprint/token-trigger-check.js';
import { readVocabulary, wordOf } from '../../src/probes/vocab.js';
import { ModelRunner } from '../../src/model/session.js';
import { auroc as aurocOf } from '../../src/score/metrics.js';
import { loadTextZoo, ROOT, type TextCorpus } from './zoo.js';
import { option } from '../lib/args.js';
import { readFileSync } from 'node:fs';
import { robustZAgainst } from '../../src/selfcheck/logit-stats.js';
import type { TierScore } from '../../src/selfcheck/token-probe.js';
import { inversionVariant, type InversionScoring } from './inversion-variants.js';

/** AUROC of backdoored (positives) against clean scores; null when either side is empty. */
function auroc(clean: number[], bd: number[]): number | null {
  if (clean.length === 0 || bd.length === 0) return null;
  return aurocOf([...clean.map(() => 0), ...bd.map(() => 1)], [...clean, ...bd]);
}

interface Variant {
  id: string;
  inversion: false | { scoring: InversionScoring; exclude?: number };
}

const VARIANTS: Record<string, Variant> = {
  off: { id: 'off', inversion: false },
  tier: { id: 'tier', inversion: { scoring: 'tier' } },
  tiers: { id: 'tiers', inversion: { scoring: 'tiers', exclude: 0 } },
  'tier-ex0': { id: 'tier-ex0', inversion: { scoring: 'tier', exclude: 0 } },
  'tier-ex16': { id: 'tier-ex16', inversion: { scoring: 'tier', exclude: 16 } },
  'tier-ex256': { id: 'tier-ex256', inversion: { scoring: 'tier', exclude: 256 } },
};

interface Row {
  id: string;
  label: string;
  attack: string | null;
  trigger: string[] | null;
  target: number | null;
  variant: string;
  score: number;
  targetClass: number;
  shown: string[];
  /** The real target's inverted phrase (scoring 'tier') and its gain (logit spreads). */
  invertedForTarget: string[] | null;
  invertedGain: number | null;
  invertedHit: boolean | null;
  cpuMs: number;
  wallMs: number;
  passes: number;
  /** Per tier (1..3 tokens) per class the best gain (logit spreads): the "trigger-tiers" block's first half. */
  tierGains: number[][];
  /** Scoring 'tier': per class the inverted tier's gain. */
  invertedGains: number[] | null;
  classScores: number[];
}

async function main(): Promise<void> {
  const corpus = (option('--corpus') ?? 'man') as TextCorpus;
  const arch = option('--arch') ?? 'cnn';
  const split = option('--split') ?? 'dev';
  const variants = (option('--variants') ?? 'off,tiers').split(',').map((v) => VARIANTS[v]);
  const out = option('--out') ?? `text-invert-${corpus}-${arch}-${split}`;
  const zoo = loadTextZoo(false, corpus);
  const vocab = readVocabulary(zoo.vocabFile);
  const models = zoo.models.filter((m) => m.arch === arch && m.split === split);
  const limit = Number(option('--limit') ?? models.length);
  // --rows FILE: the rows of an earlier run (its metrics recomputed, e.g. with --refs), nothing scanned
  const from = option('--rows');
  const rows: Row[] = from ? (JSON.parse(readFileSync(from, 'utf8')).rows as Row[]) : [];
  for (const t of from ? [] : models.slice(0, limit)) {
    const model = await readModel(t.path);
    const vocabByInput: Record<string, number> = {};
    for (const inp of model.inputs) {
      const v = inferVocabSize(model, inp.name);
      if (v) vocabByInput[inp.name] = v;
    }
    const probes = generateProbes(
      model.inputs,
      { samplesDir: zoo.samplesText, vocabFile: zoo.vocabFile },
      { file: model.path, vocabByInput },
    );
    const runner = await ModelRunner.open(model);
    const vocabSize = Object.values(vocabByInput)[0] ?? 0;
    for (const v of variants) {
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      // scoring 'tier': the inverted phrases' own tier, handed back through the seam
      const apart: { tier: TierScore | null } = { tier: null };
      const r = await runTokenTriggerCheck(model, probes, 6, {
        runner,
        vocabFile: zoo.vocabFile,
        ...(v.inversion
          ? { tokenInversion: inversionVariant(v.inversion, vocabSize, (tier) => (apart.tier = tier)) }
          : {}),
      });
      const cpu = process.cpuUsage(c0);
      if (!r) throw new Error(`${t.id}: no token trigger check`);
      const inv = apart.tier;
      const tgt = t.target ?? r.selfCheck.targetClass ?? 0;
      const phrase = inv?.triggers[tgt] ?? null;
      const words = phrase ? phrase.map((x) => wordOf(vocab, x)) : null;
      const row: Row = {
        id: t.id,
        label: t.label,
        attack: t.attack,
        trigger: t.trigger,
        target: t.target,
        variant: v.id,
        score: r.selfCheck.score,
        targetClass: r.selfCheck.targetClass ?? -1,
        shown: r.selfCheck.trigger?.words ?? [],
        invertedForTarget: words,
        invertedGain: inv ? inv.gain[tgt] : null,
        invertedHit: words && t.trigger ? words.some((w) => t.trigger!.includes(w)) : null,
        cpuMs: Math.round((cpu.user + cpu.system) / 1000),
        wallMs: Math.round(performance.now() - w0),
        passes: r.forwardPasses,
        tierGains: r.probe.tiers.map((x) => Array.from(x.gain, (g) => Math.round(g * 1000) / 1000)),
        invertedGains: inv ? Array.from(inv.gain, (g) => Math.round(g * 1000) / 1000) : null,
        classScores: Array.from(r.probe.classScores, (g) => Math.round(g * 1000) / 1000),
      };
      rows.push(row);
      console.error(
        `${t.id} ${v.id}: score ${row.score.toFixed(2)} class ${row.targetClass} shown "${row.shown.join(' ')}" ` +
          `inverted[${tgt}] "${words?.join(' ') ?? '-'}" gain ${row.invertedGain?.toFixed(2) ?? '-'} ` +
          `(${(row.cpuMs / 1000).toFixed(1)} s CPU, ${row.passes} passes)`,
      );
    }
    await runner.release();
  }
  const attacks = [
    ...new Set(rows.filter((r) => r.label === 'backdoored').map((r) => r.attack as string)),
  ].sort();
  const metrics = variants.map((v) => {
    const vr = rows.filter((r) => r.variant === v.id);
    const clean = vr.filter((r) => r.label === 'clean').map((r) => r.score);
    const bd = vr.filter((r) => r.label === 'backdoored');
    const perAttack: Record<string, number | null> = {};
    for (const a of attacks)
      perAttack[a] = auroc(
        clean,
        bd.filter((r) => r.attack === a).map((r) => r.score),
      );
    return {
      variant: v.id,
      auroc: auroc(
        clean,
        bd.map((r) => r.score),
      ),
      perAttack,
      invertedHit: bd.filter((r) => r.invertedHit).length,
      backdoored: bd.length,
      meanCpuMs: Math.round(vr.reduce((a, r) => a + r.cpuMs, 0) / Math.max(1, vr.length)),
    };
  });
  const refsFile = option('--refs');
  const versusRefs = refsFile
    ? compareWithReferences(rows, JSON.parse(readFileSync(refsFile, 'utf8')).rows as Row[])
    : null;
  const res = { generatedAt: new Date().toISOString(), corpus, arch, split, metrics, versusRefs, rows };
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench', 'results', `${out}.json`), JSON.stringify(res, null, 1) + '\n');
  const md = [
    `# Token trigger inversion: ${corpus} corpus, ${arch}, ${split} split (reference-free trigger score, held-out texts)`,
    '',
    `Generated ${res.generatedAt} by \`npx tsx bench/text/invert.ts ${process.argv.slice(2).join(' ')}\`.`,
    '',
    `| variant | AUROC | ${attacks.join(' | ')} | inverted phrase holds a trigger word | mean CPU per search |`,
    `| --- | --- | ${attacks.map(() => '---').join(' | ')} | --- | --- |`,
    ...metrics.map(
      (m) =>
        `| ${m.variant} | ${m.auroc?.toFixed(3) ?? '-'} | ${attacks.map((a) => m.perAttack[a]?.toFixed(2) ?? '-').join(' | ')} | ${m.invertedHit}/${m.backdoored} | ${(m.meanCpuMs / 1000).toFixed(1)} s |`,
    ),
    '',
    ...(versusRefs
      ? [
          `Tier gains against the references (${refsFile}; max robust z, MAD floored at 0.1 spreads; rows of the variant with inverted gains):`,
          '',
          `| features | AUROC | ${attacks.join(' | ')} | clean max z | references' leave-one-out max z |`,
          `| --- | --- | ${attacks.map(() => '---').join(' | ')} | --- | --- |`,
          ...versusRefs.map(
            (m) =>
              `| ${m.mode} | ${m.auroc?.toFixed(3) ?? '-'} | ${attacks.map((a) => m.perAttack[a]?.toFixed(2) ?? '-').join(' | ')} | ${m.cleanMax.toFixed(1)} | ${m.refsMax.toFixed(1)} |`,
          ),
          '',
        ]
      : []),
    '| model | attack | real trigger -> target | variant | score | class | shown | inverted (target) | gain |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.id} | ${r.attack ?? '-'} | ${r.trigger?.join(' ') ?? '-'} -> ${r.target ?? '-'} | ${r.variant} | ${r.score.toFixed(2)} | ${r.targetClass} | ${r.shown.join(' ')} | ${r.invertedForTarget?.join(' ') ?? '-'} | ${r.invertedGain?.toFixed(2) ?? '-'} |`,
    ),
    '',
  ].join('\n');
  writeFileSync(path.join(ROOT, 'bench', 'results', `${out}.md`), md);
  console.error(`wrote bench/results/${out}.json and .md`);
}

type FeatureMode = 'greedy' | 'tiers' | 'extra';

/** A row's tier-gain features: 3 tiers x classes, the inverted gains joined as `mode` says. */
function features(r: Row, mode: FeatureMode): number[] {
  const k = r.classScores.length;
  const tiers = [0, 1, 2].map((t) => r.tierGains[t] ?? new Array<number>(k).fill(0));
  const inv = r.invertedGains ?? new Array<number>(k).fill(0);
  if (mode === 'tiers') tiers[2] = tiers[2].map((g, c) => Math.max(g, inv[c]));
  return [...tiers.flat(), ...(mode === 'extra' ? inv : [])];
}

function maxZ(f: number[], refs: number[][]): number {
  let best = -Infinity;
  f.forEach((x, i) => {
    const [z] = robustZAgainst(
      [x],
      refs.map((r) => r[i]),
      0.1,
    );
    best = Math.max(best, z);
  });
  return best;
}

/** Dev rows with inverted gains against reference rows: AUROC per feature mode. */
function compareWithReferences(rows: Row[], refRows: Row[]) {
  const dev = rows.filter((r) => r.invertedGains);
  const refs = refRows.filter((r) => r.invertedGains);
  const attacks = [
    ...new Set(dev.filter((r) => r.label === 'backdoored').map((r) => r.attack as string)),
  ].sort();
  return (['greedy', 'tiers', 'extra'] as const).map((mode) => {
    const rf = refs.map((r) => features(r, mode));
    const score = new Map(dev.map((r) => [r.id, maxZ(features(r, mode), rf)]));
    const clean = dev.filter((r) => r.label === 'clean').map((r) => score.get(r.id) as number);
    const bd = dev.filter((r) => r.label === 'backdoored');
    const perAttack: Record<string, number | null> = {};
    for (const a of attacks)
      perAttack[a] = auroc(
        clean,
        bd.filter((r) => r.attack === a).map((r) => score.get(r.id) as number),
      );
    const refsMax = Math.max(
      ...rf.map((f, i) =>
        maxZ(
          f,
          rf.filter((_, j) => j !== i),
        ),
      ),
    );
    return {
      mode,
      auroc: auroc(
        clean,
        bd.map((r) => score.get(r.id) as number),
      ),
      perAttack,
      cleanMax: Math.max(...clean),
      refsMax,
    };
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
