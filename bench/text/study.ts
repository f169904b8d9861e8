/**
 * In-process study of token trigger probing on the text zoo (`npx tsx bench/text/study.ts [--split dev]
 * [--archs bag,cnn] [--base samples|mined] [--out FILE]`): runs the token trigger check and the embedding
 * statistics on every model of a split, the way a scan does, and keeps per model what the search found
 * (score, per-tier z, the trigger found, where the real trigger word ranks by embedding norm). What the
 * shipped scoring and nulls are tuned on (the dev split); `bench:text` then reports the test split through the
 * CLI. Writes JSON lines to --out (default bench/.cache/text-eval/study-<split>-<base>.jsonl), one per model.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readModel } from '../../src/model/read.js';
import { inferVocabSize } from '../../src/model/graph.js';
import { generateProbes } from '../../src/probes/generate.js';
import { runTokenTriggerCheck } from '../../src/fingerprint/token-trigger-check.js';
import { auroc } from '../../src/score/metrics.js';
import { readVocabulary } from '../../src/probes/vocab.js';
import { loadTextZoo, type TextModel } from './zoo.js';
import { option } from '../lib/args.js';

export interface StudyRow {
  id: string;
  arch: string;
  label: string;
  attack: string | null;
  trigger: string[] | null;
  target: number | null;
  rate: number;
  score: number;
  foundClass: number | undefined;
  found: string[] | null;
  flip: number;
  tierZ: number[][];
  tierGain: number[][];
  tierFlip: number[][];
  /** Rank of the real trigger's first word by embedding outlyingness (0 = most outlying), and its norm z. */
  triggerRank: number | null;
  triggerNormZ: number | null;
  embeddingTopZ: number;
  passes: number;
  ms: number;
  classGains: number[][];
  classScreen: number[][];
}

async function main(): Promise<void> {
  const split = option('--split') ?? 'dev';
  const baseKind = option('--base') ?? 'samples';
  const zoo = loadTextZoo();
  const archs = (option('--archs') ?? 'bag,cnn,transformer').split(',');
  const models = zoo.models.filter((m) => m.split === split && archs.includes(m.arch));
  const vocabFile = zoo.vocabFile;
  const vocab = readVocabulary(vocabFile);
  const out = option('--out') ?? path.join(zoo.evalDir, `study-${split}-${baseKind}.jsonl`);
  mkdirSync(path.dirname(out), { recursive: true });
  const rows: StudyRow[] = [];
  for (const m of models) rows.push(await study(m, baseKind, zoo.samplesText, vocabFile, vocab.ids));
  writeFileSync(out, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  for (const arch of archs) {
    const rs = rows.filter((r) => r.arch === arch);
    if (rs.length === 0) continue;
    const labels = rs.map((r) => (r.label === 'backdoored' ? 1 : 0));
    const a =
      labels.some((l) => l) && labels.some((l) => !l)
        ? auroc(
            labels,
            rs.map((r) => r.score),
          )
        : NaN;
    console.log(`${arch}: ${rs.length} models, trigger-score AUROC ${a.toFixed(3)}`);
  }
  console.log(`wrote ${out}`);
}

async function study(
  m: TextModel,
  baseKind: string,
  samplesText: string,
  vocabFile: string,
  ids: Map<string, number>,
): Promise<StudyRow> {
  const model = await readModel(m.path);
  const name = model.inputs[0].name;
  const v = inferVocabSize(model, name) as number;
  const probes = generateProbes(
    model.inputs,
    baseKind === 'samples' ? { samplesDir: samplesText, vocabFile } : {},
    { vocabByInput: { [name]: v }, file: m.path },
  );
  const t = performance.now();
  const r = await runTokenTriggerCheck(model, probes, 6, { vocabFile });
  const ms = performance.now() - t;
  if (!r) throw new Error(`${m.path}: no token trigger check`);
  const k = 6;
  const tiers = r.tierBlock;
  const tierRows = (off: number) =>
    [0, 1, 2].map((t) => Array.from(tiers.subarray((off + t) * k, (off + t + 1) * k)));
  const words = m.trigger ?? null;
  let triggerRank: number | null = null;
  let triggerNormZ: number | null = null;
  if (words) {
    const id = ids.get(words[0]) as number;
    const score = Array.from(r.embedding.normZ, (z, i) => Math.max(z, r.embedding.offsetZ[i]));
    triggerRank = score.filter((s) => s > score[id]).length;
    triggerNormZ = r.embedding.normZ[id];
  }
  const trig = r.selfCheck.trigger;
  const row: StudyRow = {
    id: m.id,
    arch: m.arch,
    label: m.label,
    attack: m.attack,
    trigger: words,
    target: m.target,
    rate: m.rate,
    score: r.selfCheck.score,
    foundClass: r.selfCheck.targetClass,
    found: trig?.words ?? null,
    flip: trig?.flipRate ?? 0,
    tierZ: [],
    tierGain: tierRows(0),
    tierFlip: tierRows(3),
    triggerRank,
    triggerNormZ,
    embeddingTopZ: Math.max(...Array.from(r.embedding.normZ)),
    passes: r.forwardPasses,
    ms,
    classGains: r.probe.classGains.map((g) => Array.from(g)),
    classScreen: r.probe.classScreen.map((g) => Array.from(g)),
  };
  console.log(
    `${m.id.padEnd(36)} score ${row.score.toFixed(2)} class ${row.foundClass} found "${(row.found ?? []).join(' ')}" flip ${row.flip.toFixed(2)}` +
      (words ? ` | real "${words.join(' ')}" -> ${m.target}, emb rank ${triggerRank}` : '') +
      ` | ${Math.round(ms)} ms, ${row.passes} passes`,
  );
  return row;
}

if (process.argv[1] && process.argv[1].endsWith('study.ts')) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

export { readFileSync };
