/**
 * Baselines of thousands of models across runners: `baseline build --shard i/n` fingerprints one slice
 * of the models and writes a partial (fingerprints + partial.json, no fitting); `baseline merge
 * PARTIALS... --out DIR` checks that the partials agree (signature, architecture, probe set, layers),
 * gathers their fingerprints and fits and calibrates the whole. Members are sorted by model hash before
 * fitting, so the merged baseline has the same id as one unsharded build of the same models. A partial
 * records its features version (FEATURES_VERSION); partials of another version than this tool's, or of
 * mixed versions, are refused: their blocks would mean different things under the same names.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { readFingerprint } from '../fingerprint/format.js';
import { FEATURES_VERSION, featuresVersionOf } from '../fingerprint/types.js';
import { sha256Hex } from '../util/hash.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import type { BaselineBuildOptions, BaselineInfo } from '../scan/api.js';
import { probeSpecOf } from '../scan/engine.js';
import { collectFingerprints, fitAndWrite, type Collected } from './build.js';
import { baselineInfoOf, type BaselineMember } from './store.js';
import { BUILD_COMMAND, probeFlags } from './rebuild-command.js';
import { DEFAULT_SCAN_BUDGET } from '../fingerprint/budget.js';

export const PARTIAL_FILE = 'partial.json';

export interface Shard {
  index: number; // 1-based
  count: number;
}

export function parseShard(s: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new InputError('bad-argument', `--shard ${s}: expected I/N with 1 <= I <= N, e.g. --shard 2/8`);
  }
  return { index, count };
}

/** The models of one shard: every count-th of the sorted list, so shards stay balanced. */
export function shardSlice(paths: string[], shard: Shard): string[] {
  return [...paths].sort().filter((_, i) => i % shard.count === shard.index - 1);
}

interface PartialManifest {
  kind: 'model-fingerprint-partial';
  tool: { name: string; version: string };
  shard: Shard;
  signature: string;
  architecture: string;
  probes: { spec: unknown; hash: string };
  layers: string[] | 'auto';
  members: (BaselineMember & { fileHash: string })[];
  /** FEATURES_VERSION of the tool that fingerprinted the members; absent in partials made before it (= 1). */
  features?: number;
  /** The scan budget of the build (merge checks the members' own records: fitAndWrite requireOneBudget). */
  budget?: { setting: string; macs: number };
}

export async function buildPartial(
  paths: string[],
  shard: Shard,
  opts: BaselineBuildOptions,
): Promise<{ dir: string; members: number }> {
  const slice = shardSlice(paths, shard);
  await mkdir(opts.out, { recursive: true });
  const collected = slice.length ? await collectFingerprints(slice, opts.out, opts) : [];
  const first = collected[0];
  const partial: PartialManifest = {
    kind: 'model-fingerprint-partial',
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    shard,
    signature: first?.signature ?? '',
    architecture: first?.architecture ?? '',
    probes: { spec: probeSpecOf(opts), hash: first?.fingerprint.header.probes.hash ?? '' },
    layers: opts.layers ?? 'auto',
    members: collected.map((c) => ({ ...c.member, fileHash: c.fileHash })),
    features: FEATURES_VERSION,
    budget: { ...(opts.budget ?? DEFAULT_SCAN_BUDGET) },
  };
  await writeFile(join(opts.out, PARTIAL_FILE), JSON.stringify(partial, null, 2) + '\n');
  return { dir: opts.out, members: collected.length };
}

async function readPartial(dir: string): Promise<PartialManifest> {
  const file = join(dir, PARTIAL_FILE);
  if (!existsSync(file))
    throw new InputError(
      'not-found',
      `${dir}: not a baseline partial (${PARTIAL_FILE} missing); make one with 'baseline build --shard I/N'`,
      dir,
    );
  let p: PartialManifest;
  try {
    p = JSON.parse(await readFile(file, 'utf8')) as PartialManifest;
  } catch {
    throw new InputError('baseline-invalid', `${file}: not valid JSON`, file);
  }
  if (p?.kind !== 'model-fingerprint-partial' || !Array.isArray(p.members)) {
    throw new InputError('baseline-invalid', `${file}: not a baseline partial`, file);
  }
  return p;
}

/**
 * The shards' fix for any features-version refusal: build them again with this version, then merge. The
 * command repeats the probe settings the partial recorded (its samples path is as the build was given it,
 * relative to where it ran), like the baseline rebuild hint.
 */
function reshard(p: PartialManifest): string {
  const spec = p.probes?.spec;
  const flags = probeFlags('', spec && typeof spec === 'object' ? spec : {}, p.layers, p.budget);
  const cmd = [BUILD_COMMAND, ...flags, '--shard I/N --out DIR'].join(' ');
  return `rebuild every shard with this version (${cmd}) and merge again`;
}

/** Partials merge only at this tool's features version (fitAndWrite checks each fingerprint too). */
function requireOneFeaturesVersion(partials: { p: PartialManifest; dir: string }[]): void {
  const other = partials.find(({ p }) => featuresVersionOf(p) !== FEATURES_VERSION);
  if (!other) return;
  const v = featuresVersionOf(other.p);
  const current = partials.find(({ p }) => featuresVersionOf(p) === FEATURES_VERSION);
  const why = current
    ? `but ${current.dir} has v${FEATURES_VERSION}: partials of mixed features versions do not merge`
    : `this version computes v${FEATURES_VERSION}`;
  throw new InputError(
    'baseline-mismatch',
    `baseline merge: ${other.dir} was fingerprinted at features v${v}, ${why}; ${reshard(other.p)}`,
    other.dir,
  );
}

export async function mergePartials(dirs: string[], out: string): Promise<BaselineInfo> {
  if (dirs.length === 0) throw new InputError('bad-argument', 'baseline merge: no partials given');
  const partials = await Promise.all(dirs.map(readPartial));
  const nonEmpty = partials.map((p, i) => ({ p, dir: dirs[i] })).filter(({ p }) => p.members.length > 0);
  if (nonEmpty.length === 0)
    throw new InputError('degenerate-data', 'baseline merge: every partial is empty');
  const ref = nonEmpty[0];
  const key = (p: PartialManifest) => JSON.stringify([p.signature, p.architecture, p.probes.hash, p.layers]);
  for (const { p, dir } of nonEmpty) {
    if (key(p) !== key(ref.p)) {
      throw new InputError(
        'baseline-mismatch',
        `baseline merge: ${dir} was built for ${p.signature} (${p.architecture}, probes ${p.probes.hash.slice(0, 12)}), but ${ref.dir} for ${ref.p.signature} (${ref.p.architecture}, probes ${ref.p.probes.hash.slice(0, 12)}): build every shard with the same models' architecture and flags`,
        dir,
      );
    }
  }
  requireOneFeaturesVersion(nonEmpty);
  await mkdir(join(out, 'fingerprints'), { recursive: true });
  const collected: Collected[] = [];
  const seen = new Set<string>();
  for (const { p, dir } of nonEmpty) {
    for (const m of p.members) {
      if (seen.has(m.sha256)) continue;
      seen.add(m.sha256);
      const src = join(dir, m.fingerprint);
      const bytes = await readFile(src);
      if (sha256Hex(bytes) !== m.fileHash) {
        throw new InputError(
          'baseline-invalid',
          `baseline merge: ${src} does not match its recorded hash: re-run that shard`,
          src,
        );
      }
      if (out !== dir) await copyFile(src, join(out, m.fingerprint));
      const fingerprint = await readFingerprint(src);
      const { fileHash, ...member } = m;
      collected.push({ member, signature: p.signature, architecture: p.architecture, fingerprint, fileHash });
    }
  }
  const manifest = await fitAndWrite(out, collected, {
    signature: ref.p.signature,
    architecture: ref.p.architecture,
    probeSpec: ref.p.probes.spec,
    probeHash: ref.p.probes.hash,
    layers: ref.p.layers,
  });
  return baselineInfoOf(out, manifest);
}
