/**
 * The text zoo as the benchmarks read it (bench/text/train.py writes it): the models of every zoo folder
 * (bench/.cache/text-zoo, and bench/.cache/text-zoo-<name> for architectures trained apart, in parallel;
 * for the held-out Debian-descriptions corpus, `--corpus debian`, bench/.cache/text-debian-zoo[-<name>]),
 * read from their models.jsonl (so a zoo still training can be studied), each file checked against its sha256.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE = path.join(ROOT, 'bench', '.cache');
/** The text corpora train.py knows (--corpus): the man-page zoo every default was chosen on, and a held-out one. */
export const TEXT_CORPORA = ['man', 'debian'] as const;
export type TextCorpus = (typeof TEXT_CORPORA)[number];

/** A corpus's zoo folder name (text-zoo for the man pages, text-<corpus>-zoo otherwise). */
export function zooName(corpus: TextCorpus): string {
  return corpus === 'man' ? 'text-zoo' : `text-${corpus}-zoo`;
}

/** The zoo folders: <zoo> first (its vocabulary and samples are read), then <zoo>-* by name. */
export function zooDirs(corpus: TextCorpus = 'man', cache = CACHE): string[] {
  const base = zooName(corpus);
  const names = existsSync(cache)
    ? readdirSync(cache)
        .filter((d) => d.startsWith(`${base}-`))
        .sort()
    : [];
  return [base, ...names].map((d) => path.join(cache, d));
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

export function loadTextZoo(verify = true, corpus: TextCorpus = 'man'): TextZoo {
  const dirs = zooDirs(corpus).filter((d) => existsSync(path.join(d, 'models.jsonl')));
  if (dirs.length === 0)
    throw new Error(
      `no text zoo in bench/.cache/${zooName(corpus)}: run \`npm run bench:text-zoo${corpus === 'man' ? '' : ` -- --corpus ${corpus}`}\` first`,
    );
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
    evalDir: path.join(CACHE, corpus === 'man' ? 'text-eval' : `text-eval-${corpus}`),
    dirs,
  };
}
