/**
 * The README's first command, for real: the committed bundle (dist/cli through bin/model-fingerprint.js)
 * scans the example candidates against the committed example baseline. The baseline must verify, the
 * held-out clean model must come out low and the backdoored one high, with exit code 1. And a copy of that
 * baseline whose samples folder was edited is refused with the folder named and the fix (not "another
 * architecture"). And the README shows what these commands print: its terminal example and its rendered
 * pull-request comment are the CLI's output, character for character (a renderer change that forgets the
 * README fails here).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cli, EXAMPLE_CANDIDATES, tempDir } from './helpers.js';
import { loadBaseline } from '../../src/baseline/store.js';
import { decodeFingerprint } from '../../src/fingerprint/format.js';
import type { ScanReport, ScannedModel } from '../../src/report/types.js';

const EXAMPLE_BASELINE = 'baselines/example';

/** The committed bundle's CLI (bin/model-fingerprint.js), as a user runs it. */
function runBundle(...argv: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['bin/model-fingerprint.js', ...argv], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
}

/** The README's first command with extra flags. */
function exampleScan(...flags: string[]): { status: number | null; stdout: string; stderr: string } {
  return runBundle('scan', 'examples/models/candidates', '--baseline', EXAMPLE_BASELINE, ...flags);
}

test('the committed example baseline verifies', async () => {
  const b = await loadBaseline(EXAMPLE_BASELINE);
  expect(b.manifest.members.length).toBeGreaterThanOrEqual(20);
  expect(b.manifest.probes.spec).toMatchObject({ samplesDir: 'samples' }); // its own copy of examples/probe-samples
});

test('the committed example baseline is what the README build command makes today (fingerprints and ensemble)', () => {
  // A tool change that moves the fingerprints without rebuilding baselines/example would leave the README's
  // example scanning against stale references (it happened once: trigger blocks moved, the baseline did not).
  const out = join(tempDir('mf-example-rebuild-'), 'baseline');
  const r = runBundle(
    'baseline',
    'build',
    'examples/models/clean',
    '--probe-samples',
    'examples/probe-samples',
    '--out',
    out,
  );
  expect(r.status).toBe(0);
  const files = readdirSync(join(EXAMPLE_BASELINE, 'fingerprints')).sort();
  expect(readdirSync(join(out, 'fingerprints')).sort()).toEqual(files);
  for (const f of files) {
    const committed = decodeFingerprint(readFileSync(join(EXAMPLE_BASELINE, 'fingerprints', f)), f);
    const rebuilt = decodeFingerprint(readFileSync(join(out, 'fingerprints', f)), f);
    expect(Object.keys(rebuilt.blocks).sort()).toEqual(Object.keys(committed.blocks).sort());
    for (const [name, block] of Object.entries(committed.blocks))
      expect({
        f,
        name,
        same: Buffer.from(rebuilt.blocks[name].buffer).equals(Buffer.from(block.buffer)),
      }).toEqual({
        f,
        name,
        same: true,
      });
    for (const [name, check] of Object.entries(committed.selfChecks))
      expect({ f, name, score: rebuilt.selfChecks[name]?.score }).toEqual({ f, name, score: check.score });
  }
  expect(readFileSync(join(out, 'ensemble.json'), 'utf8')).toBe(
    readFileSync(join(EXAMPLE_BASELINE, 'ensemble.json'), 'utf8'),
  );
  rmSync(dirname(out), { recursive: true, force: true });
}, 180_000);

test('README command: the backdoored example is high, the clean candidate low, exit 1', () => {
  const r = exampleScan('--format', 'json', '-q');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(1);
  const report = JSON.parse(r.stdout) as ScanReport;
  const byName = Object.fromEntries(report.models.map((m) => [m.path.split('/').pop(), m as ScannedModel]));
  expect(byName['backdoored.onnx'].riskLevel).toBe('high');
  expect(byName['backdoored.onnx'].explanation.suspectedTargetClass).toBe(7);
  expect(byName['clean-candidate.onnx'].riskLevel).toBe('low');
}, 60_000);

test('the text report is what a terminal shows', () => {
  const r = exampleScan('-q');
  expect(r.status).toBe(1);
  expect(r.stdout).toMatch(/backdoored\.onnx\s+\d+\s+HIGH/);
  expect(r.stdout).toMatch(/clean-candidate\.onnx\s+\d+\s+low/);
}, 60_000);

test("the README's terminal example and rendered PR comment are what the CLI prints", () => {
  const readme = readFileSync('README.md', 'utf8');
  const command =
    '$ node bin/model-fingerprint.js scan examples/models/candidates --baseline baselines/example\n';
  const textStart = readme.indexOf(command) + command.length;
  expect(textStart).toBeGreaterThan(command.length);
  const shownText = readme.slice(textStart, readme.indexOf('\n```\n', textStart) + 1);
  expect(exampleScan().stdout).toBe(shownText);

  const marker = '<details><summary>The pull-request comment for the example, rendered</summary>\n\n';
  const mdStart = readme.indexOf(marker) + marker.length;
  expect(mdStart).toBeGreaterThan(marker.length);
  const section = readme.slice(mdStart, readme.indexOf('\n### ', mdStart)).trimEnd();
  expect(section.endsWith('</details>')).toBe(true); // the outer fold closes the rendered comment
  const shownMarkdown = section.slice(0, -'</details>'.length).trimEnd();
  expect(exampleScan('--format', 'markdown').stdout.trimEnd()).toBe(shownMarkdown);
}, 60_000);

test('an edited samples folder in the baseline: exit 2, the message names the folder and the fix', async () => {
  const dir = join(tempDir('mf-samples-edit-'), 'baseline');
  cpSync(EXAMPLE_BASELINE, dir, { recursive: true });
  const samples = join(dir, 'samples');
  const names = readdirSync(samples).sort();
  // one sample replaced by another: every file still a valid image, the baseline's own files untouched
  copyFileSync(join(samples, names[0]), join(samples, names[names.length - 1]));
  const r = await cli('scan', `${EXAMPLE_CANDIDATES}/clean-candidate.onnx`, '--baseline', dir, '-q');
  expect(r.code).toBe(2);
  expect(r.out).toContain(
    `the probes made from the baseline's samples (${samples}) differ from the ones it was built with`,
  );
  expect(r.out).toContain('a file there was changed, added or removed');
  expect(r.out).toContain(`--probe-samples ${samples} --out ${dir}`);
  expect(r.out).not.toContain('another architecture');
  rmSync(dirname(dir), { recursive: true, force: true });
}, 60_000);
