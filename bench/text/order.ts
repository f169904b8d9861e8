/**
 * bench:text --order: which screening order puts a rare-word backdoor's trigger word first, when the
 * budget cannot screen every vocabulary entry (src/selfcheck/token-probe.ts step 2). For every test-split
 * rare-word backdoor (with and without decoys), the trigger word's rank among the vocabulary in: today's
 * order (embedding rows that stand out, src/selfcheck/token-candidates.ts); the first-order (HotFlip)
 * ranking of the target class alone (src/selfcheck/token-hotflip.ts, gradients through src/model/grad on
 * the first 16 held-out texts); and the order the search screens with gradients (today's order interleaved
 * with every class's ranking). Rank 0 = screened first. Models whose graph has no gradient are counted.
 */
import { readFileSync } from 'node:fs';
import { readModel } from '../../src/model/read.js';
import { embeddingStats, findEmbedding } from '../../src/fingerprint/embedding-stats.js';
import { openTokenGradient } from '../../src/fingerprint/token-gradient.js';
import { readVocabulary } from '../../src/probes/vocab.js';
import { padIds, tokeniseText } from '../../src/probes/text-samples.js';
import { tokenCandidateOrder } from '../../src/selfcheck/token-candidates.js';
import { HOTFLIP_TEXTS, interleave, rankByGradient } from '../../src/selfcheck/token-hotflip.js';
import { textLengths } from '../../src/selfcheck/token-insert.js';
import type { TextZoo } from './zoo.js';

export interface OrderRow {
  arch: string;
  model: string;
  word: string;
  /** Ranks of the trigger word (0 = first); null: no gradient for this graph. */
  outlier: number;
  targetGradient: number | null;
  merged: number | null;
}

export async function screeningOrders(zoo: TextZoo, archs: string[]): Promise<OrderRow[]> {
  const vocab = readVocabulary(zoo.vocabFile);
  const texts = readFileSync(zoo.samplesText, 'utf8').split('\n').filter(Boolean).slice(0, HOTFLIP_TEXTS);
  const pad = vocab.pad ?? 0;
  const rows: OrderRow[] = [];
  for (const m of zoo.models) {
    if (!archs.includes(m.arch) || m.split !== 'test' || !(m.attack ?? '').startsWith('rare') || !m.trigger)
      continue;
    const model = await readModel(m.path);
    const table = findEmbedding(model, model.inputs[0].name);
    const id = vocab.ids.get(m.trigger[0]);
    if (!table || id === undefined) continue;
    const outlier = Array.from(tokenCandidateOrder(table.vocab, embeddingStats(table)));
    const ids = new Int32Array(texts.length * m.seq);
    texts.forEach((t, i) => ids.set(padIds(tokeniseText(t, vocab, zoo.samplesText), m.seq, pad), i * m.seq));
    const grad = await openTokenGradient(model, table, m.seq);
    let targetGradient: number | null = null;
    let merged: number | null = null;
    if (grad) {
      const classes = Number(model.outputs[0].shape[1]);
      const ranked = await rankByGradient(
        grad.context,
        ids,
        texts.length,
        m.seq,
        textLengths(ids, texts.length, m.seq, pad),
        classes,
        (v) => v === pad,
      );
      await grad.release();
      targetGradient = ranked[m.target ?? 0].indexOf(id);
      merged = interleave([outlier.filter((v) => v !== pad), ...ranked]).indexOf(id);
    }
    rows.push({
      arch: m.arch,
      model: m.id,
      word: m.trigger[0],
      outlier: outlier.indexOf(id),
      targetGradient,
      merged,
    });
  }
  return rows;
}
