/**
 * Reporting trouble against the fake GitHub server: read-only tokens (forks) and missing permissions fall
 * back to workflow-command annotations plus the job summary with ONE warning naming the fix; transient
 * errors (5xx, secondary rate limits) are retried; reporting trouble alone never fails the job.
 */
import { READ_ONLY_TOKEN, SECONDARY_RATE_LIMIT } from '../helpers/fake-github.js';
import { Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await new Harness().start();
});
afterEach(async () => {
  await h.stop();
});

/** Workflow commands of a kind whose properties name this file (core orders them title, file, line). */
function onFile(kind: 'error' | 'warning' | 'notice', file: string): string[] {
  return h
    .commands(kind)
    .filter((l) => l.slice(0, l.indexOf('::', 2)).split(/[ ,]/).includes(`file=${file}`));
}

function publishWarnings(): string[] {
  return h.commands('warning').filter((l) => l.includes('Could not publish'));
}

test('403 on checks and comments: workflow-command annotations, one warning, summary; the job fails only for the flagged model', async () => {
  h.addFiles('models/trojan.onnx', 'models/clean.onnx', 'models/suspect.onnx');
  h.fake.prFiles = ['models/trojan.onnx', 'models/clean.onnx', 'models/suspect.onnx'].map((filename) => ({
    filename,
    status: 'added' as const,
  }));
  h.fake.fail('checks.create', READ_ONLY_TOKEN).fail('issues.createComment', READ_ONLY_TOKEN);
  await h.run({ event: 'pull_request', payload: h.prPayload(7, true) });

  const errors = h.commands('error');
  expect(errors).toHaveLength(1);
  expect(onFile('error', 'models/trojan.onnx')).toEqual(errors);
  expect(errors[0]).toContain('title=high backdoor risk 88/100');
  expect(errors[0]).toContain('line=1');
  expect(errors[0]).toContain('::Risk 88/100 (high)');
  expect(onFile('warning', 'models/suspect.onnx')).toHaveLength(1);
  expect(onFile('notice', 'models/clean.onnx')).toHaveLength(1);

  const warnings = publishWarnings();
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain('check run (HTTP 403)');
  expect(warnings[0]).toContain('pull request comment (HTTP 403)');
  expect(warnings[0]).toContain('checks: write, pull-requests: write');
  expect(warnings[0]).toContain('two-workflow recipe');

  expect(h.summary()).toContain('models/trojan.onnx');
  expect(h.failures).toHaveLength(1);
  expect(h.failures[0]).toContain('reach fail-on high');
  expect(h.failures[0]).not.toContain('403');
});

test('403 on checks with only clean models: the job passes', async () => {
  h.addFiles('models/clean.onnx');
  h.fake.prFiles = [{ filename: 'models/clean.onnx', status: 'added' }];
  h.fake.fail('checks.create', READ_ONLY_TOKEN).fail('issues.listComments', READ_ONLY_TOKEN);
  await h.run({ event: 'pull_request' });
  expect(h.failures).toEqual([]);
  expect(publishWarnings()).toHaveLength(1);
  expect(onFile('notice', 'models/clean.onnx')).toHaveLength(1);
  expect(h.summary()).toContain('models/clean.onnx');
});

test('422 on the check run: fallback annotations and a warning without the permission advice', async () => {
  h.addFiles('models/clean.onnx');
  h.fake.prFiles = [{ filename: 'models/clean.onnx', status: 'added' }];
  h.fake.fail('checks.create', { status: 422, message: 'Validation Failed' });
  await h.run({ event: 'pull_request' });
  const [w] = publishWarnings();
  expect(w).toContain('HTTP 422');
  expect(w).not.toContain('pull-requests: write');
  expect(h.fake.calls('checks.create')).toHaveLength(1);
  expect(h.failures).toEqual([]);
});

test('500 then success is retried, on checks, comments and the file list', async () => {
  h.addFiles('models/clean.onnx');
  h.fake.prFiles = [{ filename: 'models/clean.onnx', status: 'added' }];
  h.fake
    .fail('pulls.listFiles', { status: 502, times: 1 })
    .fail('checks.create', { status: 500, times: 2 })
    .fail('issues.createComment', { status: 503, times: 1 });
  await h.run({ event: 'pull_request' });
  expect(h.fake.calls('pulls.listFiles')).toHaveLength(2);
  expect(h.fake.calls('checks.create')).toHaveLength(3);
  expect(h.fake.checkRuns).toHaveLength(1);
  expect(h.fake.calls('issues.createComment')).toHaveLength(2);
  expect(h.fake.comments).toHaveLength(1);
  expect(publishWarnings()).toEqual([]);
  expect(h.commands('notice')).toEqual([]);
});

test('a 5xx that persists gives up after the retries and falls back', async () => {
  h.addFiles('models/clean.onnx');
  h.fake.prFiles = [{ filename: 'models/clean.onnx', status: 'added' }];
  h.fake.fail('checks.create', { status: 500 });
  await h.run({ event: 'pull_request' });
  // One try plus three retries.
  expect(h.fake.calls('checks.create')).toHaveLength(4);
  expect(publishWarnings()[0]).toContain('check run (HTTP 500)');
  expect(h.commands('notice')).toHaveLength(1);
  expect(h.failures).toEqual([]);
});

test('a secondary rate limit (403 + retry-after) is waited out and retried', async () => {
  h.addFiles('models/clean.onnx');
  h.fake.prFiles = [{ filename: 'models/clean.onnx', status: 'added' }];
  h.fake.fail('checks.create', SECONDARY_RATE_LIMIT);
  await h.run({ event: 'pull_request' });
  expect(h.fake.calls('checks.create')).toHaveLength(2);
  expect(h.fake.checkRuns).toHaveLength(1);
  expect(publishWarnings()).toEqual([]);
  expect(h.stdout).toContain('secondary rate limit');
});

test('no token: no API calls, workspace scan, workflow-command annotations', async () => {
  h.addFiles('models/trojan.onnx');
  await h.run({ event: 'pull_request', env: { 'INPUT_GITHUB-TOKEN': '' } });
  expect(h.fake.requests.filter((r) => r.route !== 'cache.lookup')).toHaveLength(0);
  expect(onFile('error', 'models/trojan.onnx')).toHaveLength(1);
  expect(h.failures).toHaveLength(1);
});

test('a primary rate limit (403, x-ratelimit-remaining: 0) is waited out until the reset and retried', async () => {
  h.addFiles('models/clean.onnx');
  h.fake.prFiles = [{ filename: 'models/clean.onnx', status: 'added' }];
  const reset = String(Math.floor(Date.now() / 1000) + 1);
  h.fake.fail('pulls.listFiles', {
    status: 403,
    message: 'API rate limit exceeded for installation ID 1.',
    headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
    times: 1,
  });
  await h.run({ event: 'pull_request' });
  expect(h.fake.calls('pulls.listFiles')).toHaveLength(2);
  expect(h.stdout).toContain('GitHub API rate limit on GET');
  expect(h.scanCalls[0].paths).toHaveLength(1);
  expect(publishWarnings()).toEqual([]);
});
