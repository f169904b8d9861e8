/**
 * The action on pull_request events, against the fake GitHub server: which files are scanned, the check
 * run (conclusion, annotations, batches of 50), outputs, the job summary, failing the job.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScanOutcome } from '../../src/action/scan-mode.js';
import type { RunOutcome } from '../../src/action/run.js';
import { HEAD_SHA, Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await new Harness().start();
});
afterEach(async () => {
  await h.stop();
});

function scanOutcome(o: RunOutcome): ScanOutcome {
  if (o.mode !== 'scan') throw new Error(`expected a scan outcome, got ${JSON.stringify(o)}`);
  return o;
}

interface ApiAnnotation {
  path: string;
  annotation_level: string;
  title: string;
  message: string;
}

test('one clean and one flagged model: check run fails with a failure annotation on the flagged path only', async () => {
  h.addFiles('models/clean.onnx', 'models/trojan.onnx');
  h.fake.prFiles = [
    { filename: 'models/clean.onnx', status: 'added' },
    { filename: 'models/trojan.onnx', status: 'modified' },
    { filename: 'README.md', status: 'modified' },
  ];
  const o = scanOutcome(await h.run({ event: 'pull_request' }));

  expect(h.fake.calls('pulls.listFiles')[0].path).toBe('/repos/acme/models/pulls/7/files');
  expect(h.scanCalls[0].paths).toEqual([
    join(h.workspace, 'models/clean.onnx'),
    join(h.workspace, 'models/trojan.onnx'),
  ]);

  const [run] = h.fake.checkRuns;
  expect(h.fake.checkRuns).toHaveLength(1);
  expect(run.create).toMatchObject({
    name: 'Model fingerprint',
    head_sha: HEAD_SHA,
    status: 'completed',
    conclusion: 'failure',
  });
  const output = run.create.output as { title: string; summary: string; annotations: ApiAnnotation[] };
  expect(output.title).toContain('1 high');
  expect(output.title).toContain('1 reaches fail-on high');
  const failures = output.annotations.filter((a) => a.annotation_level === 'failure');
  expect(failures.map((a) => a.path)).toEqual(['models/trojan.onnx']);
  expect(output.annotations.find((a) => a.path === 'models/clean.onnx')?.annotation_level).toBe('notice');
  expect(failures[0].message).toContain('Risk 88/100');

  expect(o.conclusion).toBe('failure');
  expect(h.failures).toHaveLength(1);
  expect(h.failures[0]).toContain('models/trojan.onnx (risk 88/100, high)');
  expect(h.failures[0]).not.toContain('clean.onnx');

  const out = h.outputs();
  expect(out).toMatchObject({ 'risk-score': '88', 'risk-level': 'high', flagged: '1' });
  expect(out.report.startsWith(h.runnerTemp)).toBe(true);
  const report = JSON.parse(readFileSync(out.report, 'utf8')) as { models: { path: string }[] };
  // Paths in the published report are repository paths, not the runner's absolute paths.
  expect(report.models.map((m) => m.path)).toEqual(['models/clean.onnx', 'models/trojan.onnx']);
  const sarif = JSON.parse(readFileSync(out.sarif, 'utf8')) as {
    runs: {
      results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[];
    }[];
  };
  const uris = sarif.runs[0].results.map((r) => r.locations[0].physicalLocation.artifactLocation.uri);
  expect(uris).toContain('models/trojan.onnx');
  expect(uris.every((u) => !u.startsWith('/'))).toBe(true);
  expect(readFileSync(out.markdown, 'utf8')).toContain('trojan.onnx');
  expect(h.summary()).toContain('models/trojan.onnx');
  expect(h.summary()).toContain(`Per-model annotations: [check run](${h.fake.url}/checks/${run.id})`);
});

test('removed files are not scanned; renamed and modified ones are; non-matching paths are ignored', async () => {
  h.addFiles('a/renamed.onnx', 'b/kept.onnx', 'c/notes.txt');
  h.fake.prFiles = [
    { filename: 'old/gone.onnx', status: 'removed' },
    { filename: 'a/renamed.onnx', status: 'renamed', previous_filename: 'a/before.onnx' },
    { filename: 'b/kept.onnx', status: 'modified' },
    { filename: 'c/notes.txt', status: 'added' },
  ];
  const o = scanOutcome(await h.run({ event: 'pull_request' }));
  expect(h.scanCalls[0].paths.map((p) => p.slice(h.workspace.length + 1))).toEqual([
    'a/renamed.onnx',
    'b/kept.onnx',
  ]);
  expect(o.conclusion).toBe('success');
  expect(h.fake.checkRuns[0].create.conclusion).toBe('success');
  expect(h.failures).toEqual([]);
});

test('custom globs with an exclusion and fail-on medium', async () => {
  h.addFiles('zoo/suspect.ort', 'zoo/vendor/suspect.ort', 'zoo/clean.onnx');
  h.fake.prFiles = [
    { filename: 'zoo/suspect.ort', status: 'added' },
    { filename: 'zoo/vendor/suspect.ort', status: 'added' },
    { filename: 'zoo/clean.onnx', status: 'added' },
  ];
  await h.run({ event: 'pull_request', inputs: { models: '**/*.ort\n!zoo/vendor/**', 'fail-on': 'medium' } });
  expect(h.scanCalls[0].paths).toEqual([join(h.workspace, 'zoo/suspect.ort')]);
  expect(h.scanCalls[0].opts.failOn).toBe('medium');
  expect(h.failures[0]).toContain('reach fail-on medium');
  expect(h.outputs().flagged).toBe('1');
});

test('nothing matched: neutral check run, short summary, no failure, scan not called', async () => {
  h.fake.prFiles = [{ filename: 'docs/readme.md', status: 'modified' }];
  const o = scanOutcome(await h.run({ event: 'pull_request' }));
  expect(h.scanCalls).toHaveLength(0);
  expect(o.conclusion).toBe('neutral');
  expect(h.fake.checkRuns[0].create).toMatchObject({ conclusion: 'neutral' });
  expect((h.fake.checkRuns[0].create.output as { title: string }).title).toBe(
    'No model files changed: nothing to scan',
  );
  expect(h.failures).toEqual([]);
  expect(h.summary()).toContain('nothing was scanned');
  expect(h.summary().length).toBeLessThan(1000);
  expect(h.outputs()).toMatchObject({ 'risk-score': '0', 'risk-level': 'none', flagged: '0' });
});

test('more than 50 annotations: the first 50 with checks.create, the rest in checks.update batches', async () => {
  const names = Array.from(
    { length: 120 },
    (_, i) => `m/${String(i).padStart(3, '0')}${i < 3 ? '-trojan' : ''}.onnx`,
  );
  h.addFiles(...names);
  h.fake.prFiles = names.map((filename) => ({ filename, status: 'added' as const }));
  await h.run({ event: 'pull_request' });
  const [run] = h.fake.checkRuns;
  const created = (run.create.output as { annotations: ApiAnnotation[] }).annotations;
  const updates = run.updates.map((u) => (u.output as { annotations: ApiAnnotation[] }).annotations);
  expect(created).toHaveLength(50);
  expect(updates.map((u) => u.length)).toEqual([50, 20]);
  // Most severe first: the three flagged models lead the first batch.
  expect(created.slice(0, 3).every((a) => a.annotation_level === 'failure')).toBe(true);
  const all = [...created, ...updates.flat()].map((a) => a.path);
  expect(new Set(all).size).toBe(120);
  expect(
    h.fake.calls('checks.update').every((r) => r.path === `/repos/acme/models/check-runs/${run.id}`),
  ).toBe(true);
  // Paginated listing: 120 files at 100 per page.
  expect(h.fake.calls('pulls.listFiles').map((r) => r.query.page ?? '1')).toEqual(['1', '2']);
});

test('a pull request at the 3000-file API cap: warning, then every matching workspace file is scanned', async () => {
  h.addFiles('models/one.onnx', 'models/two.onnx');
  h.fake.prFiles = Array.from({ length: 3500 }, (_, i) => ({
    filename: `data/f${i}.csv`,
    status: 'added' as const,
  }));
  const o = scanOutcome(await h.run({ event: 'pull_request' }));
  expect(h.fake.calls('pulls.listFiles')).toHaveLength(30);
  expect(o.selection.source).toBe('workspace');
  expect(h.commands('warning').some((l) => l.includes('lists only the first 3000'))).toBe(true);
  expect(h.scanCalls[0].paths).toEqual([
    join(h.workspace, 'models/one.onnx'),
    join(h.workspace, 'models/two.onnx'),
  ]);
});

test('an unscannable model fails the check and the job, with the error in its annotation', async () => {
  h.addFiles('models/broken.onnx', 'models/clean.onnx');
  h.fake.prFiles = [
    { filename: 'models/broken.onnx', status: 'added' },
    { filename: 'models/clean.onnx', status: 'added' },
  ];
  const o = scanOutcome(await h.run({ event: 'pull_request' }));
  expect(o.conclusion).toBe('failure');
  const annotations = (h.fake.checkRuns[0].create.output as { annotations: ApiAnnotation[] }).annotations;
  const broken = annotations.find((a) => a.path === 'models/broken.onnx');
  expect(broken).toMatchObject({
    annotation_level: 'failure',
    title: 'Model could not be scanned (not-onnx)',
  });
  expect(broken?.message).toContain('re-export it with torch.onnx.export');
  expect(h.failures[0]).toContain('1 model(s) could not be scanned');
  expect(h.failures[0]).toContain('models/broken.onnx: not an ONNX model');
  // The runner's workspace prefix is cut from paths and messages: the repository path is what people know.
  expect(h.failures[0]).not.toContain(h.workspace);
  expect(broken?.message).not.toContain(h.workspace);
  expect(h.outputs().flagged).toBe('0');
});

test('fail-on never: the check run still shows a flagged model but the job passes', async () => {
  h.addFiles('models/trojan.onnx');
  h.fake.prFiles = [{ filename: 'models/trojan.onnx', status: 'added' }];
  await h.run({ event: 'pull_request', inputs: { 'fail-on': 'never' } });
  expect(h.failures).toEqual([]);
  const annotations = (h.fake.checkRuns[0].create.output as { annotations: ApiAnnotation[] }).annotations;
  expect(annotations[0].annotation_level).toBe('failure');
  expect(h.outputs()).toMatchObject({ 'risk-level': 'high', flagged: '0' });
});

test('a bad input fails the job with one line naming the input', async () => {
  const o = await h
    .run({ event: 'pull_request', inputs: { 'fail-on': 'critical' } })
    .catch((e: unknown) => e);
  // readInputs runs before run() in main.ts; here the harness builds deps first, so the error surfaces directly.
  expect(String(o)).toContain(
    'action input "fail-on" is "critical": expected one of high, medium, low, never',
  );
  expect(h.fake.requests).toHaveLength(0);
});

test('a model that was not assessed fails the job by default, with why and the fix; never a low or a 0 score', async () => {
  h.addFiles('models/clean.onnx', 'models/huge.onnx');
  h.fake.prFiles = [
    { filename: 'models/clean.onnx', status: 'added' },
    { filename: 'models/huge.onnx', status: 'added' },
  ];
  const o = scanOutcome(await h.run({ event: 'pull_request' }));
  expect(h.scanCalls[0].opts.onNotAssessed).toBe('fail');
  const [run] = h.fake.checkRuns;
  expect(run.create.conclusion).toBe('failure');
  const output = run.create.output as { title: string; annotations: ApiAnnotation[] };
  expect(output.title).toContain('1 not assessed, which fails the gate');
  const note = output.annotations.find((a) => a.path === 'models/huge.onnx');
  expect(note?.annotation_level).toBe('failure');
  expect(note?.message).toContain('Fix: Give --budget thorough');
  expect(o.tally.byLevel['not-assessed']).toBe(1);
  expect(h.failures).toHaveLength(1);
  expect(h.failures[0]).toContain('were not assessed');
  expect(h.failures[0]).toContain('on-not-assessed: warn');
  // the worst level is "not-assessed" (above low); the score is the assessed model's, never 0 for huge
  expect(h.outputs()).toMatchObject({ 'risk-level': 'not-assessed', 'risk-score': '7', 'not-assessed': '1' });
  expect(h.fake.comments[0].body).toContain('**NOT ASSESSED**');
});

test('on-not-assessed warn: the job passes, the check run is neutral, the model a warning; alone, it has no score', async () => {
  h.addFiles('models/huge.onnx');
  h.fake.prFiles = [{ filename: 'models/huge.onnx', status: 'added' }];
  const o = scanOutcome(await h.run({ event: 'pull_request', inputs: { 'on-not-assessed': 'warn' } }));
  expect(h.scanCalls[0].opts.onNotAssessed).toBe('warn');
  expect(o.conclusion).toBe('neutral');
  expect(h.failures).toHaveLength(0);
  const output = h.fake.checkRuns[0].create.output as { annotations: ApiAnnotation[] };
  expect(output.annotations[0].annotation_level).toBe('warning');
  expect(h.outputs()).toMatchObject({ 'risk-level': 'not-assessed', 'risk-score': '', flagged: '0' });
});
