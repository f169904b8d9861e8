/**
 * A local fake of the GitHub REST API (an HTTP server on 127.0.0.1) for the action's tests: the real
 * Octokit, with its retry and throttling plugins, talks to it over real HTTP. It records every request
 * (method, path, query, body) and serves the routes the action uses: pulls.listFiles (paginated with Link
 * headers, capped at 3000 files as the real API), checks create/update, issue comments list/create/update,
 * compare, GET /user, and the Actions cache lookup (always a miss). Faults can be queued per route:
 * 403/404/422, 5xx then success, a secondary rate limit (403 + retry-after).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Route =
  | 'pulls.listFiles'
  | 'checks.create'
  | 'checks.update'
  | 'issues.listComments'
  | 'issues.createComment'
  | 'issues.updateComment'
  | 'repos.compare'
  | 'users.getAuthenticated'
  | 'cache.lookup';

export interface RecordedRequest {
  route: Route | 'unknown';
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export interface Fault {
  status: number;
  message?: string;
  headers?: Record<string, string>;
  /** How many requests the fault answers before the route serves normally again (default: all). */
  times?: number;
}

export interface FakeFile {
  filename: string;
  status: 'added' | 'modified' | 'removed' | 'renamed' | 'copied' | 'changed' | 'unchanged';
  previous_filename?: string;
}

export interface FakeUser {
  login: string;
  type: 'Bot' | 'User';
  id?: number;
}

export interface FakeComment {
  id: number;
  body: string;
  user: FakeUser;
}

export interface FakeCheckRun {
  id: number;
  create: Record<string, unknown>;
  updates: Record<string, unknown>[];
}

/** The real API's caps. */
export const PULL_FILES_CAP = 3000;
const MAX_PER_PAGE = 100;
const DEFAULT_PER_PAGE = 30;

export const SECONDARY_RATE_LIMIT: Fault = {
  status: 403,
  message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
  headers: { 'retry-after': '1' },
  times: 1,
};

export const READ_ONLY_TOKEN: Fault = { status: 403, message: 'Resource not accessible by integration' };

export class FakeGitHub {
  url = '';
  readonly requests: RecordedRequest[] = [];
  /** Files of the pull request (any number: the server serves at most PULL_FILES_CAP, like GitHub). */
  prFiles: FakeFile[] = [];
  /** Files of the compare response for pushes. */
  compareFiles: FakeFile[] = [];
  comments: FakeComment[] = [];
  readonly checkRuns: FakeCheckRun[] = [];
  /** Who the token belongs to: comments are created as this user. */
  tokenUser: FakeUser = { login: 'github-actions[bot]', type: 'Bot', id: 41898282 };
  /** GET /user answers only for personal tokens; installation tokens get 403. */
  userEndpointAllowed = false;
  private readonly faults = new Map<Route, Fault[]>();
  private server: Server | null = null;
  private nextId = 1000;

  /** Queues a fault on a route; faults are served in order, each `times` times (default: forever). */
  fail(route: Route, fault: Fault): this {
    const list = this.faults.get(route) ?? [];
    list.push({ ...fault });
    this.faults.set(route, list);
    return this;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `fake server error: ${String(e)}` }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Requests to one route, in order. */
  calls(route: Route): RecordedRequest[] {
    return this.requests.filter((r) => r.route === route);
  }

  private takeFault(route: Route): Fault | null {
    const list = this.faults.get(route);
    if (!list?.length) return null;
    const f = list[0];
    if (f.times !== undefined) {
      f.times -= 1;
      if (f.times <= 0) list.shift();
    }
    return f;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', this.url);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const method = req.method ?? 'GET';
    const path = u.pathname;
    const route = routeOf(method, path);
    this.requests.push({
      route,
      method,
      path,
      query: Object.fromEntries(u.searchParams),
      body,
      headers: req.headers,
    });

    const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(data === undefined ? '' : JSON.stringify(data));
    };
    if (route === 'unknown') return send(404, { message: 'Not Found' });

    const fault = this.takeFault(route);
    if (fault) {
      return send(
        fault.status,
        {
          message: fault.message ?? `injected ${fault.status}`,
          documentation_url: 'https://docs.github.com/rest',
        },
        fault.headers,
      );
    }

    const page = Number(u.searchParams.get('page') ?? '1');
    const perPage = Math.min(MAX_PER_PAGE, Number(u.searchParams.get('per_page') ?? DEFAULT_PER_PAGE));
    const paginate = <T>(items: T[]) => {
      const last = Math.max(1, Math.ceil(items.length / perPage));
      const slice = items.slice((page - 1) * perPage, page * perPage);
      const links: string[] = [];
      const link = (p: number, rel: string) => {
        const next = new URL(u.toString());
        next.searchParams.set('page', String(p));
        next.searchParams.set('per_page', String(perPage));
        links.push(`<${next.toString()}>; rel="${rel}"`);
      };
      if (page < last) link(page + 1, 'next');
      if (page < last) link(last, 'last');
      if (page > 1) link(1, 'first');
      if (page > 1) link(page - 1, 'prev');
      return send(200, slice, links.length ? { link: links.join(', ') } : {});
    };

    switch (route) {
      case 'pulls.listFiles':
        return paginate(
          this.prFiles
            .slice(0, PULL_FILES_CAP)
            .map((f, i) => ({ sha: `sha${i}`, additions: 0, deletions: 0, changes: 0, ...f })),
        );
      case 'repos.compare':
        return send(200, {
          status: 'ahead',
          ahead_by: 1,
          behind_by: 0,
          total_commits: 1,
          commits: [],
          files: this.compareFiles.slice(0, 300),
        });
      case 'checks.create': {
        const id = this.nextId++;
        this.checkRuns.push({ id, create: body as Record<string, unknown>, updates: [] });
        return send(201, { id, html_url: `${this.url}/checks/${id}`, ...(body as object) });
      }
      case 'checks.update': {
        const id = Number(path.split('/').pop());
        const run = this.checkRuns.find((r) => r.id === id);
        if (!run) return send(404, { message: 'Not Found' });
        run.updates.push(body as Record<string, unknown>);
        return send(200, { id, html_url: `${this.url}/checks/${id}` });
      }
      case 'issues.listComments':
        return paginate(this.comments);
      case 'issues.createComment': {
        const c: FakeComment = {
          id: this.nextId++,
          body: String((body as { body?: unknown }).body ?? ''),
          user: { ...this.tokenUser },
        };
        this.comments.push(c);
        return send(201, c);
      }
      case 'issues.updateComment': {
        const id = Number(path.split('/').pop());
        const c = this.comments.find((x) => x.id === id);
        if (!c) return send(404, { message: 'Not Found' });
        // Like GitHub: nobody edits another account's comment with this token.
        if (c.user.login !== this.tokenUser.login)
          return send(403, { message: 'Resource not accessible by integration' });
        c.body = String((body as { body?: unknown }).body ?? '');
        return send(200, c);
      }
      case 'users.getAuthenticated':
        if (!this.userEndpointAllowed)
          return send(403, { message: 'Resource not accessible by integration' });
        return send(200, this.tokenUser);
      case 'cache.lookup':
        // The Actions cache service answers a miss with 204 No Content.
        res.writeHead(204);
        return void res.end();
    }
  }
}

function routeOf(method: string, path: string): Route | 'unknown' {
  const table: [string, RegExp, Route][] = [
    ['GET', /^\/repos\/[^/]+\/[^/]+\/pulls\/\d+\/files$/, 'pulls.listFiles'],
    ['POST', /^\/repos\/[^/]+\/[^/]+\/check-runs$/, 'checks.create'],
    ['PATCH', /^\/repos\/[^/]+\/[^/]+\/check-runs\/\d+$/, 'checks.update'],
    ['GET', /^\/repos\/[^/]+\/[^/]+\/issues\/\d+\/comments$/, 'issues.listComments'],
    ['POST', /^\/repos\/[^/]+\/[^/]+\/issues\/\d+\/comments$/, 'issues.createComment'],
    ['PATCH', /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/\d+$/, 'issues.updateComment'],
    ['GET', /^\/repos\/[^/]+\/[^/]+\/compare\/[^/]+$/, 'repos.compare'],
    ['GET', /^\/user$/, 'users.getAuthenticated'],
    ['GET', /^\/_apis\/artifactcache\/cache$/, 'cache.lookup'],
  ];
  for (const [m, re, route] of table) if (m === method && re.test(path)) return route;
  return 'unknown';
}
