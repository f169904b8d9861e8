/**
 * The run's context, read from the runner's environment when the run starts (GITHUB_EVENT_NAME,
 * GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_WORKSPACE, GITHUB_API_URL, GITHUB_SERVER_URL,
 * GITHUB_RUN_ID, RUNNER_TEMP).
 * @actions/github's `context` is filled in once at import time; reading here, at call time, lets tests and
 * GitHub Enterprise point the action at another API by environment alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../errors.js';

export interface PullRequestInfo {
  number: number;
  headSha: string;
  /** Whether the head lives in another repository: its GITHUB_TOKEN is read-only. */
  fromFork: boolean;
}

export interface PushInfo {
  before: string;
  after: string;
  /** The branch or tag did not exist before this push (before is all zeros). */
  created: boolean;
}

export interface ActionContext {
  eventName: string;
  owner: string;
  repo: string;
  /** The commit the check run is attached to: the PR head for pull requests, else GITHUB_SHA. */
  sha: string;
  workspace: string;
  /** Where report files are written. */
  outDir: string;
  apiUrl: string;
  /** The web server's URL (GITHUB_SERVER_URL), for links to the run's page. */
  serverUrl: string;
  /** The workflow run's id (GITHUB_RUN_ID), '' outside a runner. */
  runId: string;
  pullRequest: PullRequestInfo | null;
  push: PushInfo | null;
}

const ZERO_SHA = /^0+$/;
const PR_EVENTS = new Set(['pull_request', 'pull_request_target']);

type Json = Record<string, unknown>;

function obj(v: unknown): Json | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function readPayload(path: string | undefined): Json {
  if (!path) return {};
  if (!existsSync(path)) {
    throw new InputError(
      'not-found',
      `GITHUB_EVENT_PATH ${path} does not exist: run the action inside a GitHub Actions job`,
      path,
    );
  }
  try {
    return obj(JSON.parse(readFileSync(path, 'utf8'))) ?? {};
  } catch {
    throw new InputError('bad-argument', `GITHUB_EVENT_PATH ${path} is not a JSON event payload`, path);
  }
}

export function readContext(env: NodeJS.ProcessEnv = process.env): ActionContext {
  const payload = readPayload(env.GITHUB_EVENT_PATH);
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  const [owner = '', repo = ''] = (env.GITHUB_REPOSITORY ?? '').split('/');
  const workspace = resolve(env.GITHUB_WORKSPACE || process.cwd());

  let pullRequest: PullRequestInfo | null = null;
  const pr = obj(payload.pull_request);
  if (PR_EVENTS.has(eventName) && pr) {
    const head = obj(pr.head);
    const base = obj(pr.base);
    const headRepo = str(obj(head?.repo)?.full_name);
    const baseRepo = str(obj(base?.repo)?.full_name);
    pullRequest = {
      number: Number(pr.number),
      headSha: str(head?.sha),
      fromFork: headRepo !== '' && baseRepo !== '' && headRepo !== baseRepo,
    };
  }

  let push: PushInfo | null = null;
  if (eventName === 'push') {
    const before = str(payload.before);
    push = {
      before,
      after: str(payload.after) || (env.GITHUB_SHA ?? ''),
      created: payload.created === true || before === '' || ZERO_SHA.test(before),
    };
  }

  return {
    eventName,
    owner,
    repo,
    sha: pullRequest?.headSha || env.GITHUB_SHA || '',
    workspace,
    outDir: env.RUNNER_TEMP
      ? resolve(env.RUNNER_TEMP, 'model-fingerprint')
      : resolve(workspace, '.model-fingerprint'),
    apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
    serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
    runId: env.GITHUB_RUN_ID ?? '',
    pullRequest,
    push,
  };
}
