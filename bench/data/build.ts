/**
 * `npm run bench:data -- --dataset cifar10|gtsrb [--source GIT_DIR] [--out DIR]...`: assembles real 32x32
 * RGB images kept as small files in a public GitHub repository (bench/data/sources.ts, pinned commits) into
 * cached arrays for the real-size zoo (bench/realsize/) and anyone else who needs a 32x32 RGB domain:
 *
 *   DIR/<dataset>/train-x.npy  uint8 [N, 32, 32, 3] (HWC RGB)     train-y.npy  uint8 [N]
 *   DIR/<dataset>/test-x.npy   the official test split minus the probe samples   test-y.npy
 *   DIR/<dataset>/probe-x.npy  128 held-out test images (stratified, seeded)    probe-y.npy
 *   DIR/<dataset>/probe-samples/NNN-label-K.png   the same 128 as PNGs (`--probe-samples` for the CLI)
 *   DIR/<dataset>/meta.json    source repository and commit, licence, classes, counts, sha256 of every file
 *
 * --source is a clone (or bare snapshot) of the source repository; by default the snapshot the `fetch` tool
 * leaves in /work/.mirror/<owner>+<name>/repo. Default --out: bench/.cache/data (git-ignored). The output
 * is a function of the source commit alone (same bytes on every run).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { Rng } from '../../src/probes/rng.js';
import { decodeJpeg, decodePpm, resizeArea } from './decode.js';
import { checkCommit, listTree, readBlobs, SourceError } from './git-blobs.js';
import { npyUint8 } from './npy.js';
import { SOURCES, type DataSource, type Entry } from './sources.js';

export const SIDE = 32;
export const PROBE_COUNT = 128;
/** Seed of the probe-sample draw (and nothing else: the splits are the datasets' own). */
export const PROBE_SEED = 20261204;
/** Bump when the assembled arrays would change for the same source commit. */
export const DATA_VERSION = 1;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function option(name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < process.argv.length - 1; i++)
    if (process.argv[i] === name) out.push(process.argv[i + 1]);
  return out;
}

/** 128 test indices, as equal per class as the class sizes allow, drawn with a fixed seed. */
export function pickProbes(labels: number[], classes: number, count: number, seed: number): number[] {
  const rng = new Rng(seed);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  labels.forEach((y, i) => byClass[y].push(i));
  for (const list of byClass)
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
  const picked: number[] = [];
  for (let round = 0; picked.length < count; round++) {
    let any = false;
    for (let c = 0; c < classes && picked.length < count; c++)
      if (round < byClass[c].length) {
        picked.push(byClass[c][round]);
        any = true;
      }
    if (!any) break;
  }
  return picked.sort((a, b) => a - b);
}

function decodeAll(src: DataSource, dir: string, entries: Entry[], oids: Map<string, string>): Uint8Array {
  const out = new Uint8Array(entries.length * SIDE * SIDE * 3);
  const CHUNK = 4096;
  for (let s = 0; s < entries.length; s += CHUNK) {
    const part = entries.slice(s, s + CHUNK);
    const blobs = readBlobs(
      dir,
      part.map((e) => oids.get(e.path)!),
    );
    part.forEach((e, k) => {
      const img = src.format === 'jpeg' ? decodeJpeg(blobs[k], e.path) : decodePpm(blobs[k], e.path);
      out.set(resizeArea(img, SIDE), (s + k) * SIDE * SIDE * 3);
    });
  }
  return out;
}

function gather(x: Uint8Array, idx: number[]): Uint8Array {
  const n = SIDE * SIDE * 3;
  const out = new Uint8Array(idx.length * n);
  idx.forEach((i, k) => out.set(x.subarray(i * n, (i + 1) * n), k * n));
  return out;
}

function png(rgb: Uint8Array): Buffer {
  const img = new PNG({ width: SIDE, height: SIDE, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  img.data = Buffer.from(rgb);
  return PNG.sync.write(img, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function build(src: DataSource, sourceDir: string, outDirs: string[]): void {
  checkCommit(sourceDir, src.commit, src.repo);
  const tree = listTree(sourceDir, src.commit);
  const readText = (p: string) => {
    const oid = tree.get(p);
    if (!oid) throw new SourceError(`${src.repo}@${src.commit} has no ${p}`);
    return readBlobs(sourceDir, [oid])[0].toString('utf8');
  };
  // sorted by path: the arrays' order is the tree's, whatever order git lists it in
  const entries = src.entries([...tree.keys()].sort(), readText);
  const t0 = performance.now();
  const split = (s: 'train' | 'test') => entries.filter((e) => e.split === s);
  const train = split('train');
  const test = split('test');
  const trainX = decodeAll(src, sourceDir, train, tree);
  const testAll = decodeAll(src, sourceDir, test, tree);
  const testLabels = test.map((e) => e.label);
  const probeIdx = pickProbes(testLabels, src.classes.length, PROBE_COUNT, PROBE_SEED);
  const probeSet = new Set(probeIdx);
  const restIdx = testLabels.map((_, i) => i).filter((i) => !probeSet.has(i));
  const files: Record<string, Buffer> = {
    'train-x.npy': npyUint8(trainX, [train.length, SIDE, SIDE, 3]),
    'train-y.npy': npyUint8(Uint8Array.from(train.map((e) => e.label)), [train.length]),
    'test-x.npy': npyUint8(gather(testAll, restIdx), [restIdx.length, SIDE, SIDE, 3]),
    'test-y.npy': npyUint8(Uint8Array.from(restIdx.map((i) => testLabels[i])), [restIdx.length]),
    'probe-x.npy': npyUint8(gather(testAll, probeIdx), [probeIdx.length, SIDE, SIDE, 3]),
    'probe-y.npy': npyUint8(Uint8Array.from(probeIdx.map((i) => testLabels[i])), [probeIdx.length]),
  };
  const n = SIDE * SIDE * 3;
  const pngs: Record<string, Buffer> = {};
  probeIdx.forEach((i, k) => {
    const name = `${String(k).padStart(3, '0')}-label-${testLabels[i]}.png`;
    pngs[name] = png(testAll.subarray(i * n, (i + 1) * n));
  });
  const meta = {
    format: 'fingerprint-action-realsize-data',
    dataVersion: DATA_VERSION,
    dataset: src.id,
    source: {
      repo: src.repo,
      url: `https://github.com/${src.repo}`,
      commit: src.commit,
      format: src.format,
      sourceSide: src.sourceSide,
    },
    licence: src.licence,
    citation: src.citation,
    layout: 'uint8 HWC RGB, [N, 32, 32, 3]; labels uint8 [N]',
    resize: src.sourceSide === SIDE ? 'none' : `area average ${src.sourceSide}x${src.sourceSide} -> 32x32`,
    classes: src.classes,
    counts: { train: train.length, test: restIdx.length, probe: probeIdx.length },
    probe: {
      seed: PROBE_SEED,
      rule: `${PROBE_COUNT} images of the official test split, round-robin over classes, never trained or evaluated on`,
      sourcePaths: probeIdx.map((i) => test[i].path),
    },
    sha256: Object.fromEntries(
      [
        ...Object.entries(files),
        ...Object.entries(pngs).map(([k, v]) => [`probe-samples/${k}`, v] as const),
      ].map(([k, v]) => [k, sha256(v)]),
    ),
  };
  for (const out of outDirs) {
    const dir = path.join(out, src.id);
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(path.join(tmp, 'probe-samples'), { recursive: true });
    for (const [k, v] of Object.entries(files)) writeFileSync(path.join(tmp, k), v);
    for (const [k, v] of Object.entries(pngs)) writeFileSync(path.join(tmp, 'probe-samples', k), v);
    writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    console.error(
      `${src.id}: wrote ${dir} (${train.length} train, ${restIdx.length} test, ${probeIdx.length} probe)`,
    );
  }
  console.error(
    `${src.id}: decoded ${entries.length} images in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

function main(): void {
  const [dataset] = option('--dataset');
  const src = SOURCES[dataset as DataSource['id']];
  if (!src) {
    console.error(
      `bench:data: --dataset ${dataset ?? '(missing)'}: expected one of ${Object.keys(SOURCES).join(', ')}`,
    );
    process.exit(2);
  }
  const sourceDir = option('--source')[0] ?? `/work/.mirror/${src.repo.replace('/', '+')}/repo`;
  if (!existsSync(sourceDir)) {
    console.error(
      `bench:data: no copy of ${src.repo} at ${sourceDir}: git clone https://github.com/${src.repo} DIR, ` +
        `then npm run bench:data -- --dataset ${src.id} --source DIR`,
    );
    process.exit(2);
  }
  const outs = option('--out');
  try {
    build(src, sourceDir, outs.length ? outs : [path.join(ROOT, 'bench', '.cache', 'data')]);
  } catch (e) {
    if (e instanceof SourceError) {
      console.error(`bench:data: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
