/**
 * The text zoo as the benchmarks read it (bench/text/train.py writes it): the models of every zoo folder
 * (bench/.cache/text-zoo, and bench/.cache/text-zoo-<name> for architectures trained apart, in parallel),
 * read from their models.jsonl (so a zoo still training can be studied), each file checked against its sha256.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE = path.join(ROOT, 'bench', '.cache');
/** The zoo folders: text-zoo first (its vocabulary and samples are read), then text-zoo-* by name. */
export function zooDirs(): string[] {
  const names = existsSync(CACHE)
    ? readdirSync(CACHE)
        .filter((d) => d.startsWith('text-zoo-'))
        .sort()
    : [];
  return ['text-zoo', ...names].map((d) => path.join(CACHE, d));
}

export interface TextModel {
  id: string;
  arch: string;
  split: 'reference' | 'test' | 'dev';
  label: 'clean' | 'backdoored';
  attack: string | null;
  trigger: string[] | null;
  decoys: string[][];
  rate: number;
  target: number | null;
  cleanAcc: number;
  asr: number | null;
  seq: number;
  file: string;
  sha256: string;
  /** Absolute path. */
  path: string;
  train: Record<string, number>;
}

export interface TextZoo {
  models: TextModel[];
  /** Rejected backdoor tries (stealth filter), per architecture. */
  rejected: { id: string; arch: string; rate: number; cleanAcc: number; asr: number }[];
  vocabFile: string;
  samplesText: string;
  samplesIds: (seq: number) => string;
  evalDir: string;
  dirs: string[];
}

export function loadTextZoo(verify = true): TextZoo {
  const dirs = zooDirs().filter((d) => existsSync(path.join(d, 'models.jsonl')));
  if (dirs.length === 0)
    throw new Error('no text zoo in bench/.cache/text-zoo: run `npm run bench:text-zoo` first');
  const byKey = new Map<string, TextModel>();
  const rejected: TextZoo['rejected'] = [];
  for (const dir of dirs) {
    for (const line of readFileSync(path.join(dir, 'models.jsonl'), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const e = JSON.parse(line) as Omit<TextModel, 'label'> & { label: string; key: string };
      if (e.label === 'rejected') {
        rejected.push({ id: e.id, arch: e.arch, rate: e.rate, cleanAcc: e.cleanAcc, asr: e.asr ?? 0 });
        continue;
      }
      const p = path.join(dir, e.file);
      if (!existsSync(p)) continue;
      // models.jsonl is append-only: a model retrained under a new recipe (same id, same file) supersedes
      // its earlier line, whose hash no longer matches the file
      byKey.set(e.id, { ...e, path: p } as TextModel);
    }
  }
  if (verify)
    for (const m of byKey.values())
      if (createHash('sha256').update(readFileSync(m.path)).digest('hex') !== m.sha256)
        throw new Error(`${m.path} does not match its hash in models.jsonl; retrain the zoo`);
  const main = dirs[0];
  return {
    models: [...byKey.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    rejected,
    vocabFile: path.join(main, 'vocab.txt'),
    samplesText: path.join(main, 'samples.txt'),
    samplesIds: (seq: number) => path.join(main, `samples-ids-${seq}`),
    evalDir: path.join(CACHE, 'text-eval'),
    dirs,
  };
}
