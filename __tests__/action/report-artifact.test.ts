/**
 * `report-artifact: true`: the action writes the HTML report (index.html and the pictures) and uploads it
 * with the real @actions/artifact client to a local fake of the artifact service (the only fake: at the
 * network edge); the comment and the job summary link the artifact and show the flagged model's patch map
 * as a Unicode heat map. A fork's read-only token still gets the summary; an upload that fails is one
 * warning, never a lost scan.
 */
import AdmZip from 'adm-zip';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScanOutcome } from '../../src/action/scan-mode.js';
import { readInputs } from '../../src/action/inputs.js';
import { READ_ONLY_TOKEN } from '../helpers/fake-github.js';
import { FakeArtifacts, fakeRuntimeToken } from '../helpers/fake-artifacts.js';
import { Harness, OWNER, REPO } from './harness.js';

let h: Harness;
let store: FakeArtifacts;
beforeEach(async () => {
  h = await new Harness().start();
  store = new FakeArtifacts();
  await store.start();
});
afterEach(async () => {
  await store.stop();
  await h.stop();
});

const RUN_ID = '987654';

/** The runner's environment for the artifact service, pointed at the fake. */
function runnerEnv(): Record<string, string> {
  return {
    ACTIONS_RUNTIME_TOKEN: fakeRuntimeToken(),
    ACTIONS_RESULTS_URL: `${store.url}/`,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: RUN_ID,
  };
}

function prWith(...files: string[]): void {
  h.addFiles(...files);
  h.fake.prFiles = files.map((filename) => ({ filename, status: 'added' as const }));
}

function artifactWarnings(): string[] {
  return h.commands('warning').filter((l) => l.includes('HTML report'));
}

test('uploads index.html and the pictures; the comment and summary link the artifact and show the heat map', async () => {
  prWith('models/trojan.onnx', 'models/clean.onnx');
  const out = (await h.run({
    event: 'pull_request',
    inputs: { 'report-artifact': 'true' },
    env: runnerEnv(),
  })) as ScanOutcome;

  expect(store.artifacts).toHaveLength(1);
  const [a] = store.artifacts;
  expect(a.name).toBe('model-fingerprint-report');
  expect(a.create).toMatchObject({
    workflow_run_backend_id: 'run-backend-1',
    workflow_job_run_backend_id: 'job-backend-1',
  });
  const zip = new AdmZip(a.bytes);
  const names = zip
    .getEntries()
    .map((e) => e.entryName)
    .sort();
  expect(names).toEqual(['01-trojan-patch-map.png', '01-trojan-trigger.png', 'index.html']);
  const html = zip.readAsText('index.html');
  expect(html).toContain('<code>models/trojan.onnx</code>');
  expect(html).toMatch(/<img src="data:image\/png;base64,[A-Za-z0-9+/=]+" alt="Trigger probing/);
  // the uploaded bytes are the files the action left on the runner (output report-dir)
  const dir = h.outputs()['report-dir'];
  expect(dir).toBe(out.artifact?.dir);
  expect(readFileSync(join(dir, 'index.html'), 'utf8')).toBe(html);

  const url = `https://github.com/${OWNER}/${REPO}/actions/runs/${RUN_ID}/artifacts/${a.id}`;
  expect(out.artifact?.url).toBe(url);
  const comment = h.fake.comments[0].body;
  for (const text of [comment, h.summary()]) {
    expect(text).toContain(`[HTML report](${url})`);
    expect(text).toContain('#### Where a patch sends inputs into the suspected class');
    expect(text).toMatch(/```text\n[·░▒▓█ \n]+```/);
    expect(text).toContain('share of 64 inputs the patch there sends into class 7');
  }
  expect(artifactWarnings()).toEqual([]);
  expect(h.failures).toHaveLength(1); // the trojan reaches fail-on high: the upload changes nothing there
});

test('the artifact service refuses the upload: one warning, the scan and its comment intact, no link', async () => {
  prWith('models/trojan.onnx');
  store.fail('CreateArtifact', 403, 'no permission to upload artifacts');
  const out = (await h.run({
    event: 'pull_request',
    inputs: { 'report-artifact': 'true' },
    env: runnerEnv(),
  })) as ScanOutcome;
  expect(store.artifacts).toEqual([]);
  const warnings = artifactWarnings();
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain('Could not upload the HTML report as the workflow artifact');
  expect(warnings[0]).toContain('no permission to upload artifacts');
  expect(out.report.models).toHaveLength(1);
  expect(out.artifact?.url).toBeUndefined();
  // the pictures stay on the runner, and everything else was published
  expect(existsSync(join(h.outputs()['report-dir'], 'index.html'))).toBe(true);
  expect(h.fake.comments).toHaveLength(1);
  expect(h.fake.comments[0].body).toContain('#### Where a patch sends inputs into the suspected class');
  expect(h.fake.comments[0].body).not.toContain('[HTML report]');
  expect(h.summary()).toContain('models/trojan.onnx');
  expect(h.failures).toHaveLength(1);
  expect(h.failures[0]).toContain('reach fail-on high');
});

test('no artifact service on this runner (no ACTIONS_RUNTIME_TOKEN): a warning, never a failed job', async () => {
  prWith('models/clean.onnx');
  const out = (await h.run({ event: 'pull_request', inputs: { 'report-artifact': 'true' } })) as ScanOutcome;
  const warnings = artifactWarnings();
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain('ACTIONS_RUNTIME_TOKEN');
  expect(out.conclusion).toBe('success');
  expect(h.failures).toEqual([]);
});

test("a fork's read-only token: the summary still carries the heat map and the link", async () => {
  prWith('models/suspect.onnx');
  h.fake.fail('checks.create', READ_ONLY_TOKEN).fail('issues.createComment', READ_ONLY_TOKEN);
  await h.run({
    event: 'pull_request',
    payload: h.prPayload(7, true),
    inputs: { 'report-artifact': 'true' },
    env: runnerEnv(),
  });
  expect(store.artifacts).toHaveLength(1);
  const summary = h.summary();
  expect(summary).toContain(`/actions/runs/${RUN_ID}/artifacts/${store.artifacts[0].id})`);
  expect(summary).toMatch(/```text\n[·░▒▓█ \n]+```/);
  expect(h.commands('warning').filter((l) => l.includes('Could not publish'))).toHaveLength(1);
  expect(artifactWarnings()).toEqual([]);
  expect(h.failures).toEqual([]); // medium does not reach fail-on high
});

test('report-artifact off (the default): nothing uploaded, the heat map still in the comment', async () => {
  prWith('models/trojan.onnx');
  await h.run({ event: 'pull_request', env: runnerEnv() });
  expect(store.requests).toEqual([]);
  expect(h.outputs()['report-dir']).toBeUndefined();
  expect(h.fake.comments[0].body).toContain('#### Where a patch sends inputs into the suspected class');
  expect(h.fake.comments[0].body).not.toContain('[HTML report]');
});

test('a custom artifact name', async () => {
  prWith('models/trojan.onnx');
  await h.run({
    event: 'pull_request',
    inputs: { 'report-artifact': 'true', 'report-artifact-name': 'pictures-cnn' },
    env: runnerEnv(),
  });
  expect(store.artifacts.map((a) => a.name)).toEqual(['pictures-cnn']);
  expect(h.fake.comments[0].body).toContain('artifact `pictures-cnn`');
});

test('a second scan in the same run under the same name: the service refuses it, the warning says what to do', async () => {
  prWith('models/trojan.onnx');
  const inputs = { 'report-artifact': 'true' };
  await h.run({ event: 'pull_request', inputs, env: runnerEnv() });
  // an earlier run's pictures do not linger in the directory
  const dir = h.outputs()['report-dir'];
  writeFileSync(join(dir, 'stale.png'), 'x');
  await h.run({ event: 'pull_request', inputs, env: runnerEnv() });
  expect(existsSync(join(dir, 'stale.png'))).toBe(false);
  expect(store.artifacts).toHaveLength(1);
  const [w] = artifactWarnings();
  expect(w).toContain('already exists');
  expect(w).toContain('Several scans in one workflow run need one report-artifact-name each.');
  expect(h.failures.at(-1)).toContain('reach fail-on high');
});

test('the inputs: off by default; a name the artifact service would refuse is an input error', () => {
  const read = (m: Record<string, string>) => readInputs((name) => m[name] ?? '');
  expect(read({})).toMatchObject({ reportArtifact: false, reportArtifactName: 'model-fingerprint-report' });
  expect(read({ 'report-artifact': 'true' }).reportArtifact).toBe(true);
  expect(() => read({ 'report-artifact': 'yes' })).toThrow(
    'action input "report-artifact" is "yes": expected true or false',
  );
  expect(() => read({ 'report-artifact-name': 'a/b' })).toThrow(
    'action input "report-artifact-name" is "a/b"',
  );
  expect(() => read({ 'report-artifact-name': 'x:y' })).toThrow(/without any of/);
});
