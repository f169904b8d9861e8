/**
 * Fingerprints every zoo model once per probe configuration and caches them as .mfp files under
 * bench/.cache/detect/<config-key>/<model sha256>.mfp. The key hashes the engine options AND the source of the
 * code that computes fingerprints (src/fingerprint, src/probes, src/selfcheck, src/model), so a change there
 * (e.g. the trigger self-check being wired in) re-fingerprints instead of benchmarking stale files.
 *
 * Besides the project's own blocks, each cached fingerprint carries one extra block, NAIVE_BLOCK: the raw
 * activations of the model's FIRST hidden activation layer on the same probes, flattened probe-major: the
 * research's naive method, kept here because the fingerprint's own raw:<layer> blocks are capped at
 * RAW_BLOCK_MAX_FEATURES per probe (a CNN's first layer is wider).
 *
 * Until fingerprintModel runs the reference-free trigger probe itself, a fingerprint without a "trigger"
 * self-check gets one here, the way the fingerprint would: src/selfcheck/trigger-probe.ts probeTriggers on
 * the fingerprint's own probe inputs (default budget), adding selfChecks.trigger and the per-class "trigger"
 * block. `triggerSource` in the run result says which happened.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ACTIVATION_OPS } from '../../src/fingerprint/extract.js';
import { decodeFingerprint, encodeFingerprint } from '../../src/fingerprint/format.js';
import type { Fingerprint } from '../../src/fingerprint/types.js';
import { readModel } from '../../src/model/read.js';
import type { OnnxModel } from '../../src/model/types.js';
import { ModelRunner, runProbes } from '../../src/model/session.js';
import { generateProbes } from '../../src/probes/generate.js';
import type { ProbeSet } from '../../src/probes/types.js';
import type { EngineOptions } from '../../src/scan/api.js';
import { probeTriggers } from '../../src/selfcheck/trigger-probe.js';
import { fingerprintFile, probeSpecOf } from '../../src/scan/engine.js';
import { canonicalJson, sha256Hex } from '../../src/util/hash.js';
import type { ZooModel } from './zoo.js';

export const NAIVE_BLOCK = 'naive-raw-first';
/** Marks a cached fingerprint whose trigger self-check the bench added (not a feature: never selected). */
export const BENCH_TRIGGER_MARK = 'bench-trigger-mark';

export interface ProbeConfig {
  name: string;
  note: string;
  engine: EngineOptions;
}

const CODE_DIRS = ['src/fingerprint', 'src/probes', 'src/selfcheck', 'src/model'];

function listTs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? listTs(path.join(dir, e.name))
        : e.name.endsWith('.ts')
          ? [path.join(dir, e.name)]
          : [],
    )
    .sort();
}

/** Hash of the fingerprinting code (so a cache never outlives the code that wrote it). */
export function fingerprintCodeHash(root: string): string {
  const parts = CODE_DIRS.flatMap((d) => listTs(path.join(root, d))).map(
    (f) => `${path.relative(root, f)}\n${readFileSync(f, 'utf8')}`,
  );
  return sha256Hex(parts.join('\n\0\n')).slice(0, 16);
}

/**
 * The cache folder of a configuration: <name>-<engine key>-<code hash>. With `reuse`, the newest folder of
 * the same name and engine key is taken whatever code wrote it (for iterating on the scoring side while
 * others edit the fingerprinting code; the report then names the code hash it used).
 */
export function cacheDirFor(cacheRoot: string, cfg: ProbeConfig, codeHash: string, reuse = false): string {
  const engineKey = sha256Hex(canonicalJson(cfg.engine)).slice(0, 8);
  const prefix = `${cfg.name}-${engineKey}-`;
  if (reuse && existsSync(cacheRoot)) {
    const found = readdirSync(cacheRoot)
      .filter((d) => d.startsWith(prefix))
      .map((d) => ({ d, t: statSync(path.join(cacheRoot, d)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    if (found.length) return path.join(cacheRoot, found[0].d);
  }
  return path.join(cacheRoot, `${prefix}${codeHash}`);
}

async function naiveBlock(model: OnnxModel, probes: ProbeSet): Promise<Float32Array | null> {
  const first = model.layers.find((l) => ACTIVATION_OPS.has(l.op));
  if (!first) return null;
  const run = await runProbes(model, probes, { layers: [first.name] });
  return run.tensors.get(first.name)?.data ?? null;
}

/** The trigger self-check on the probe inputs, for fingerprints that do not carry one yet. */
async function addTrigger(model: OnnxModel, probes: ProbeSet, fp: Fingerprint): Promise<boolean> {
  const inp = probes.inputs[0];
  if (probes.inputs.length !== 1 || !(inp.data instanceof Float32Array)) return false;
  const runner = await ModelRunner.open(model);
  try {
    const out = model.outputs[0].name;
    const run = async (x: Float32Array, n: number): Promise<Float32Array> => {
      const r = await runner.run({ count: n, inputs: [{ ...inp, data: x }] });
      return r.tensors.get(out)?.data ?? new Float32Array(0);
    };
    const r = await probeTriggers(run, inp.data, inp.sampleShape, {
      classes: fp.header.model.classes,
      range: { lo: probes.range[0], hi: probes.range[1] },
    });
    fp.selfChecks.trigger = r.selfCheck;
    fp.blocks.trigger = r.block;
    fp.blocks['trigger-tiers'] = r.tierBlock;
    return true;
  } finally {
    await runner.release();
  }
}

export interface FingerprintRun {
  fingerprints: Map<string, Fingerprint>;
  computed: number;
  cached: number;
  /** How the trigger self-check got into the fingerprints: by fingerprintModel, by this bench, or not. */
  triggerSource: 'fingerprint' | 'bench' | 'none' | 'mixed';
  millis: number;
  dir: string;
}

/** Fingerprints (cached) for `models` under `cfg`, keyed by model id. */
export async function fingerprintZoo(
  models: ZooModel[],
  cfg: ProbeConfig,
  cacheRoot: string,
  codeHash: string,
  log: (s: string) => void,
  reuse = false,
  cachedOnly = false,
): Promise<FingerprintRun> {
  const dir = cacheDirFor(cacheRoot, cfg, codeHash, reuse);
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const fingerprints = new Map<string, Fingerprint>();
  let computed = 0;
  let cached = 0;
  const sources = new Set<string>();
  for (const m of models) {
    const sha = sha256Hex(readFileSync(m.file));
    const file = path.join(dir, `${sha}.mfp`);
    if (existsSync(file)) {
      const fp = decodeFingerprint(readFileSync(file), file);
      fingerprints.set(m.id, fp);
      sources.add(fp.selfChecks.trigger ? (fp.blocks[BENCH_TRIGGER_MARK] ? 'bench' : 'fingerprint') : 'none');
      cached++;
      continue;
    }
    if (cachedOnly) continue;
    const { fingerprint } = await fingerprintFile(m.file, cfg.engine);
    const model = await readModel(m.file);
    const probes = generateProbes(model.inputs, probeSpecOf(cfg.engine), { file: model.path });
    const naive = await naiveBlock(model, probes);
    if (naive) fingerprint.blocks[NAIVE_BLOCK] = naive;
    if (fingerprint.selfChecks.trigger) sources.add('fingerprint');
    else if (await addTrigger(model, probes, fingerprint)) {
      fingerprint.blocks[BENCH_TRIGGER_MARK] = Float32Array.of(1);
      sources.add('bench');
    } else sources.add('none');
    writeFileSync(file, encodeFingerprint(fingerprint));
    fingerprints.set(m.id, fingerprint);
    computed++;
    if (computed % 25 === 0) log(`  ${cfg.name}: ${computed} fingerprinted (${cached} cached)`);
  }
  const triggerSource = sources.size === 1 ? ([...sources][0] as FingerprintRun['triggerSource']) : 'mixed';
  return { fingerprints, computed, cached, millis: Date.now() - started, dir, triggerSource };
}
