/**
 * Section "merge" of the speed benchmark: `baseline merge` (src/baseline/shard.ts mergePartials) of
 * PARTIALS shards holding M synthetic fingerprints of D floats (block "logits") each, written directly with
 * the fingerprint format instead of fingerprinting M models. Reports the time of the merge (reading,
 * hashing, copying, fitting and calibrating the default ensemble, writing) and this process's peak memory.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { mergePartials } from '../../src/baseline/shard.js';
import { fingerprintFileName } from '../../src/baseline/store.js';
import { encodeFingerprint } from '../../src/fingerprint/format.js';
import {
  FEATURES_VERSION,
  FINGERPRINT_FORMAT_VERSION,
  type Fingerprint,
} from '../../src/fingerprint/types.js';
import { Rng } from '../../src/probes/rng.js';
import { sha256Hex } from '../../src/util/hash.js';
import { TOOL_NAME, TOOL_VERSION } from '../../src/version.js';
import { peakRssMb, timeIt } from './common.js';

export const MERGE_PARTIALS = 10;
const SIGNATURE = 'input:float32[N,3,32,32] -> logits:float32[N,4096]';
const PROBE_HASH = 'f'.repeat(64);

export interface MergeResult {
  models: number;
  dims: number;
  partials: number;
  synthesiseMs: number;
  mergeMs: number;
  peakRssMb: number;
  /** Members of the merged baseline (duplicates dropped). */
  members: number;
}

function synthesise(models: number, dims: number, root: string): string[] {
  rmSync(root, { recursive: true, force: true });
  const rng = new Rng(5);
  const base = rng.normals(dims);
  const dirs: string[] = [];
  const per = Math.ceil(models / MERGE_PARTIALS);
  for (let p = 0; p < MERGE_PARTIALS; p++) {
    const dir = path.join(root, `partial-${p + 1}`);
    mkdirSync(path.join(dir, 'fingerprints'), { recursive: true });
    const members = [];
    for (let i = p * per; i < Math.min(models, (p + 1) * per); i++) {
      const sha256 = sha256Hex(`synthetic model ${i}`);
      const logits = rng.normals(dims);
      for (let j = 0; j < dims; j++) logits[j] = base[j] + 0.5 * logits[j];
      const fp: Fingerprint = {
        header: {
          formatVersion: FINGERPRINT_FORMAT_VERSION,
          features: FEATURES_VERSION,
          tool: { name: TOOL_NAME, version: TOOL_VERSION },
          model: { path: `models/m${i}.onnx`, sha256, signature: SIGNATURE, classes: dims / 64 },
          probes: { hash: PROBE_HASH, count: 64, seed: 0, kinds: ['gaussian'] },
          layers: [],
          createdAt: '2026-01-01T00:00:00.000Z',
        },
        blocks: { logits },
        selfChecks: {},
      };
      const bytes = encodeFingerprint(fp);
      const rel = fingerprintFileName(sha256);
      writeFileSync(path.join(dir, rel), bytes);
      members.push({ path: `models/m${i}.onnx`, sha256, fingerprint: rel, fileHash: sha256Hex(bytes) });
    }
    const partial = {
      kind: 'model-fingerprint-partial',
      tool: { name: TOOL_NAME, version: TOOL_VERSION },
      shard: { index: p + 1, count: MERGE_PARTIALS },
      features: FEATURES_VERSION,
      signature: SIGNATURE,
      architecture: 'synthetic',
      probes: { spec: { count: 64, seed: 0 }, hash: PROBE_HASH },
      layers: 'auto',
      members,
    };
    writeFileSync(path.join(dir, 'partial.json'), JSON.stringify(partial) + '\n');
    dirs.push(dir);
  }
  return dirs;
}

export async function runMerge(models: number, dims: number, cache: string): Promise<MergeResult> {
  const root = path.join(cache, `merge-${models}x${dims}`);
  const syn = await timeIt(() => synthesise(models, dims, root));
  const out = path.join(root, 'merged');
  if (existsSync(out)) rmSync(out, { recursive: true, force: true });
  const merged = await timeIt(() => mergePartials(syn.value, out));
  return {
    models,
    dims,
    partials: MERGE_PARTIALS,
    synthesiseMs: syn.ms,
    mergeMs: merged.ms,
    peakRssMb: peakRssMb(),
    members: merged.value.members.length,
  };
}
