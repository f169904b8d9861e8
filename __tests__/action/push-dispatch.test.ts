/**
 * The action on push and workflow_dispatch events: files changed by the push (compare API), the first push
 * of a branch (every matching file), a compare that fails (every matching file, with a warning), and a
 * manual run (every matching file in the workspace). No comment outside pull requests.
 */
import { join } from 'node:path';
import { BASE_SHA, HEAD_SHA, Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await new Harness().start();
  h.addFiles('models/a.onnx', 'models/b.onnx', 'models/sub/c.onnx', '.hidden/d.onnx', 'docs/x.md');
});
afterEach(async () => {
  await h.stop();
});

const pushPayload = (before: string) => ({
  ref: 'refs/heads/main',
  before,
  after: HEAD_SHA,
  created: /^0+$/.test(before),
  commits: [],
});

test('push: the files changed between before and after, removed ones excepted; check run on GITHUB_SHA', async () => {
  h.fake.compareFiles = [
    { filename: 'models/a.onnx', status: 'modified' },
    { filename: 'models/old.onnx', status: 'removed' },
    { filename: 'docs/x.md', status: 'modified' },
  ];
  await h.run({ event: 'push', payload: pushPayload(BASE_SHA) });
  expect(h.fake.calls('repos.compare').map((r) => r.path)).toEqual([
    `/repos/acme/models/compare/${BASE_SHA}...${HEAD_SHA}`,
  ]);
  expect(h.scanCalls[0].paths).toEqual([join(h.workspace, 'models/a.onnx')]);
  expect(h.fake.checkRuns[0].create.head_sha).toBe(HEAD_SHA);
  expect(h.fake.calls('issues.listComments')).toHaveLength(0);
  expect(h.fake.calls('issues.createComment')).toHaveLength(0);
});

test('the first push of a branch (before = 000…0) scans every matching file, dot folders included', async () => {
  await h.run({ event: 'push', payload: pushPayload('0'.repeat(40)) });
  expect(h.fake.calls('repos.compare')).toHaveLength(0);
  expect(h.scanCalls[0].paths.map((p) => p.slice(h.workspace.length + 1))).toEqual([
    '.hidden/d.onnx',
    'models/a.onnx',
    'models/b.onnx',
    'models/sub/c.onnx',
  ]);
});

test('a compare that fails (force push: before is gone) falls back to every matching file with a warning', async () => {
  h.fake.fail('repos.compare', { status: 404, message: 'Not Found' });
  await h.run({ event: 'push', payload: pushPayload(BASE_SHA) });
  expect(h.scanCalls[0].paths).toHaveLength(4);
  expect(
    h.commands('warning').some((l) => l.includes('Could not compare') && l.includes('HTTP') === false),
  ).toBe(true);
});

test('workflow_dispatch scans every matching file in the workspace', async () => {
  await h.run({
    event: 'workflow_dispatch',
    payload: { inputs: {} },
    inputs: { models: 'models/**/*.onnx', 'probe-samples': 'probes/digits', probes: '16' },
  });
  // Engine options reach the core with the samples folder resolved in the workspace.
  expect(h.scanCalls[0].opts).toMatchObject({
    workspace: h.workspace,
    probes: { count: 16, samplesDir: join(h.workspace, 'probes/digits') },
  });
  expect(h.fake.calls('pulls.listFiles')).toHaveLength(0);
  expect(h.scanCalls[0].paths.map((p) => p.slice(h.workspace.length + 1))).toEqual([
    'models/a.onnx',
    'models/b.onnx',
    'models/sub/c.onnx',
  ]);
  expect(h.fake.checkRuns[0].create).toMatchObject({ head_sha: HEAD_SHA, conclusion: 'success' });
});
