/**
 * Natural keywords in token trigger probing (src/selfcheck/token-keywords.ts), chosen on the man-page text
 * zoo's dev split only (`npx tsx bench/text/keywords.ts [--split dev] [--archs bag,cnn] [--sweep]`):
 *   dump   runs the token trigger check on every model of the split with the held-out texts (samples), the way
 *          a scan does, and keeps per model its raw score, its confirmed candidates with their gains, and for
 *          every token among them its share of each class's texts (bench/.cache/text-eval/keywords-<split>.jsonl);
 *   --sweep  reads the dump and, per scope ('class', shipped; 'candidate', inversion-variants.ts) and rule (share, enrichment), scores every model with natural keywords left
 *          out: AUROC (raw vs adjusted), the share of clean / backdoored models at p <= P_HIGH under the shipped
 *          samples null (which bounds the adjusted score: it is never above the raw one),
 *          and how many backdoors have a word of their real trigger discounted (the rule's cost).
 * Never run on the held-out corpus (it chooses constants): it refuses --corpus.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readModel } from '../../src/model/read.js';
import { inferVocabSize } from '../../src/model/graph.js';
import { generateProbes } from '../../src/probes/generate.js';
import { runTokenTriggerCheck } from '../../src/fingerprint/token-trigger-check.js';
import { auroc } from '../../src/score/metrics.js';
import { readVocabulary } from '../../src/probes/vocab.js';
import { P_HIGH } from '../../src/score/risk.js';
import {
  TOKEN_TRIGGER_SCORE_NULLS,
  triggerPValue,
  type GumbelNull,
} from '../../src/selfcheck/reference-free-p.js';
import { keywordAdjustedScore } from '../../src/selfcheck/token-probe.js';
import {
  NATURAL_RULE,
  isNaturalKeyword,
  type ClassWordShares,
  type KeywordRule,
} from '../../src/selfcheck/token-keywords.js';
import { loadTextZoo } from './zoo.js';
import { candidateScopeScore } from './inversion-variants.js';
import { option } from '../lib/args.js';

interface DumpRow {
  id: string;
  arch: string;
  label: string;
  attack: string | null;
  trigger: string[] | null;
  target: number | null;
  score: number;
  found: string[] | null;
  foundClass: number;
  tiers: { tokens: number[]; gain: number[] }[][];
  counts: number[];
  total: number;
  /** token id -> per class the texts holding it (only the tokens of confirmed candidates and of the real trigger) */
  byToken: Record<string, number[]>;
}

const K = 6;

async function dump(split: string, archs: string[], out: string): Promise<void> {
  const zoo = loadTextZoo();
  const vocab = readVocabulary(zoo.vocabFile);
  const models = zoo.models.filter((m) => m.split === split && archs.includes(m.arch));
  const rows: DumpRow[] = [];
  for (const m of models) {
    const model = await readModel(m.path);
    const name = model.inputs[0].name;
    const v = inferVocabSize(model, name) as number;
    const probes = generateProbes(
      model.inputs,
      { samplesDir: zoo.samplesText, vocabFile: zoo.vocabFile },
      { vocabByInput: { [name]: v }, file: m.path },
    );
    const r = await runTokenTriggerCheck(model, probes, K, { vocabFile: zoo.vocabFile });
    if (!r || !r.probe.wordShares) throw new Error(`${m.path}: no token trigger check on texts`);
    const s = r.probe.wordShares;
    const keep = new Set<number>(r.probe.confirmedTiers.flat().flatMap((c) => c.tokens));
    for (const w of m.trigger ?? []) if (vocab.ids.has(w)) keep.add(vocab.ids.get(w) as number);
    const byToken: Record<string, number[]> = {};
    for (const t of keep) byToken[t] = Array.from(s.byToken.get(t) ?? new Int32Array(K));
    const row: DumpRow = {
      id: m.id,
      arch: m.arch,
      label: m.label,
      attack: m.attack,
      trigger: m.trigger,
      target: m.target,
      score: r.selfCheck.score,
      found: r.selfCheck.trigger?.words ?? null,
      foundClass: r.selfCheck.targetClass ?? -1,
      tiers: r.probe.confirmedTiers.map((t) =>
        t.map((c) => ({ tokens: [...c.tokens], gain: Array.from(c.gain) })),
      ),
      counts: Array.from(s.counts),
      total: s.total,
      byToken,
    };
    rows.push(row);
    console.log(
      `${m.id.padEnd(28)} raw ${row.score.toFixed(2)} adj ${(r.selfCheck.keywordAdjusted?.score ?? NaN).toFixed(2)} ` +
        `class ${row.foundClass} "${(row.found ?? []).join(' ')}" discounted [${r.selfCheck.keywordAdjusted?.discounted.map((t) => vocab.words[t]).join(' ')}]` +
        (m.trigger ? ` | real "${m.trigger.join(' ')}" -> ${m.target}` : ''),
    );
  }
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

function sharesOf(r: DumpRow): ClassWordShares {
  return {
    classes: K,
    counts: Int32Array.from(r.counts),
    total: r.total,
    byToken: new Map(Object.entries(r.byToken).map(([t, c]) => [Number(t), Int32Array.from(c)])),
  };
}

function sweep(file: string): void {
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as DumpRow);
  const vocab = readVocabulary(loadTextZoo().vocabFile);
  const rules: KeywordRule[] = [];
  for (const share of [0.1, 0.15, 0.2, 0.3, 0.5])
    for (const enrichment of [2, 4, 8]) rules.push({ share, enrichment });
  // the shipped samples null: the adjusted score is at most the raw score, so the same null bounds it
  const rawNull = TOKEN_TRIGGER_SCORE_NULLS.samples;
  const line = (name: string, scores: number[], nul: GumbelNull, cost: number) => {
    const parts = [name];
    for (const arch of [...new Set(rows.map((r) => r.arch))]) {
      const idx = rows.map((r, i) => i).filter((i) => rows[i].arch === arch);
      const lab = idx.map((i) => (rows[i].label === 'backdoored' ? 1 : 0));
      const sc = idx.map((i) => scores[i]);
      const high = (want: number) =>
        idx.filter((i, j) => lab[j] === want && triggerPValue(scores[i], K, nul) <= P_HIGH).length /
        Math.max(1, lab.filter((l) => l === want).length);
      parts.push(
        `${arch}: AUROC ${auroc(lab, sc).toFixed(3)} clean high ${(100 * high(0)).toFixed(0)}% bd high ${(100 * high(1)).toFixed(0)}%`,
      );
    }
    parts.push(`backdoors with a trigger word discounted: ${cost}`);
    console.log(parts.join(' | '));
  };
  line(
    'raw',
    rows.map((r) => r.score),
    rawNull,
    0,
  );
  for (const scope of ['class', 'candidate'] as const)
    for (const rule of rules) {
      const scores = rows.map((r) => {
        const tiers = r.tiers.map((t) => t.map((c) => ({ tokens: c.tokens, gain: c.gain })));
        return scope === 'class'
          ? keywordAdjustedScore(tiers, sharesOf(r), K, rule).score
          : candidateScopeScore(tiers, sharesOf(r), K, rule);
      });
      const shipped =
        scope === 'class' && rule.share === NATURAL_RULE.share && rule.enrichment === NATURAL_RULE.enrichment;
      // the rule's cost: backdoors with a word of their real trigger a natural keyword of their target
      const cost = rows.filter(
        (r) =>
          r.trigger &&
          r.target !== null &&
          r.trigger.some(
            (w) =>
              vocab.ids.has(w) &&
              isNaturalKeyword(sharesOf(r), vocab.ids.get(w) as number, r.target as number, rule),
          ),
      );
      line(
        `${scope} share ${rule.share} enr ${rule.enrichment}${shipped ? ' (shipped)' : ''}`,
        scores,
        rawNull,
        cost.length,
      );
      if (cost.length)
        console.log(
          `   discounted triggers: ${cost.map((r) => `${r.id} "${r.trigger?.join(' ')}"`).join(', ')}`,
        );
    }
}

async function main(): Promise<void> {
  if (option('--corpus')) {
    console.error('bench/text/keywords.ts chooses constants: the man-page zoo only (no --corpus)');
    process.exit(2);
  }
  const split = option('--split') ?? 'dev';
  const archs = (option('--archs') ?? 'bag,cnn').split(',');
  const out = path.join(loadTextZoo().evalDir, `keywords-${split}.jsonl`);
  if (!process.argv.includes('--sweep') || !existsSync(out)) await dump(split, archs, out);
  sweep(out);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
