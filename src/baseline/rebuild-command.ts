/**
 * The command that rebuilds a baseline: the fix printed with every features-version refusal (scan, baseline
 * add, build, info). It repeats every probe setting the baseline recorded (probe count, seed, kinds, value
 * range, symbolic dims, vocabulary, input normalisation, the samples it keeps in DIR/samples), its chosen
 * layers and its scan budget (when not the default), so the rebuilt baseline feeds models exactly as the old
 * one did: a hint that dropped
 * --input-mean/--input-std would rebuild a baseline that feeds the model inputs it never expects, and the
 * scans would quietly change meaning. The flags are the ones src/cli/args.ts engineOptions parses (a test
 * parses the printed command back into the same settings).
 */
import { isAbsolute, join } from 'node:path';
import type { ProbeSpec } from '../probes/types.js';
import type { BaselineManifest } from './store.js';
import { DEFAULT_SCAN_BUDGET, LEGACY_SCAN_BUDGET, recordedBudget } from '../fingerprint/budget.js';

/** The build command the hints print, before the flags (CLEAN_MODELS... stands for the user's models). */
export const BUILD_COMMAND = 'model-fingerprint baseline build CLEAN_MODELS...';

/** A path or value as one POSIX shell word, so the printed command can be pasted: quoted only when it must be. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Where a baseline's recorded samples folder is: relative to the baseline (DIR/samples), or absolute. */
export function samplesPathOf(dir: string, samplesDir: string): string {
  return isAbsolute(samplesDir) ? samplesDir : join(dir, samplesDir);
}

/**
 * The build flags that reproduce a recorded probe spec and layer choice (in a fixed order). The spec is read
 * from a manifest on disk, so every field is checked for its type; one of another type is left out.
 */
export function probeFlags(
  dir: string,
  spec: Partial<Record<keyof ProbeSpec, unknown>>,
  layers: unknown,
  budget?: unknown,
): string[] {
  const flags: string[] = [];
  // A value that starts with "-" (a range of -1,1) is joined with "=": after a space the parser would read
  // it as a flag and refuse it as ambiguous.
  const add = (flag: string, value: string | number) => {
    const v = shellWord(String(value));
    flags.push(v.startsWith('-') ? `--${flag}=${v}` : `--${flag} ${v}`);
  };
  const numbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (typeof spec.count === 'number') add('probes', spec.count);
  if (typeof spec.seed === 'number') add('seed', spec.seed);
  if (strings(spec.kinds)) add('probe-kinds', spec.kinds.join(','));
  if (numbers(spec.range)) add('probe-range', spec.range.join(','));
  if (spec.dims && typeof spec.dims === 'object')
    for (const [name, size] of Object.entries(spec.dims))
      if (typeof size === 'number') add('dim', `${name}=${size}`);
  if (typeof spec.vocab === 'number') add('vocab', spec.vocab);
  const norm = spec.normalize as { mean?: unknown; std?: unknown } | undefined;
  if (norm && numbers(norm.mean) && numbers(norm.std)) {
    add('input-mean', norm.mean.join(','));
    add('input-std', norm.std.join(','));
  }
  // A baseline built with samples keeps them in DIR/samples (a path relative to the baseline): the rebuild
  // uses them again, or it loses the setting that matters most for detection.
  if (typeof spec.samplesDir === 'string') add('probe-samples', samplesPathOf(dir, spec.samplesDir));
  if (typeof spec.vocabFile === 'string') add('vocab-file', samplesPathOf(dir, spec.vocabFile));
  if (spec.synthesiseBase === true) flags.push('--synthesise-base');
  if (spec.tokenInversion === true) flags.push('--token-inversion');
  if (strings(layers)) add('layers', layers.join(','));
  // A budget other than the default (a legacy baseline is rebuilt with the default: it has no flag).
  const b = budget === undefined ? undefined : recordedBudget(budget);
  if (b && b.setting !== LEGACY_SCAN_BUDGET.setting && b.macs !== DEFAULT_SCAN_BUDGET.macs)
    add('budget', b.setting);
  return flags;
}

/**
 * The command that rebuilds a baseline into `dir`; without its settings, they are not known. `samplesFrom`:
 * where a relative samples path in the settings is read from: the baseline's folder for a manifest on disk
 * (its DIR/samples, the default), '' (the working directory) for settings as a command line gave them.
 */
export function rebuildCommand(
  dir: string,
  m?: Pick<BaselineManifest, 'probes' | 'layers' | 'budget'>,
  samplesFrom = dir,
): string {
  const spec = m?.probes?.spec;
  const flags = m
    ? probeFlags(samplesFrom, spec && typeof spec === 'object' ? spec : {}, m.layers, m.budget)
    : [];
  return [BUILD_COMMAND, ...flags, `--out ${shellWord(dir)}`].join(' ');
}
