/**
 * Command-line parsing for model-fingerprint, on node:util's parseArgs (no dependency needed). Each
 * command declares its flags; unknown flags and missing values are InputErrors (exit 2, one line).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../errors.js';
import { parseNormalize } from '../probes/normalize.js';
import type { EngineOptions, ProbeOptions } from '../scan/api.js';
import { parseBudget } from '../fingerprint/budget.js';
import { MAX_TIME_LIMIT_S, MODEL_TIME_LIMIT_MS } from '../limits.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags shared by every command that fingerprints models. */
export const ENGINE_FLAGS: Options = {
  probes: { type: 'string' },
  seed: { type: 'string' },
  'probe-kinds': { type: 'string' },
  'probe-range': { type: 'string' },
  'probe-samples': { type: 'string' },
  'input-mean': { type: 'string' },
  'input-std': { type: 'string' },
  dim: { type: 'string', multiple: true },
  vocab: { type: 'string' },
  'vocab-file': { type: 'string' },
  'synthesise-base': { type: 'boolean' },
  'token-inversion': { type: 'boolean' },
  layers: { type: 'string' },
  'batch-size': { type: 'string' },
  workspace: { type: 'string' },
  budget: { type: 'string' },
  'time-limit': { type: 'string' },
};

/** The --time-limit paragraph of every fingerprinting command's help. */
export const TIME_LIMIT_HELP = `--time-limit SECONDS: the fixed time a model may take (default ${MODEL_TIME_LIMIT_MS / 1000}), on top of what
the budget's planned work needs at a slow rate; raise it on a slow or busy machine. It only turns a runaway
model into an error (exit 2, naming the file); it never changes a result.`;

export const COMMON_FLAGS: Options = {
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parse(command: string, argv: string[], options: Options): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...COMMON_FLAGS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Parsed['values'], positionals };
  } catch (e) {
    // node's message may span lines and the last one is the fix (a value starting with "-" must be given
    // as --flag=-1,1): kept, on one line.
    const msg = (e instanceof Error ? e.message : String(e)).split('\n').join(' ');
    throw new InputError('bad-argument', `${command}: ${msg} (see model-fingerprint ${command} --help)`);
  }
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function int(p: Parsed, name: string, min = 1, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InputError('bad-argument', `--${name} ${v}: expected a whole number between ${min} and ${max}`);
  }
  return n;
}

export function list(p: Parsed, name: string): string[] | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  return v
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Probe and layer options from the shared engine flags. */
export function engineOptions(p: Parsed): EngineOptions {
  const probes: ProbeOptions = {};
  const count = int(p, 'probes', 1, 4096);
  if (count !== undefined) probes.count = count;
  const seed = int(p, 'seed', 0, 2 ** 32 - 1);
  if (seed !== undefined) probes.seed = seed;
  const kinds = list(p, 'probe-kinds');
  if (kinds) probes.kinds = kinds;
  const range = list(p, 'probe-range');
  if (range) {
    const [lo, hi] = range.map(Number);
    if (range.length !== 2 || !Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) {
      throw new InputError(
        'bad-argument',
        `--probe-range ${str(p, 'probe-range')}: expected LO,HI with LO < HI`,
      );
    }
    probes.range = [lo, hi];
  }
  const samples = str(p, 'probe-samples');
  if (samples) probes.samplesDir = samples;
  const dims = p.values.dim;
  if (Array.isArray(dims)) {
    probes.dims = {};
    for (const d of dims) {
      const m = /^([^=]+)=(\d+)$/.exec(d);
      if (!m) throw new InputError('bad-argument', `--dim ${d}: expected NAME=SIZE, e.g. --dim seq=32`);
      probes.dims[m[1]] = Number(m[2]);
    }
  }
  const vocab = int(p, 'vocab', 1);
  if (vocab !== undefined) probes.vocab = vocab;
  const vocabFile = str(p, 'vocab-file');
  if (vocabFile) probes.vocabFile = vocabFile;
  if (p.values['synthesise-base'] === true) probes.synthesiseBase = true;
  if (p.values['token-inversion'] === true) probes.tokenInversion = true;
  const normalize = parseNormalize(str(p, 'input-mean'), str(p, 'input-std'));
  if (normalize) probes.normalize = normalize;
  const opts: EngineOptions = { probes };
  const layers = list(p, 'layers');
  if (layers) opts.layers = layers.length === 1 && layers[0] === 'auto' ? 'auto' : layers;
  const batch = int(p, 'batch-size', 1, 4096);
  if (batch !== undefined) opts.batchSize = batch;
  const ws = str(p, 'workspace');
  if (ws) opts.workspace = ws;
  const budget = str(p, 'budget');
  if (budget !== undefined) opts.budget = parseBudget(budget);
  const timeLimit = int(p, 'time-limit', 1, MAX_TIME_LIMIT_S);
  if (timeLimit !== undefined) opts.timeLimitS = timeLimit;
  return opts;
}
