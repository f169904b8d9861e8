/**
 * Hostile and broken model files through the real CLI (`scan GOOD HOSTILE --baseline B --format json`), one
 * table row per case (see __tests__/fixtures/hostile.ts): exit 2, an error entry naming the file and the
 * reason, no stack trace, done in seconds, and the well-formed model beside it keeps exactly the result it
 * gets when scanned alone.
 */
import { cpuMsSince } from '../helpers/cpu-time.js';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cli, cleanSubset, tempDir, EXAMPLE_CANDIDATES } from '../cli/helpers.js';
import { HOSTILE_CASES, readGood } from '../fixtures/hostile.js';
import { MAX_ERROR_MESSAGE_CHARS, MODEL_TIME_LIMIT_MS } from '../../src/limits.js';
import type { FailedModel, ModelEntry, ScanReport, ScannedModel } from '../../src/report/types.js';

/**
 * Per-case bound: every refusal is quick, none runs to a time limit. Quick is counted in CPU time (this
 * process's, every thread; ORT's threads do not spin) against the good model's scan alone in the same
 * process: a case costs no more than a few plain scans, however loaded the machine (wall time was measured
 * here before, and a machine at load 15 stretched it past any bound). A case that waits without computing
 * (a hang on I/O) is bounded in wall time by half of MODEL_TIME_LIMIT_MS, which a model that runs into its
 * time limit exceeds.
 */
const CASE_CPU_FLOOR_MS = 10_000;
const CASE_CPU_PER_ALONE_SCAN = 3;
let caseCpuLimitMs = CASE_CPU_FLOOR_MS;
/** A stack frame line as V8 prints it ("    at fn (file.js:1:2)"). */
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

const root = tempDir('mf-hostile-');
const workspace = path.join(root, 'workspace');
const outside = path.join(root, 'outside');
const baseline = path.join(root, 'baseline');
const goodSource = path.join(EXAMPLE_CANDIDATES, 'backdoored.onnx');
const good = path.join(workspace, 'good.onnx');
let alone: ScannedModel;

function withoutTiming(m: ModelEntry): Omit<ModelEntry, 'durationMs'> {
  const { durationMs: _ignored, ...rest } = m;
  return rest;
}

beforeAll(async () => {
  mkdirSync(workspace, { recursive: true });
  mkdirSync(outside, { recursive: true });
  copyFileSync(goodSource, good);
  const built = await cli('baseline', 'build', cleanSubset(6), '--out', baseline);
  expect(built.code).toBe(0);
  const c0 = process.cpuUsage();
  const r = await cli(
    'scan',
    good,
    '--baseline',
    baseline,
    '--format',
    'json',
    '--workspace',
    workspace,
    '--quiet',
  );
  caseCpuLimitMs = Math.max(CASE_CPU_FLOOR_MS, CASE_CPU_PER_ALONE_SCAN * cpuMsSince(c0));
  expect(r.code).not.toBe(2);
  const report = JSON.parse(r.out) as ScanReport;
  alone = report.models[0] as ScannedModel;
  expect(alone.riskScore).toEqual(expect.any(Number));
  // no wall-clock bound of its own (a baseline build and a scan: minutes at load 15): jest's testTimeout
  // (jest.config.js) is what stops a hang here
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a hostile model beside a good one', () => {
  test.each(HOSTILE_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const dir = path.join(workspace, c.name);
    mkdirSync(dir, { recursive: true });
    const hostile = c.write(dir, { good: readGood(goodSource), outside });
    const flags = c.flags ? c.flags(workspace) : ['--workspace', workspace];

    const t0 = Date.now();
    const c0 = process.cpuUsage();
    const r = await cli('scan', good, hostile, '--baseline', baseline, '--format', 'json', ...flags);
    const cpuMs = cpuMsSince(c0);
    const elapsed = Date.now() - t0;

    expect(r.code).toBe(2);
    expect(cpuMs).toBeLessThan(caseCpuLimitMs);
    expect(elapsed).toBeLessThan(MODEL_TIME_LIMIT_MS / 2);
    expect(r.err).not.toMatch(STACK_FRAME);
    expect(r.err).not.toMatch(/internal error/);
    const report = JSON.parse(r.out) as ScanReport;
    expect(report.models).toHaveLength(2);
    const [first, second] = report.models;
    const failed = second as FailedModel;
    expect(failed.path).toBe(hostile);
    expect(failed.errorCode).toBe(c.code);
    expect(failed.error).toContain(hostile);
    expect(failed.error).toMatch(c.reason);
    expect(failed.error.split('\n')).toHaveLength(1);
    expect(failed.error.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
    expect(failed.error).not.toMatch(STACK_FRAME);
    expect(withoutTiming(first)).toEqual(withoutTiming(alone));
  });
});

describe('a hostile model given to the other commands', () => {
  test.each(['inspect', 'fingerprint'])('%s prints one escaped line naming the file', async (command) => {
    const c = HOSTILE_CASES.find((h) => h.name === 'control-chars-in-names');
    if (!c) throw new Error('no control-chars-in-names case');
    const dir = path.join(workspace, `cmd-${command}`);
    mkdirSync(dir, { recursive: true });
    const hostile = c.write(dir, { good: readGood(goodSource), outside });
    const extra = command === 'fingerprint' ? ['--out', path.join(root, 'never.mfp')] : [];
    const r = await cli(command, hostile, ...extra);
    expect(r.code).toBe(2);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toContain(hostile);
    expect(r.err).toMatch(c.reason);
    // eslint-disable-next-line no-control-regex -- the point is to find control characters
    expect(r.err.trimEnd()).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});
