/**
 * Building and growing a baseline: fingerprint each clean model (written to disk as it comes), check
 * that all share one input signature and probe set, fit the detector ensemble on all members, write the
 * directory (see store.ts). Members are ordered by model hash before fitting, so the same models give the
 * same baseline id whatever order (or shard) they came in. Every member must carry this tool's features
 * version (FEATURES_VERSION), recorded in the manifest: a baseline never mixes blocks of two meanings, and
 * one built by another version is not grown (rebuild it from its clean models).
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, describeError, isInputError } from '../errors.js';
import { signatureOf } from '../model/types.js';
import { writeFingerprint, readFingerprint } from '../fingerprint/format.js';
import { FEATURES_VERSION, featuresVersionOf, type Fingerprint } from '../fingerprint/types.js';
import { fitEnsemble, serializeEnsemble } from '../score/ensemble.js';
import { baselineEnsembleConfig } from './config.js';
import { fingerprintFile, probeSpecOf } from '../scan/engine.js';
import { embedSamples, engineFromBaseline } from './samples.js';
import { architectureOf } from '../scan/architecture.js';
import { ensembleBlocks } from '../scan/blocks.js';
import type { AddToBaselineFn, BaselineBuildOptions, BuildBaselineFn, EngineOptions } from '../scan/api.js';
import { sha256Hex } from '../util/hash.js';
import {
  baselineInfoOf,
  featuresRefusal,
  fingerprintFileName,
  loadBaseline,
  writeBaselineFiles,
  type BaselineManifest,
  type BaselineMember,
} from './store.js';
import { rebuildCommand } from './rebuild-command.js';
import { budgetRefusal } from '../scan/budget-note.js';
import { describeBudget, LEGACY_SCAN_BUDGET, sameBudget, type ScanBudget } from '../fingerprint/budget.js';

/**
 * The blocks a baseline build computes and stores for its members: every block but `weights:layers`. The
 * hidden-layer blocks (gram, sorted, raw) are kept so that other channel sets can be fitted on the members
 * later; `weights:layers` (norm and top singular values of every weight matrix) is no channel of any
 * ensemble the tool fits, and its products were the largest fixed cost of a member's fingerprint (~0.1 s of
 * block Krylov products on a 12.5M-parameter CNN, which brought the fingerprint to 1.42x raw inference on a
 * fast core; bench/results/speed.md). `model-fingerprint fingerprint` and bench:detect still compute it.
 */
export const STORED_BLOCKS = [
  'logits',
  'softmax-stats',
  'gram:',
  'sorted:',
  'raw:',
  'weights:final',
  'weights:embedding', // a text model's per-token embedding norms: the embedding-norm test reads them
  'trigger',
  'trigger-tiers',
  'trigger-map',
  'trigger-gain-map',
  'self:',
];

/** Fewer clean references than this and the detectors (k-NN, LOF) cannot be fitted meaningfully. */
export const MIN_BASELINE_MEMBERS = 5;

export interface Collected {
  member: BaselineMember;
  signature: string;
  architecture: string;
  fingerprint: Fingerprint;
  fileHash: string;
}

/** Fingerprints models into DIR/fingerprints, one at a time (memory bounded by one model). */
export async function collectFingerprints(
  paths: string[],
  dir: string,
  opts: EngineOptions & { onProgress?: BaselineBuildOptions['onProgress'] },
  expect?: { signature: string; architecture: string; probeHash: string; source: string },
): Promise<Collected[]> {
  await mkdir(join(dir, 'fingerprints'), { recursive: true });
  const out: Collected[] = [];
  let ref = expect;
  opts.onProgress?.({ kind: 'start', total: paths.length });
  for (const [i, path] of paths.entries()) {
    const t0 = Date.now();
    const done = (error?: string) =>
      opts.onProgress?.({
        kind: 'model-done',
        path,
        index: i,
        total: paths.length,
        ms: Date.now() - t0,
        ...(error ? { error } : {}),
      });
    let fp: Fingerprint;
    let signature: string;
    let architecture: string;
    try {
      const r = await fingerprintFile(path, opts, STORED_BLOCKS);
      fp = r.fingerprint;
      signature = signatureOf(r.model.inputs, r.model.outputs);
      architecture = architectureOf(r.model);
    } catch (e) {
      done(describeError(e));
      if (isInputError(e)) {
        throw new InputError(
          e.code,
          `baseline: ${e.message} (every baseline member must be a readable clean model)`,
          e.file ?? path,
        );
      }
      throw e;
    }
    if (!ref) ref = { signature, architecture, probeHash: fp.header.probes.hash, source: path };
    if (signature !== ref.signature || architecture !== ref.architecture) {
      const [got, want] =
        signature !== ref.signature ? [signature, ref.signature] : [architecture, ref.architecture];
      throw new InputError(
        'baseline-mismatch',
        `baseline: ${path} has signature ${got}, but ${ref.source} has ${want}: a baseline holds models of one architecture only`,
        path,
      );
    }
    if (fp.header.probes.hash !== ref.probeHash) {
      throw new InputError(
        'baseline-mismatch',
        `baseline: ${path} got probe set ${fp.header.probes.hash.slice(0, 12)}, expected ${ref.probeHash.slice(0, 12)}`,
        path,
      );
    }
    const sha = fp.header.model.sha256;
    if (out.some((c) => c.member.sha256 === sha)) {
      done('duplicate of an earlier member: skipped');
      continue;
    }
    const rel = fingerprintFileName(sha);
    await writeFingerprint(join(dir, rel), fp);
    const bytes = await readFile(join(dir, rel));
    out.push({
      member: { path, sha256: sha, fingerprint: rel },
      signature,
      architecture,
      fingerprint: fp,
      fileHash: sha256Hex(bytes),
    });
    done();
  }
  return out;
}

/**
 * Refuses members fingerprinted at another features version than this tool's: same block names and
 * lengths, other meaning, so fitting them together (or with fresh ones) would skew every p-value silently.
 * `settings` are the probe settings of this build, its samples path as the command line gave it (relative to
 * the working directory; the build has not copied the samples into `dir` yet): the refusal's rebuild
 * command repeats them.
 */
export function requireCurrentFeatures(
  dir: string,
  collected: Collected[],
  settings: Pick<BaselineManifest, 'probes' | 'layers'>,
): void {
  const versionOf = (c: Collected) => featuresVersionOf(c.fingerprint.header);
  const other = collected.find((c) => versionOf(c) !== FEATURES_VERSION);
  if (!other) return;
  const current = collected.find((c) => versionOf(c) === FEATURES_VERSION);
  const why = current
    ? ` but ${current.member.path} has v${FEATURES_VERSION}: members of mixed features versions do not compare`
    : `, this version computes v${FEATURES_VERSION}`;
  throw new InputError(
    'baseline-mismatch',
    `baseline ${dir}: the fingerprint of ${other.member.path} has features v${versionOf(other)}${why}; rebuild the baseline from the clean models: ${rebuildCommand(dir, settings, '')}`,
    dir,
  );
}

/** The scan budget a member was fingerprinted with (its header's record; none: the legacy plan). */
export function budgetOfFingerprint(fp: Fingerprint): ScanBudget {
  const b = fp.header.budget;
  return b ? { setting: b.setting, macs: b.macs } : LEGACY_SCAN_BUDGET;
}

/**
 * Refuses members fingerprinted with different scan budgets: their trigger blocks come from different
 * numbers of forward passes, so they do not compare (shards built with different --budget, or a model
 * added with another). `settings` as for requireCurrentFeatures.
 */
export function requireOneBudget(
  dir: string,
  collected: Collected[],
  settings: Pick<BaselineManifest, 'probes' | 'layers'>,
): ScanBudget | undefined {
  if (collected.length === 0) return undefined;
  const first = budgetOfFingerprint(collected[0].fingerprint);
  const other = collected.find((c) => !sameBudget(budgetOfFingerprint(c.fingerprint), first));
  if (!other) return first;
  throw new InputError(
    'baseline-mismatch',
    `baseline ${dir}: ${other.member.path} was fingerprinted with the scan budget ${describeBudget(budgetOfFingerprint(other.fingerprint))}, ` +
      `but ${collected[0].member.path} with ${describeBudget(first)}: members of one baseline need one budget (their trigger features do not compare otherwise); ` +
      `rebuild the baseline from the clean models with one --budget: ${rebuildCommand(dir, settings, '')}`,
    dir,
  );
}

/** Fits the ensemble on the collected members and writes the baseline directory. */
export async function fitAndWrite(
  dir: string,
  collected: Collected[],
  meta: {
    signature: string;
    architecture: string;
    probeSpec: unknown;
    probeHash: string;
    layers: string[] | 'auto';
  },
): Promise<BaselineManifest> {
  // The hint repeats the probe settings this build was given: the rebuild must probe the same way.
  const settings = { probes: { spec: meta.probeSpec, hash: meta.probeHash }, layers: meta.layers };
  requireCurrentFeatures(dir, collected, settings);
  const budget = requireOneBudget(dir, collected, settings);
  if (collected.length < MIN_BASELINE_MEMBERS) {
    throw new InputError(
      'degenerate-data',
      `baseline: ${collected.length} distinct clean model(s); at least ${MIN_BASELINE_MEMBERS} are needed (20 or more recommended, 80 for the high band by rank alone)`,
    );
  }
  const sorted = [...collected].sort((a, b) => (a.member.sha256 < b.member.sha256 ? -1 : 1));
  const blocks = sorted.map((c) => ensembleBlocks(c.fingerprint));
  const config = baselineEnsembleConfig(blocks[0], blocks.length);
  const state = fitEnsemble(
    blocks,
    sorted.map((c) => c.member.sha256),
    config,
  );
  const ser = serializeEnsemble(state);
  const n = sorted.length;
  const minRankPValue = 1 / (n + 1);
  const manifest = await writeBaselineFiles(
    dir,
    {
      signature: meta.signature,
      architecture: meta.architecture,
      probes: { spec: await embedSamples(dir, meta.probeSpec), hash: meta.probeHash },
      layers: meta.layers,
      capturedLayers: sorted[0].fingerprint.header.layers,
      ensembleConfig: config,
      members: sorted.map((c) => c.member),
      calibration: {
        minRankPValue,
        highReachable: true,
        tailModel: 'parametric tail beyond the largest reference score',
      },
      features: FEATURES_VERSION,
      // recorded unless legacy (members fingerprinted before budgets existed: a manifest without it)
      ...(budget && budget.setting !== LEGACY_SCAN_BUDGET.setting
        ? { budget: { setting: budget.setting, macs: budget.macs } }
        : {}),
    },
    ser,
    Object.fromEntries(sorted.map((c) => [c.member.fingerprint, c.fileHash])),
  );
  return manifest;
}

export const buildBaseline: BuildBaselineFn = async (paths, opts) => {
  if (paths.length === 0) throw new InputError('bad-argument', 'baseline build: no models given');
  await rm(join(opts.out, 'fingerprints'), { recursive: true, force: true });
  const collected = await collectFingerprints(paths, opts.out, opts);
  const first = collected[0];
  const manifest = await fitAndWrite(opts.out, collected, {
    signature: first.signature,
    architecture: first.architecture,
    probeSpec: probeSpecOf(opts),
    probeHash: first.fingerprint.header.probes.hash,
    layers: opts.layers ?? 'auto',
  });
  return baselineInfoOf(opts.out, manifest);
};

export const addToBaseline: AddToBaselineFn = async (dir, paths, opts) => {
  const base = await loadBaseline(dir);
  const out = opts.out ?? dir;
  const m = base.manifest;
  const refusal = featuresRefusal(m) ?? budgetRefusal(m);
  if (refusal) {
    throw new InputError(
      'baseline-mismatch',
      `${dir}: ${refusal}: new models cannot join it; rebuild it from its clean models and the new ones: ${rebuildCommand(dir, m)}`,
      dir,
    );
  }
  const engine: EngineOptions = engineFromBaseline(dir, m, opts);
  const existing: Collected[] = [];
  for (const member of m.members) {
    const fp = await readFingerprint(join(dir, member.fingerprint));
    existing.push({
      member,
      signature: m.signature,
      architecture: m.architecture,
      fingerprint: fp,
      fileHash: m.files[member.fingerprint],
    });
  }
  if (out !== dir) {
    await mkdir(join(out, 'fingerprints'), { recursive: true });
    for (const c of existing) await writeFingerprint(join(out, c.member.fingerprint), c.fingerprint);
  }
  const added = await collectFingerprints(paths, out, engine, {
    signature: m.signature,
    architecture: m.architecture,
    probeHash: m.probes.hash,
    source: `baseline ${dir}`,
  });
  const known = new Set(existing.map((c) => c.member.sha256));
  const fresh = added.filter((c) => !known.has(c.member.sha256));
  const manifest = await fitAndWrite(out, [...existing, ...fresh], {
    signature: m.signature,
    architecture: m.architecture,
    probeSpec: engine.probes,
    probeHash: m.probes.hash,
    layers: m.layers,
  });
  return baselineInfoOf(out, manifest);
};
