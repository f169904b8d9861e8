/**
 * The baseline directory: manifest.json, fingerprints/*.mfp (one per clean member), and the fitted
 * ensemble (ensemble.json + ensemble.bin for its large arrays). The baseline's id is a content hash over
 * what determines its verdicts (signature, probe set, layers, ensemble config, member model hashes, fitted
 * state); every file's sha256 is listed in the manifest, and loading verifies both, so a tampered or
 * half-restored cache entry is refused instead of scanned against. The manifest records the members'
 * features version (what their blocks mean, FEATURES_VERSION): a baseline of another one loads (so `baseline
 * info` can say so) but is refused for scoring and growing (featuresRefusal).
 */
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { InputError } from '../errors.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { canonicalJson, sha256Hex } from '../util/hash.js';
import type { BaselineInfo } from '../scan/api.js';
import { FEATURES_VERSION, featuresVersionOf } from '../fingerprint/types.js';

export const BASELINE_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
export const ENSEMBLE_JSON = 'ensemble.json';
export const ENSEMBLE_BIN = 'ensemble.bin';
export const FINGERPRINT_DIR = 'fingerprints';

export interface BaselineMember {
  /** The path the model had when it was added (for people; verdicts use sha256). */
  path: string;
  sha256: string;
  /** Fingerprint file, relative to the baseline directory. */
  fingerprint: string;
}

export interface BaselineManifest {
  kind: 'model-fingerprint-baseline';
  formatVersion: number;
  tool: { name: string; version: string };
  id: string;
  createdAt: string;
  /** Input/output signature every member shares (see signatureOf). */
  signature: string;
  /** Graph structure every member shares (see architectureOf). */
  architecture: string;
  probes: { spec: unknown; hash: string };
  layers: string[] | 'auto';
  capturedLayers: string[];
  ensembleConfig: unknown;
  members: BaselineMember[];
  /** sha256 of every file in the directory but the manifest, by relative path. */
  files: Record<string, string>;
  calibration: { minRankPValue: number; highReachable: boolean; tailModel: string };
  /** The members' FEATURES_VERSION; absent in baselines built before it existed (= 1, see featuresVersionOf). */
  features?: number;
  /**
   * The scan budget the members were fingerprinted with (src/fingerprint/budget.ts); every scan against the
   * baseline uses it. Absent in baselines built before budgets existed: the legacy plan.
   */
  budget?: { setting: string; macs: number };
}

export type NumericArray = Float32Array | Float64Array;

interface ArrayIndexEntry {
  name: string;
  dtype: 'float32' | 'float64';
  offset: number;
  length: number;
}

export function fingerprintFileName(sha256: string): string {
  return `${FINGERPRINT_DIR}/${sha256.slice(0, 32)}.mfp`;
}

/** The id: a hash over what decides verdicts, independent of paths, order and creation time. */
export function computeBaselineId(m: Omit<BaselineManifest, 'id' | 'createdAt' | 'tool'>): string {
  const content = {
    formatVersion: m.formatVersion,
    signature: m.signature,
    architecture: m.architecture,
    probes: m.probes.hash,
    layers: m.layers,
    capturedLayers: m.capturedLayers,
    ensembleConfig: m.ensembleConfig,
    members: m.members.map((x) => x.sha256).sort(),
    ensemble: [m.files[ENSEMBLE_JSON], m.files[ENSEMBLE_BIN]],
    // What the members' blocks mean decides verdicts too. Hashed when recorded (every baseline built since
    // the field exists), so a manifest made before it still verifies and is refused with a clear message.
    ...(m.features !== undefined ? { features: m.features } : {}),
    // The budget decides the members' trigger blocks and every scan's plan: hashed when recorded.
    ...(m.budget !== undefined ? { budget: m.budget } : {}),
  };
  return `bl-${sha256Hex(canonicalJson(content)).slice(0, 24)}`;
}

/** Packs named numeric arrays into one little-endian buffer plus an index. */
export function packArrays(arrays: Record<string, NumericArray>): {
  index: ArrayIndexEntry[];
  bytes: Uint8Array;
} {
  const names = Object.keys(arrays).sort();
  const index: ArrayIndexEntry[] = [];
  let offset = 0;
  for (const name of names) {
    const a = arrays[name];
    const dtype = a instanceof Float64Array ? 'float64' : 'float32';
    index.push({ name, dtype, offset, length: a.length });
    offset += a.byteLength;
    offset = Math.ceil(offset / 8) * 8; // keep Float64 views aligned
  }
  const bytes = new Uint8Array(offset);
  for (const e of index) {
    const a = arrays[e.name];
    bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), e.offset);
  }
  return { index, bytes };
}

export function unpackArrays(
  index: ArrayIndexEntry[],
  bytes: Uint8Array,
  file: string,
): Record<string, NumericArray> {
  const out: Record<string, NumericArray> = {};
  // Copy into an aligned buffer: a Buffer from readFile may sit at any offset of a shared pool.
  const buf = new Uint8Array(bytes.length);
  buf.set(bytes);
  for (const e of index) {
    const width = e.dtype === 'float64' ? 8 : 4;
    if (e.offset < 0 || e.offset + e.length * width > buf.length || e.offset % width !== 0) {
      throw new InputError(
        'baseline-invalid',
        `${file}: array '${e.name}' lies outside the file: rebuild the baseline`,
        file,
      );
    }
    out[e.name] =
      e.dtype === 'float64'
        ? new Float64Array(buf.buffer, e.offset, e.length)
        : new Float32Array(buf.buffer, e.offset, e.length);
  }
  return out;
}

async function atomicWrite(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Writes the ensemble files and the manifest (fingerprints are written by the builder as they come). */
export async function writeBaselineFiles(
  dir: string,
  base: Omit<BaselineManifest, 'id' | 'createdAt' | 'files' | 'tool' | 'kind' | 'formatVersion'>,
  ensemble: { json: unknown; arrays: Record<string, NumericArray> },
  fingerprintHashes: Record<string, string>,
): Promise<BaselineManifest> {
  const { index, bytes } = packArrays(ensemble.arrays);
  const ensJson = canonicalJson({ state: ensemble.json, arrays: index });
  await atomicWrite(join(dir, ENSEMBLE_BIN), bytes);
  await atomicWrite(join(dir, ENSEMBLE_JSON), ensJson);
  const files: Record<string, string> = {
    ...fingerprintHashes,
    [ENSEMBLE_JSON]: sha256Hex(ensJson),
    [ENSEMBLE_BIN]: sha256Hex(bytes),
  };
  const partial = {
    kind: 'model-fingerprint-baseline' as const,
    formatVersion: BASELINE_FORMAT_VERSION,
    ...base,
    files,
  };
  const manifest: BaselineManifest = {
    ...partial,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    id: computeBaselineId(partial),
    createdAt: new Date().toISOString(),
  };
  await atomicWrite(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

export interface LoadedBaseline {
  dir: string;
  manifest: BaselineManifest;
  ensemble: { json: unknown; arrays: Record<string, NumericArray> };
}

/** Reads and verifies a baseline: every file's hash, then the id. */
export async function loadBaseline(dir: string): Promise<LoadedBaseline> {
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) {
    throw new InputError(
      'baseline-missing',
      `${dir}: no baseline here (${MANIFEST_FILE} missing): build one with 'model-fingerprint baseline build CLEAN_MODELS... --out ${dir}'`,
      dir,
    );
  }
  let manifest: BaselineManifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as BaselineManifest;
  } catch {
    throw new InputError(
      'baseline-invalid',
      `${manifestPath}: not valid JSON: rebuild the baseline`,
      manifestPath,
    );
  }
  if (
    manifest?.kind !== 'model-fingerprint-baseline' ||
    typeof manifest.files !== 'object' ||
    !Array.isArray(manifest.members)
  ) {
    throw new InputError(
      'baseline-invalid',
      `${manifestPath}: not a model-fingerprint baseline manifest`,
      manifestPath,
    );
  }
  for (const field of ['id', 'signature', 'architecture'] as const) {
    if (typeof manifest[field] !== 'string' || manifest[field] === '') {
      throw new InputError(
        'baseline-invalid',
        `${manifestPath}: the manifest lacks its ${field}: rebuild the baseline with this version`,
        manifestPath,
      );
    }
  }
  if (
    manifest.features !== undefined &&
    !(Number.isSafeInteger(manifest.features) && manifest.features >= 1)
  ) {
    throw new InputError(
      'baseline-invalid',
      `${manifestPath}: the manifest's features version is not a positive integer: rebuild the baseline`,
      manifestPath,
    );
  }
  if (manifest.formatVersion !== BASELINE_FORMAT_VERSION) {
    throw new InputError(
      'baseline-invalid',
      `${dir}: baseline format ${manifest.formatVersion}, this tool reads ${BASELINE_FORMAT_VERSION}: rebuild it with this version`,
      dir,
    );
  }
  const contents: Record<string, Buffer> = {};
  for (const [rel, expected] of Object.entries(manifest.files)) {
    if (rel.includes('..') || rel.startsWith('/')) {
      throw new InputError(
        'baseline-invalid',
        `${manifestPath}: file entry '${rel}' leaves the baseline directory`,
        manifestPath,
      );
    }
    const path = join(dir, rel);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch {
      throw new InputError(
        'baseline-invalid',
        `${dir}: baseline file ${rel} is missing: the baseline is incomplete, rebuild or restore it`,
        dir,
      );
    }
    if (sha256Hex(data) !== expected) {
      throw new InputError(
        'baseline-invalid',
        `${dir}: baseline file ${rel} does not match its recorded hash: the baseline was modified or corrupted; rebuild it`,
        dir,
      );
    }
    if (rel === ENSEMBLE_JSON || rel === ENSEMBLE_BIN) contents[rel] = data;
  }
  const { tool: _t, id, createdAt: _c, ...rest } = manifest;
  const recomputed = computeBaselineId(rest);
  if (recomputed !== id) {
    throw new InputError(
      'baseline-invalid',
      `${dir}: baseline id ${id} does not verify (content hash ${recomputed}): the manifest was edited; rebuild it`,
      dir,
    );
  }
  if (!contents[ENSEMBLE_JSON] || !contents[ENSEMBLE_BIN]) {
    throw new InputError('baseline-invalid', `${dir}: baseline lacks its fitted ensemble: rebuild it`, dir);
  }
  const ens = JSON.parse(contents[ENSEMBLE_JSON].toString('utf8')) as {
    state: unknown;
    arrays: ArrayIndexEntry[];
  };
  return {
    dir,
    manifest,
    ensemble: {
      json: ens.state,
      arrays: unpackArrays(ens.arrays, contents[ENSEMBLE_BIN], join(dir, ENSEMBLE_BIN)),
    },
  };
}

/**
 * Why this tool must not score against, or add to, a baseline: its members were fingerprinted at another
 * features version than this tool computes (same block names and lengths, other meaning). null when usable.
 */
export function featuresRefusal(m: BaselineManifest): string | null {
  const built = featuresVersionOf(m);
  if (built === FEATURES_VERSION) return null;
  const age = built < FEATURES_VERSION ? 'an older' : 'a newer';
  return `baseline ${m.id} was built by ${age} version of model-fingerprint (features v${built}; this version computes v${FEATURES_VERSION})`;
}

/** Loads and verifies a baseline, returning what callers need to know about it (VerifyBaselineFn). */
export async function verifyBaseline(dir: string): Promise<BaselineInfo> {
  return baselineInfoOf(dir, (await loadBaseline(dir)).manifest);
}

export function baselineInfoOf(dir: string, m: BaselineManifest): BaselineInfo {
  return {
    id: m.id,
    dir,
    members: m.members.map(({ path, sha256 }) => ({ path, sha256 })),
    signature: m.signature,
    probeHash: m.probes.hash,
    minRankPValue: m.calibration.minRankPValue,
    highReachable: m.calibration.highReachable,
  };
}
