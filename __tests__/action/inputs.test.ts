/**
 * Inputs and small pure parts of the action: input parsing and its errors, action.yml agreeing with the
 * code (every input read, same defaults), glob matching, trimming to the API's limits, annotation levels.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { annotationFor } from '../../src/action/annotations.js';
import { pathMatcher } from '../../src/action/changed-files.js';
import { INPUT_DEFAULTS, readInputs } from '../../src/action/inputs.js';
import { trimBytes, trimChars } from '../../src/action/text.js';
import { BUDGET_MACS } from '../../src/limits.js';
import { fakeVerdict } from './harness.js';

const fromMap = (m: Record<string, string>) => (name: string) => m[name] ?? '';

/** Inputs declared in action.yml with their defaults (a two-level scan of the YAML is enough here). */
function actionYmlInputs(): Map<string, string> {
  const text = readFileSync(join(process.cwd(), 'action.yml'), 'utf8');
  const block = text.slice(text.indexOf('\ninputs:'), text.indexOf('\noutputs:'));
  const out = new Map<string, string>();
  let current = '';
  for (const line of block.split('\n')) {
    const name = /^ {2}([a-z-]+):\s*$/.exec(line);
    if (name) current = name[1];
    const def = /^ {4}default:\s*(.*)$/.exec(line);
    if (def && current) out.set(current, def[1].replace(/^'(.*)'$/, '$1'));
  }
  return out;
}

test('every action.yml input is read, and the code defaults equal action.yml defaults', () => {
  const declared = actionYmlInputs();
  expect([...declared.keys()].sort()).toEqual(
    [
      'baseline',
      'baseline-cache-key',
      'budget',
      'check-name',
      'comment',
      'comment-author',
      'fail-on',
      'github-token',
      'input-mean',
      'input-std',
      'layers',
      'mode',
      'models',
      'on-not-assessed',
      'probe-kinds',
      'probe-samples',
      'probe-seed',
      'probes',
      'report-artifact',
      'report-artifact-name',
      'time-limit',
      'vocab-file',
    ].sort(),
  );
  const asked = new Set<string>();
  readInputs((name) => {
    asked.add(name);
    return '';
  });
  expect([...asked].sort()).toEqual([...declared.keys()].sort());
  for (const [name, value] of Object.entries(INPUT_DEFAULTS)) expect(declared.get(name)).toBe(value);
  expect(declared.get('github-token')).toBe('${{ github.token }}');
  const src = readFileSync(join(process.cwd(), 'action.yml'), 'utf8');
  expect(src).toMatch(/using: node24\n\s+main: dist\/main\/index\.js/);
});

test('inputs are typed: lists, numbers, booleans, engine options', () => {
  const i = readInputs(
    fromMap({
      models: 'a/**/*.onnx\n\n!a/vendor/**\n# comment',
      'fail-on': 'Medium',
      comment: 'false',
      probes: '32',
      'probe-seed': '7',
      'probe-kinds': 'gaussian, edge',
      'probe-samples': 'samples',
      'vocab-file': 'models/vocab.txt',
      layers: 'conv1,fc',
      'baseline-cache-key': 'mf',
    }),
  );
  expect(i.models).toEqual(['a/**/*.onnx', '!a/vendor/**']);
  expect(i.failOn).toBe('medium');
  expect(i.comment).toBe(false);
  expect(i.baselineCacheKey).toBe('mf');
  expect(i.engine).toEqual({
    probes: {
      count: 32,
      seed: 7,
      kinds: ['gaussian', 'edge'],
      samplesDir: 'samples',
      vocabFile: 'models/vocab.txt',
    },
    layers: ['conv1', 'fc'],
  });
  expect(readInputs(fromMap({ layers: 'auto' })).engine.layers).toBe('auto');
  expect(readInputs(fromMap({})).mode).toBe('scan');
  // not assessed fails the gate unless told otherwise; no budget asked for unless given
  expect(readInputs(fromMap({})).onNotAssessed).toBe('fail');
  expect(readInputs(fromMap({ 'on-not-assessed': 'Warn' })).onNotAssessed).toBe('warn');
  expect(readInputs(fromMap({})).engine.budget).toBeUndefined();
  expect(readInputs(fromMap({ budget: 'thorough' })).engine.budget).toEqual({
    setting: 'thorough',
    macs: BUDGET_MACS.thorough,
  });
  expect(readInputs(fromMap({ budget: '2e13' })).engine.budget).toEqual({ setting: '2e13', macs: 2e13 });
  // the fixed time allowance: the default unless given
  expect(readInputs(fromMap({})).engine.timeLimitS).toBeUndefined();
  expect(readInputs(fromMap({ 'time-limit': '600' })).engine.timeLimitS).toBe(600);
});

test.each([
  [{ mode: 'train' }, 'action input "mode" is "train": expected one of scan, baseline'],
  [{ probes: '0' }, 'action input "probes" is "0": expected a whole number between 1 and 4096'],
  [{ probes: '1e3' }, 'action input "probes" is "1e3"'],
  [{ comment: 'yes' }, 'action input "comment" is "yes": expected true or false'],
  [{ models: '!only/**' }, 'action input "models" is "!only/**": expected at least one glob pattern'],
  [{ 'on-not-assessed': 'ignore' }, 'action input "on-not-assessed" is "ignore": expected one of fail, warn'],
  [{ budget: 'huge' }, 'action input "budget" is huge: expected fast, default, thorough or a number'],
  [{ budget: '-5' }, 'action input "budget" is -5: expected fast, default, thorough or a number'],
  [{ 'time-limit': '0' }, 'action input "time-limit" is "0": expected a whole number between 1 and 86400'],
  [{ 'time-limit': '2m' }, 'action input "time-limit" is "2m"'],
])('bad input %j is an InputError naming the input', (given, message) => {
  expect(() => readInputs(fromMap(given))).toThrow(message);
});

test('glob matching: case-insensitive, dot folders included, exclusions win', () => {
  const match = pathMatcher(['**/*.onnx', '!vendor/**']);
  expect(match('m.onnx')).toBe(true);
  expect(match('deep/er/M.ONNX')).toBe(true);
  expect(match('.github/x.onnx')).toBe(true);
  expect(match('vendor/x.onnx')).toBe(false);
  expect(match('x.onnx.txt')).toBe(false);
});

test('text is trimmed to the API limits at character boundaries, with a marker', () => {
  const long = 'é'.repeat(40_000) + '🙂'.repeat(10_000);
  const bytes = trimBytes(long, 64 * 1024);
  expect(Buffer.byteLength(bytes)).toBeLessThanOrEqual(64 * 1024);
  expect(bytes.endsWith('(truncated)')).toBe(true);
  expect(bytes).not.toContain('\uFFFD');
  const chars = trimChars('x'.repeat(300), 255);
  expect(chars).toHaveLength(255);
  expect(trimChars('short', 255)).toBe('short');
  const emoji = trimChars('🙂'.repeat(200), 255);
  expect(emoji.length).toBeLessThanOrEqual(255);
  expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(emoji)).toBe(false);
});

test('annotation levels: high failure, medium warning, low notice, unscannable failure; long messages trimmed', () => {
  expect(annotationFor(fakeVerdict('t/trojan.onnx', 'high')).level).toBe('failure');
  expect(annotationFor(fakeVerdict('t/suspect.onnx', 'high')).level).toBe('warning');
  expect(annotationFor(fakeVerdict('t/clean.onnx', 'high')).level).toBe('notice');
  const broken = annotationFor(fakeVerdict('t/broken.onnx', 'high'));
  expect(broken.level).toBe('failure');
  // not assessed: a failure when it fails the gate, a warning under on-not-assessed warn; never a notice
  const unassessed = annotationFor(fakeVerdict('t/huge.onnx', 'high'));
  expect(unassessed.level).toBe('failure');
  expect(unassessed.title).toContain('Not assessed');
  expect(unassessed.message).toContain('Fix: Give --budget thorough');
  expect(annotationFor(fakeVerdict('t/huge.onnx', 'high', 'warn')).level).toBe('warning');
  const huge = { path: 'x.onnx', error: 'e'.repeat(100_000), errorCode: 'not-onnx' };
  expect(Buffer.byteLength(annotationFor(huge).message)).toBeLessThanOrEqual(64 * 1024);
});
