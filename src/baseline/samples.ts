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
import { existsSync, readdirSync, statSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import type { EngineOptions } from '../scan/api.js';
import { listSampleFiles } from '../probes/samples.js';
import { listTokenSampleFiles } from '../probes/text-samples.js';
import { readVocabulary } from '../probes/vocab.js';
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
  const probes = { ...((spec ?? {}) as Probes) };
  const vocabPath = probes.vocabFile ? resolve(probes.vocabFile) : undefined;
  if (probes.vocabFile) probes.vocabFile = await embedVocabulary(dir, probes.vocabFile);
  if (!probes.samplesDir) return probes.vocabFile ? probes : spec;
  const from = resolve(probes.samplesDir);
  const to = resolve(dir, BASELINE_SAMPLES_DIR);
  if (from !== to) {
    // a text model's samples may be one .txt file (src/probes/text-samples.ts): the folder then holds it alone
    const single = existsSync(from) && statSync(from).isFile();
    const names = single ? listTokenSampleFiles(from).names : sampleFilesToCopy(from);
    const src = single ? dirname(from) : from;
    await rm(to, { recursive: true, force: true });
    await mkdir(to, { recursive: true });
    // the vocabulary kept beside the texts is copied as the baseline's vocabulary, not as a sample
    for (const name of names)
      if (resolve(src, name) !== vocabPath) await copyFile(join(src, name), join(to, name));
  }
  return { ...probes, samplesDir: BASELINE_SAMPLES_DIR };
}

/**
 * The files of a samples folder a baseline copies: the image samples (listSampleFiles, which names the
 * folder and the fix when it is missing or empty) and a text model's .txt files.
 */
function sampleFilesToCopy(from: string): string[] {
  let texts: string[] = [];
  try {
    texts = readdirSync(from).filter((n) => /\.txt$/i.test(n));
  } catch {
    texts = [];
  }
  if (texts.length > 0) return listTokenSampleFiles(from).names;
  return listSampleFiles(from);
}

/** The file inside a baseline that holds a text model's vocabulary (its extension kept: .txt or .json). */
export const BASELINE_VOCAB_FILE = 'vocab';

/**
 * Copies the vocabulary file into the baseline (vocab.txt or vocab.json) and returns its path relative to the
 * baseline, so every scan against it names trigger words and tokenises texts the same way.
 */
async function embedVocabulary(dir: string, file: string): Promise<string> {
  const src = resolve(file);
  readVocabulary(src); // refuses a missing or unreadable file, naming it
  const name = `${BASELINE_VOCAB_FILE}${extname(src).toLowerCase() === '.json' ? '.json' : '.txt'}`;
  const to = resolve(dir, name);
  if (src !== to) await copyFile(src, to);
  return name;
}

/**
 * The engine options for fingerprinting models against the baseline in `dir`: the baseline decides the probe
 * set (its samples resolved to a readable path) and the layers, since a model is only comparable under the
 * same ones, and the scan budget its members were fingerprinted with; everything else (workspace, batch
 * size, ...) comes from `opts`. Used by scan and by add.
 */
export function engineFromBaseline<T extends EngineOptions>(dir: string, m: BaselineManifest, opts: T): T {
  const probes = resolveSamplesDir(dir, m.probes.spec);
  // A vocabulary only names trigger words (unless it tokenised the baseline's .txt samples, and then the
  // baseline keeps its own): the caller's applies when the baseline has none.
  if (!probes.vocabFile && opts.probes?.vocabFile) probes.vocabFile = opts.probes.vocabFile;
  // the members' budget too (absent in older manifests: the legacy plan); a malformed record is refused by
  // the callers (budgetRefusal) before they get here
  const budget = recordedBudget(m.budget);
  return { ...opts, probes, layers: m.layers, ...(budget ? { budget } : {}) };
}

/** The probe spec of a loaded baseline with its samples folder resolved to a path a scan can read. */
function resolveSamplesDir(dir: string, spec: unknown): Probes {
  const probes = { ...((spec ?? {}) as Probes) };
  if (probes.samplesDir && !isAbsolute(probes.samplesDir)) {
    const inside = join(dir, probes.samplesDir);
    // a legacy baseline's folder is relative to the working directory
    if (existsSync(inside)) probes.samplesDir = inside;
  }
  if (probes.vocabFile && !isAbsolute(probes.vocabFile)) probes.vocabFile = join(dir, probes.vocabFile);
  return probes;
}
