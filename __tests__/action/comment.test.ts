/**
 * The sticky pull-request comment against the fake GitHub server: one comment per PR, edited on re-runs,
 * found across pages, never adopted from another author, and not posted when comment: false.
 */
import { STICKY_MARKER } from '../../src/action/comment.js';
import { Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await new Harness().start();
  h.addFiles('models/trojan.onnx');
  h.fake.prFiles = [{ filename: 'models/trojan.onnx', status: 'added' }];
});
afterEach(async () => {
  await h.stop();
});

test('two runs leave exactly one comment: the second run edits it', async () => {
  await h.run({ event: 'pull_request' });
  expect(h.fake.comments).toHaveLength(1);
  const first = h.fake.comments[0];
  expect(first.body.startsWith(STICKY_MARKER)).toBe(true);
  expect(first.body).toContain('models/trojan.onnx');
  expect(first.body).toContain('mode: baseline');

  h.fake.prFiles = [{ filename: 'models/clean.onnx', status: 'added' }];
  h.addFiles('models/clean.onnx');
  await h.run({ event: 'pull_request' });
  expect(h.fake.comments).toHaveLength(1);
  expect(h.fake.calls('issues.createComment')).toHaveLength(1);
  const updates = h.fake.calls('issues.updateComment');
  expect(updates).toHaveLength(1);
  expect(updates[0].path).toBe(`/repos/acme/models/issues/comments/${first.id}`);
  expect(h.fake.comments[0].body).toContain('models/clean.onnx');
  expect(h.fake.comments[0].body).not.toContain('models/trojan.onnx');
  // GITHUB_TOKEN cannot call GET /user: the action asked once per run and fell back to github-actions[bot].
  expect(h.fake.calls('users.getAuthenticated')).toHaveLength(2);
});

test('our comment is found on a later page, and a human comment carrying the marker is left alone', async () => {
  const human = {
    id: 1,
    body: `${STICKY_MARKER}\nlooks fine to me`,
    user: { login: 'mallory', type: 'User' as const },
  };
  const lookalike = {
    id: 2,
    body: `${STICKY_MARKER}\nfake`,
    user: { login: 'github-actions[bot]', type: 'User' as const },
  };
  const filler = Array.from({ length: 130 }, (_, i) => ({
    id: 10 + i,
    body: `comment ${i}`,
    user: { login: 'dev', type: 'User' as const },
  }));
  const ours = {
    id: 500,
    body: `${STICKY_MARKER}\nold report`,
    user: { login: 'github-actions[bot]', type: 'Bot' as const },
  };
  h.fake.comments = [human, lookalike, ...filler, ours];
  await h.run({ event: 'pull_request' });
  expect(h.fake.calls('issues.listComments').length).toBeGreaterThanOrEqual(2);
  expect(h.fake.calls('issues.createComment')).toHaveLength(0);
  expect(h.fake.calls('issues.updateComment').map((r) => r.path)).toEqual([
    '/repos/acme/models/issues/comments/500',
  ]);
  expect(human.body).toContain('looks fine to me');
  expect(h.fake.comments.find((c) => c.id === 500)?.body).toContain('models/trojan.onnx');
});

test('a personal access token: GET /user names the author to look for', async () => {
  h.fake.userEndpointAllowed = true;
  h.fake.tokenUser = { login: 'release-bot-user', type: 'User' };
  h.fake.comments = [
    { id: 77, body: `${STICKY_MARKER}\nold`, user: { login: 'release-bot-user', type: 'User' } },
  ];
  await h.run({ event: 'pull_request' });
  expect(h.fake.calls('issues.updateComment').map((r) => r.path)).toEqual([
    '/repos/acme/models/issues/comments/77',
  ]);
  expect(h.commands('warning').filter((l) => l.includes('Could not publish'))).toEqual([]);
});

test('a GitHub App token posting as another bot: the run says which comment-author to set', async () => {
  h.fake.tokenUser = { login: 'my-app[bot]', type: 'Bot' };
  await h.run({ event: 'pull_request' });
  const warnings = h.commands('warning').filter((l) => l.includes('comment-author'));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain('comment-author: my-app[bot]');
  // With the input set, the next run edits instead of adding.
  await h.run({ event: 'pull_request', inputs: { 'comment-author': 'my-app[bot]' } });
  expect(h.fake.comments).toHaveLength(1);
  expect(h.fake.calls('issues.updateComment')).toHaveLength(1);
});

test('comment: false posts no comment but still writes the check run and the summary', async () => {
  await h.run({ event: 'pull_request', inputs: { comment: 'false' } });
  expect(h.fake.calls('issues.listComments')).toHaveLength(0);
  expect(h.fake.calls('issues.createComment')).toHaveLength(0);
  expect(h.fake.checkRuns).toHaveLength(1);
  expect(h.summary()).toContain('models/trojan.onnx');
});
