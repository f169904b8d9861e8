/**
 * The README's first command, for real: the committed bundle (dist/cli through bin/model-fingerprint.js)
 * scans the example candidates against the committed example baseline. The baseline must verify, the
 * held-out clean model must come out low and the backdoored one high, with exit code 1.
 */
import { spawnSync } from 'node:child_process';
import { loadBaseline } from '../../src/baseline/store.js';
import type { ScanReport, ScannedModel } from '../../src/report/types.js';

const EXAMPLE_BASELINE = 'baselines/example';

test('the committed example baseline verifies', async () => {
  const b = await loadBaseline(EXAMPLE_BASELINE);
  expect(b.manifest.members.length).toBeGreaterThanOrEqual(20);
  expect(b.manifest.probes.spec).toMatchObject({ samplesDir: 'samples' }); // its own copy of examples/probe-samples
});

test('README command: the backdoored example is high, the clean candidate low, exit 1', () => {
  const r = spawnSync(
    process.execPath,
    [
      'bin/model-fingerprint.js',
      'scan',
      'examples/models/candidates',
      '--baseline',
      EXAMPLE_BASELINE,
      '--format',
      'json',
      '-q',
    ],
    { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(1);
  const report = JSON.parse(r.stdout) as ScanReport;
  const byName = Object.fromEntries(report.models.map((m) => [m.path.split('/').pop(), m as ScannedModel]));
  expect(byName['backdoored.onnx'].riskLevel).toBe('high');
  expect(byName['backdoored.onnx'].explanation.suspectedTargetClass).toBe(7);
  expect(byName['clean-candidate.onnx'].riskLevel).toBe('low');
}, 60_000);

test('the text report is what a terminal shows', () => {
  const r = spawnSync(
    process.execPath,
    ['bin/model-fingerprint.js', 'scan', 'examples/models/candidates', '--baseline', EXAMPLE_BASELINE, '-q'],
    {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );
  expect(r.status).toBe(1);
  expect(r.stdout).toMatch(/backdoored\.onnx\s+\d+\s+HIGH/);
  expect(r.stdout).toMatch(/clean-candidate\.onnx\s+\d+\s+low/);
}, 60_000);
