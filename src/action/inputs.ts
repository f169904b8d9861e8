/**
 * The action's inputs (action.yml), read once and typed. The runner passes them as INPUT_* environment
 * variables; @actions/core's getInput reads them and is handed in, so this module stays testable without
 * the runner. Defaults here equal action.yml's, so a run without them (tests, local runs) behaves the same.
 * A bad value is an InputError naming the input and the accepted values.
 */
import { MAX_TIME_LIMIT_S } from '../limits.js';
import { InputError } from '../errors.js';
import { parseNormalize } from '../probes/normalize.js';
import type { FailOn, OnNotAssessed } from '../report/types.js';
import { ON_NOT_ASSESSED_VALUES } from '../score/risk.js';
import { parseBudget } from '../fingerprint/budget.js';
import type { EngineOptions, ProbeOptions } from '../scan/api.js';

export type Mode = 'scan' | 'baseline';

export interface ActionInputs {
  /** Glob patterns (minimatch syntax); a leading `!` excludes. */
  models: string[];
  /** Baseline directory, relative to the workspace. */
  baseline: string;
  /** Cache key prefix of the baseline in the Actions cache; null: no cache. */
  baselineCacheKey: string | null;
  mode: Mode;
  failOn: FailOn;
  /** What a model that was not assessed does to the job: fail (default) or warn. */
  onNotAssessed: OnNotAssessed;
  /** Empty: no API calls (check run and comment replaced by workflow-command annotations). */
  githubToken: string;
  comment: boolean;
  checkName: string;
  /** Login whose comment carrying the sticky marker is ours to edit; null: detect (see comment.ts). */
  commentAuthor: string | null;
  /** Write the HTML report with the pictures and upload it as a workflow artifact (named reportArtifactName). */
  reportArtifact: boolean;
  reportArtifactName: string;
  engine: EngineOptions;
}

export type GetInput = (name: string) => string;

export const INPUT_DEFAULTS = {
  models: '**/*.onnx',
  baseline: 'baselines/default',
  mode: 'scan',
  'fail-on': 'high',
  'on-not-assessed': 'fail',
  comment: 'true',
  'check-name': 'Model fingerprint',
  'report-artifact': 'false',
  'report-artifact-name': 'model-fingerprint-report',
} as const;

const FAIL_ON: readonly FailOn[] = ['high', 'medium', 'low', 'never'];
const MODES: readonly Mode[] = ['scan', 'baseline'];
/** Upper bound of `probes`: beyond it a scan is slow without telling more. */
const MAX_PROBES_INPUT = 4096;

function bad(name: string, value: string, expected: string): InputError {
  return new InputError(
    'bad-argument',
    `action input "${name}" is "${value}": ${expected} (fix it in the workflow's "with:" block)`,
  );
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  const v = value.toLowerCase();
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw bad(name, value, `expected one of ${allowed.join(', ')}`);
}

function bool(name: string, value: string): boolean {
  // The YAML 1.2 core schema's booleans, as core.getBooleanInput accepts them.
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw bad(name, value, 'expected true or false');
}

function wholeNumber(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw bad(name, value, `expected a whole number between ${min} and ${max}`);
  }
  return n;
}

/** The characters an artifact name may not contain (the artifact service refuses them). */
const ARTIFACT_NAME_FORBIDDEN = /["':<>|*?\\/\r\n]/;

function artifactName(value: string): string {
  if (ARTIFACT_NAME_FORBIDDEN.test(value)) {
    throw bad(
      'report-artifact-name',
      value,
      'expected a name without any of " : < > | * ? \\ / or line breaks',
    );
  }
  return value;
}

/** Splits a list given one per line or comma-separated; blank entries and `#` comments are dropped. */
export function splitList(value: string, commas = true): string[] {
  return value
    .split(commas ? /[\n,]/ : /\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'));
}

export function readInputs(getInput: GetInput): ActionInputs {
  const raw = (name: string): string => {
    const v = getInput(name).trim();
    if (v !== '') return v;
    return (INPUT_DEFAULTS as Record<string, string>)[name] ?? '';
  };

  // Globs one per line (a comma can be part of a brace pattern such as *.{onnx,ort}).
  const models = splitList(raw('models'), false);
  if (!models.some((p) => !p.startsWith('!'))) {
    throw bad('models', raw('models'), 'expected at least one glob pattern, e.g. **/*.onnx');
  }

  const probes: ProbeOptions = {};
  const count = raw('probes');
  if (count) probes.count = wholeNumber('probes', count, 1, MAX_PROBES_INPUT);
  const seed = raw('probe-seed');
  if (seed) probes.seed = wholeNumber('probe-seed', seed, 0, 2 ** 32 - 1);
  const kinds = raw('probe-kinds');
  if (kinds) probes.kinds = splitList(kinds);
  const samples = raw('probe-samples');
  if (samples) probes.samplesDir = samples;
  const vocabFile = raw('vocab-file');
  if (vocabFile) probes.vocabFile = vocabFile;
  // Same checks as the CLI's --input-mean/--input-std, naming the action inputs and where to fix them.
  let normalize: ProbeOptions['normalize'];
  try {
    normalize = parseNormalize(raw('input-mean'), raw('input-std'), {
      mean: 'action input "input-mean"',
      std: 'action input "input-std"',
    });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    throw new InputError('bad-argument', `${e.message} (fix it in the workflow's "with:" block)`);
  }
  if (normalize) probes.normalize = normalize;

  // Given or not: a scan against a baseline notes a budget other than the baseline's only when one was asked for.
  const engine: EngineOptions = { probes };
  const budget = raw('budget');
  if (budget) {
    try {
      engine.budget = parseBudget(budget, 'action input "budget" is');
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      throw new InputError('bad-argument', `${e.message} (fix it in the workflow's "with:" block)`);
    }
  }
  const timeLimit = raw('time-limit');
  if (timeLimit) engine.timeLimitS = wholeNumber('time-limit', timeLimit, 1, MAX_TIME_LIMIT_S);
  const layers = raw('layers');
  if (layers) {
    const list = splitList(layers);
    engine.layers = list.length === 1 && list[0] === 'auto' ? 'auto' : list;
  }

  const checkName = raw('check-name');
  return {
    models,
    baseline: raw('baseline'),
    baselineCacheKey: raw('baseline-cache-key') || null,
    mode: oneOf('mode', raw('mode'), MODES),
    failOn: oneOf('fail-on', raw('fail-on'), FAIL_ON),
    onNotAssessed: oneOf('on-not-assessed', raw('on-not-assessed'), ON_NOT_ASSESSED_VALUES),
    githubToken: raw('github-token'),
    comment: bool('comment', raw('comment')),
    checkName,
    commentAuthor: raw('comment-author') || null,
    reportArtifact: bool('report-artifact', raw('report-artifact')),
    reportArtifactName: artifactName(raw('report-artifact-name')),
    engine,
  };
}
