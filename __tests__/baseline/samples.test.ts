/**
 * A baseline built with probe samples carries them (BASELINE/samples/): a scan from anywhere uses the same
 * real inputs without a flag, after the original folder is gone; tampered samples are refused as a
 * probe-set mismatch; `baseline add --out` elsewhere takes the samples along.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cli, cleanSubset, tempDir, EXAMPLE_CANDIDATES } from '../cli/helpers.js';
import type { ScanReport } from '../../src/report/types.js';
import { MIN_SAMPLE_BASE } from '../../src/selfcheck/base-inputs.js';

const work = tempDir('mf-samples-');
const clean = cleanSubset(6);
const samples = join(work, 'my-samples');
const baseline = join(work, 'baseline');
const SAMPLE_FILES = MIN_SAMPLE_BASE + 4;

async function scanJson(base: string): Promise<ScanReport> {
  const r = await cli('scan', EXAMPLE_CANDIDATES, '--baseline', base, '--format', 'json', '-q');
  expect(r.code).not.toBe(2);
  return JSON.parse(r.out) as ScanReport;
}

beforeAll(async () => {
  mkdirSync(samples);
  for (const f of readdirSync('examples/probe-samples').sort().slice(0, SAMPLE_FILES))
    copyFileSync(join('examples/probe-samples', f), join(samples, f));
  const r = await cli('baseline', 'build', clean, '--probe-samples', samples, '--out', baseline);
  expect(r.err).not.toMatch(/internal error/);
  expect(r.code).toBe(0);
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

test('the samples are copied into the baseline and the manifest points there', () => {
  const m = JSON.parse(readFileSync(join(baseline, 'manifest.json'), 'utf8'));
  expect(m.probes.spec.samplesDir).toBe('samples');
  expect(readdirSync(join(baseline, 'samples')).sort()).toEqual(readdirSync(samples).sort());
});

test("a scan uses the baseline's samples after the original folder is gone", async () => {
  const before = await scanJson(baseline);
  rmSync(samples, { recursive: true, force: true });
  const after = await scanJson(baseline);
  expect(after.models.every((m) => !('error' in m))).toBe(true);
  expect(after.models.map((m) => ('riskScore' in m ? m.riskScore : -1))).toEqual(
    before.models.map((m) => ('riskScore' in m ? m.riskScore : -1)),
  );
  // (were the samples not found, the probe-set hash would differ and every entry would be a mismatch)
}, 120_000);

test('a tampered sample makes every scan a probe-set mismatch, not a silent change', async () => {
  const copy = join(work, 'tampered');
  cpSync(baseline, copy, { recursive: true });
  // a valid image, but another one than the baseline was built with
  const first = readdirSync(join(copy, 'samples')).sort()[0];
  const other = readdirSync('examples/probe-samples').sort().at(-1) as string;
  copyFileSync(join('examples/probe-samples', other), join(copy, 'samples', first));
  const r = await cli('scan', EXAMPLE_CANDIDATES, '--baseline', copy, '--format', 'json', '-q');
  expect(r.code).toBe(2);
  const report = JSON.parse(r.out) as ScanReport;
  for (const m of report.models) expect('errorCode' in m && m.errorCode).toBe('baseline-mismatch');
}, 120_000);

test('baseline add --out elsewhere takes the samples along', async () => {
  const grown = join(work, 'grown');
  const more = cleanSubset(7);
  const r = await cli('baseline', 'add', baseline, more, '--out', grown);
  expect(r.code).toBe(0);
  expect(existsSync(join(grown, 'samples'))).toBe(true);
  expect(readdirSync(join(grown, 'samples')).sort()).toEqual(readdirSync(join(baseline, 'samples')).sort());
  expect(JSON.parse(readFileSync(join(grown, 'manifest.json'), 'utf8')).probes.spec.samplesDir).toBe(
    'samples',
  );
}, 180_000);
