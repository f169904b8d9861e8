/**
 * Loads the FP-13 oracle (200 x 512 float32 fingerprints + scikit-learn's per-seed splits and scores) from
 * ../shared/oracles when present, else from the copy kept with the tests.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mat, selectRows, type Mat } from '../../src/detect/linalg.js';

export interface Fp13Seed {
  seed: string;
  train: Mat;
  test: Mat;
  /** 1 = backdoored, per test row. */
  testLabels: number[];
  sklearnScores: Record<string, number[]>;
  sklearnAuroc: Record<string, number>;
}

export interface Fp13 {
  all: Mat;
  labels: number[];
  seeds: Fp13Seed[];
  published: Record<string, number>;
  meanAuroc: Record<string, number>;
}

interface Meta {
  shape: [number, number];
  labels: number[];
  seeds: Record<
    string,
    { train_clean_rows: number[]; test_rows: number[]; test_scores: Record<string, number[]>; auroc: Record<string, number> }
  >;
  published: Record<string, number>;
  mean_auroc: Record<string, number>;
}

export function fp13Dir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const shared = join(here, '..', '..', '..', 'shared', 'oracles', 'fp13');
  return existsSync(join(shared, 'meta.json')) ? shared : join(here, '..', '..', '__tests__', 'fixtures', 'oracles', 'fp13');
}

export function loadFp13(dir = fp13Dir()): Fp13 {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta;
  const buf = readFileSync(join(dir, 'X.f32'));
  const [n, d] = meta.shape;
  const f32 = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) f32[i] = buf.readFloatLE(i * 4);
  const all = mat(n, d, f32);
  const seeds = Object.entries(meta.seeds).map(([seed, s]) => ({
    seed,
    train: selectRows(all, s.train_clean_rows),
    test: selectRows(all, s.test_rows),
    testLabels: s.test_rows.map((i) => meta.labels[i]),
    sklearnScores: s.test_scores,
    sklearnAuroc: s.auroc,
  }));
  return { all, labels: meta.labels, seeds, published: meta.published, meanAuroc: meta.mean_auroc };
}
