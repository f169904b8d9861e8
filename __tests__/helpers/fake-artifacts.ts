/**
 * A local fake of the service behind workflow artifacts (an HTTP server on 127.0.0.1) for the action's
 * tests: the real @actions/artifact client talks to it over real HTTP, as on a runner. It serves the two
 * Twirp calls an upload makes (ArtifactService CreateArtifact and FinalizeArtifact, JSON) and the blob
 * storage the signed upload URL points at (Azure's Put Block and Put Block List, as @azure/storage-blob
 * sends them), keeps every uploaded artifact's bytes, and can answer a route with a fault.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ArtifactRoute = 'CreateArtifact' | 'FinalizeArtifact' | 'blob';

const TWIRP = '/twirp/github.actions.results.api.v1.ArtifactService/';

export interface UploadedArtifact {
  id: number;
  name: string;
  /** The artifact's bytes (a zip of the uploaded files). */
  bytes: Buffer;
  create: Record<string, unknown>;
  finalize: Record<string, unknown>;
}

/**
 * The runtime token a runner hands a job: a JWT whose `scp` claim names the run's and the job's backend ids
 * (the client reads them; the fake does not check the signature, like any test double of the service).
 */
export function fakeRuntimeToken(runId = 'run-backend-1', jobId = 'job-backend-1'): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ scp: `Actions.Results:${runId}:${jobId}` })}.sig`;
}

export class FakeArtifacts {
  url = '';
  readonly artifacts: UploadedArtifact[] = [];
  readonly requests: { route: ArtifactRoute | 'unknown'; method: string; path: string }[] = [];
  private readonly faults = new Map<ArtifactRoute, { status: number; msg: string }>();
  private readonly pending = new Map<
    string,
    { create: Record<string, unknown>; blocks: Map<string, Buffer>; bytes?: Buffer }
  >();
  private server: Server | null = null;
  private nextId = 4242;

  /** Answers every request to `route` with `status` (Twirp routes: a Twirp error body). */
  fail(route: ArtifactRoute, status: number, msg = `injected ${status}`): this {
    this.faults.set(route, { status, msg });
    return this;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: 'internal', msg: `fake server error: ${String(e)}` }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', this.url);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const route: ArtifactRoute | 'unknown' =
      method === 'POST' && u.pathname === `${TWIRP}CreateArtifact`
        ? 'CreateArtifact'
        : method === 'POST' && u.pathname === `${TWIRP}FinalizeArtifact`
          ? 'FinalizeArtifact'
          : method === 'PUT' && u.pathname.startsWith('/blob/')
            ? 'blob'
            : 'unknown';
    this.requests.push({ route, method, path: u.pathname });
    const json = (status: number, data: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(data));
    };
    if (route === 'unknown') return json(404, { code: 'not_found', msg: 'no such route' });
    const fault = this.faults.get(route);
    if (fault) return json(fault.status, { code: 'permission_denied', msg: fault.msg });

    if (route === 'CreateArtifact') {
      const create = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      const key = String(create.name);
      if (this.artifacts.some((a) => a.name === key) || this.pending.has(key)) {
        return json(409, {
          code: 'already_exists',
          msg: 'an artifact with this name already exists on the workflow run',
        });
      }
      this.pending.set(key, { create, blocks: new Map() });
      return json(200, {
        ok: true,
        signed_upload_url: `${this.url}/blob/${encodeURIComponent(key)}?sig=fake-signature`,
      });
    }
    if (route === 'FinalizeArtifact') {
      const finalize = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      const key = String(finalize.name);
      const p = this.pending.get(key);
      if (!p?.bytes) return json(404, { code: 'not_found', msg: 'nothing uploaded under this name' });
      this.pending.delete(key);
      const id = this.nextId++;
      this.artifacts.push({ id, name: key, bytes: p.bytes, create: p.create, finalize });
      return json(200, { ok: true, artifact_id: String(id) });
    }
    // blob storage: Put Block (comp=block&blockid=...), then Put Block List (comp=blocklist, XML of ids)
    const key = decodeURIComponent(u.pathname.slice('/blob/'.length));
    const p = this.pending.get(key);
    if (!p || u.searchParams.get('sig') !== 'fake-signature') {
      res.writeHead(403);
      return void res.end();
    }
    const comp = u.searchParams.get('comp');
    if (comp === 'block') {
      p.blocks.set(u.searchParams.get('blockid') ?? '', body);
    } else if (comp === 'blocklist') {
      const ids = [...body.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)</g)].map(
        (m) => m[1],
      );
      p.bytes = Buffer.concat(ids.map((id) => p.blocks.get(id) ?? Buffer.alloc(0)));
    } else {
      p.bytes = body; // a single Put Blob
    }
    res.writeHead(201, {
      etag: '"0x1"',
      'last-modified': new Date(0).toUTCString(),
      'x-ms-request-id': 'fake',
      'x-ms-version': '2025-01-05',
    });
    res.end();
  }
}
