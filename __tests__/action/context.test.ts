/**
 * The run's context read from the runner's environment: pull request head and fork detection, pushes
 * that create a branch, GitHub Enterprise API URLs, where reports go, and a missing event file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readContext } from '../../src/action/context.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mf-context-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function env(event: string, payload: unknown, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const path = join(dir, 'event.json');
  writeFileSync(path, JSON.stringify(payload));
  return {
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: path,
    GITHUB_REPOSITORY: 'acme/models',
    GITHUB_SHA: 'merge',
    GITHUB_WORKSPACE: dir,
    ...extra,
  };
}

test('pull request from a fork: the head sha is the check target and the fork is noticed', () => {
  const ctx = readContext(
    env('pull_request', {
      pull_request: {
        number: 3,
        head: { sha: 'head', repo: { full_name: 'eve/models' } },
        base: { sha: 'base', repo: { full_name: 'acme/models' } },
      },
    }),
  );
  expect(ctx).toMatchObject({
    owner: 'acme',
    repo: 'models',
    sha: 'head',
    pullRequest: { number: 3, headSha: 'head', fromFork: true },
    push: null,
  });
  expect(ctx.outDir).toBe(join(dir, '.model-fingerprint'));
  expect(ctx.apiUrl).toBe('https://api.github.com');
});

test('push creating a branch, GitHub Enterprise API URL, RUNNER_TEMP for reports', () => {
  const ctx = readContext(
    env(
      'push',
      { before: '0'.repeat(40), after: 'after' },
      { GITHUB_API_URL: 'https://ghe.example.com/api/v3', RUNNER_TEMP: join(dir, 'rt') },
    ),
  );
  expect(ctx.push).toEqual({ before: '0'.repeat(40), after: 'after', created: true });
  expect(ctx.sha).toBe('merge');
  expect(ctx.apiUrl).toBe('https://ghe.example.com/api/v3');
  expect(ctx.outDir).toBe(join(dir, 'rt', 'model-fingerprint'));
});

test('a missing event file is an InputError that names it', () => {
  expect(() => readContext({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: join(dir, 'nope.json') })).toThrow(
    `GITHUB_EVENT_PATH ${join(dir, 'nope.json')} does not exist`,
  );
});
