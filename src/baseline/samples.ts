/**
 * A baseline carries its own probe samples. When a baseline is built with --probe-samples DIR, the sample
 * files are copied into BASELINE/samples/ and the manifest's probe spec names that folder relative to the
 * baseline. Every scan against the baseline (CLI from any working directory, the action from the Actions
 * cache or baselines/) then probes with the same real inputs without any flag: the samples are what give
 * trigger probing and the ensemble their power (bench/results/detect.md), so they must not depend on the
 * scanning job's checkout. Tampered samples change the probe-set hash, which a scan refuses as a mismatch.
 *
 * Baselines written before this stored the folder relative to the working directory; engineFromBaseline
 * still finds those.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { EngineOptions } from '../scan/api.js';
import { listSampleFiles } from '../probes/samples.js';
import type { BaselineManifest } from './store.js';
import { recordedBudget } from '../fingerprint/budget.js';

/** Said (CLI stderr, action warning) when a baseline is built without samples: the setting that matters most. */
export const NO_SAMPLES_ADVICE =
  'built without probe samples: the probes are generated noise and patterns only, and detection is weaker ' +
  "(see the README's results). Rebuild with probe samples: a folder of 64-128 real inputs of mixed classes; the " +
  'baseline keeps a copy, so every scan against it uses them.';

/** The folder inside a baseline that holds its probe samples. */
export const BASELINE_SAMPLES_DIR = 'samples';

type Probes = NonNullable<EngineOptions['probes']>;

/**
 * Copies the spec's sample files into `dir`/samples (unless they are already there) and returns the spec
 * with samplesDir pointing at that folder, relative to the baseline. A spec without samples is returned as is.
 */
export async function embedSamples(dir: string, spec: unknown): Promise<unknown> {
  const probes = (spec ?? {}) as Probes;
  if (!probes.samplesDir) return spec;
  const from = resolve(probes.samplesDir);
  const to = resolve(dir, BASELINE_SAMPLES_DIR);
  if (from !== to) {
    const names = listSampleFiles(from); // names the folder and the fix when it is missing or empty
    await rm(to, { recursive: true, force: true });
    await mkdir(to, { recursive: true });
    for (const name of names) await copyFile(join(from, name), join(to, name));
  }
  return { ...probes, samplesDir: BASELINE_SAMPLES_DIR };
}

/**
 * The engine options for fingerprinting models against the baseline in `dir`: the baseline decides the probe
 * set (its samples resolved to a readable path) and the layers, since a model is only comparable under the
 * same ones, and the scan budget its members were fingerprinted with; everything else (workspace, batch
 * size, ...) comes from `opts`. Used by scan and by add.
 */
export function engineFromBaseline<T extends EngineOptions>(dir: string, m: BaselineManifest, opts: T): T {
  // the members' budget too (absent in older manifests: the legacy plan); a malformed record is refused by
  // the callers (budgetRefusal) before they get here
  const budget = recordedBudget(m.budget);
  return {
    ...opts,
    probes: resolveSamplesDir(dir, m.probes.spec),
    layers: m.layers,
    ...(budget ? { budget } : {}),
  };
}

/** The probe spec of a loaded baseline with its samples folder resolved to a path a scan can read. */
function resolveSamplesDir(dir: string, spec: unknown): Probes {
  const probes = { ...((spec ?? {}) as Probes) };
  if (probes.samplesDir && !isAbsolute(probes.samplesDir)) {
    const inside = join(dir, probes.samplesDir);
    // a legacy baseline's folder is relative to the working directory
    if (existsSync(inside)) probes.samplesDir = inside;
  }
  return probes;
}
