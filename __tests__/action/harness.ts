/**
 * Test harness for run(): a temporary workspace with model files, the runner's environment (event payload,
 * GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, INPUT_*), the real @actions/core (stdout captured to read workflow
 * commands), the real Octokit pointed at the fake GitHub server, the real renderers, and small stand-ins
 * for the scan and baseline engine (the only fakes: a verdict follows the file name, so each test states
 * what it expects without fingerprinting real models; real-core.test.ts runs the real engine).
 */
import * as core from '@actions/core';
import Bottleneck from 'bottleneck';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { CacheDep } from '../../src/action/cache.js';
import { readContext } from '../../src/action/context.js';
import type { ActionCore, RunDeps } from '../../src/action/deps.js';
import { readInputs } from '../../src/action/inputs.js';
import { createOctokit } from '../../src/action/octokit.js';
import { run, type RunOutcome } from '../../src/action/run.js';
import { InputError } from '../../src/errors.js';
import { renderJson, renderMarkdown, renderSarif } from '../../src/report/index.js';
import { failsGate, reachesFailOn } from '../../src/report/levels.js';
import type {
  FailedModel,
  FailOn,
  OnNotAssessed,
  RiskLevel,
  ScanReport,
  ScannedModel,
} from '../../src/report/types.js';
import type { BaselineInfo, ScanOptions } from '../../src/scan/api.js';
import { FakeGitHub } from '../helpers/fake-github.js';

export const OWNER = 'acme';
export const REPO = 'models';
export const HEAD_SHA = 'a'.repeat(40);
export const BASE_SHA = 'b'.repeat(40);
export const MERGE_SHA = 'c'.repeat(40);

/**
 * Stand-in verdicts by file name: "trojan" high, "suspect" medium, "broken" unscannable, "huge" not assessed
 * (the budget stopped trigger probing, no baseline), else low.
 */
export function fakeVerdict(
  path: string,
  failOn: FailOn,
  onNotAssessed: OnNotAssessed = 'fail',
): ScannedModel | FailedModel {
  const name = basename(path);
  if (name.includes('huge')) {
    return {
      path,
      sha256: 'e'.repeat(64),
      riskScore: null,
      riskLevel: 'not-assessed',
      pValue: null,
      flagged: failsGate('not-assessed', failOn, onNotAssessed),
      notAssessed: {
        reason: 'budget',
        message: `No baseline, and trigger probing did not run on ${name}: the budget default affords 12 passes.`,
        fix: 'Give --budget thorough, or scan against a baseline of clean models of the same architecture.',
      },
      detectors: {},
      explanation: { summary: 'not assessed', strongestSignal: 'none', drivers: [], nearestReferences: [] },
    };
  }
  if (name.includes('broken')) {
    return {
      path,
      error: `${path}: not an ONNX model (protobuf parse failed): re-export it with torch.onnx.export`,
      errorCode: 'not-onnx',
    };
  }
  const [score, level]: [number, RiskLevel] = name.includes('trojan')
    ? [88, 'high']
    : name.includes('suspect')
      ? [45, 'medium']
      : [7, 'low'];
  return {
    path,
    sha256: 'f'.repeat(64),
    riskScore: score,
    riskLevel: level,
    pValue: level === 'high' ? 0.004 : level === 'medium' ? 0.04 : 0.6,
    flagged: reachesFailOn(level, failOn),
    detectors: { lof: { score: score / 10, pValue: 0.01 } },
    explanation: {
      summary: `${level} risk for ${name}`,
      strongestSignal: 'lof on logits',
      drivers: [],
      nearestReferences: [],
    },
  };
}

export const FAKE_BASELINE: BaselineInfo = {
  id: 'sha256:' + 'e'.repeat(64),
  dir: '',
  members: Array.from({ length: 20 }, (_, i) => ({
    path: `clean-${i}.onnx`,
    sha256: String(i).padStart(64, '0'),
  })),
  signature: 'input:float32[N,1,28,28]->logits:float32[N,10]',
  probeHash: 'p'.repeat(16),
  minRankPValue: 1 / 21,
  highReachable: true,
};

export interface HarnessRun {
  event: 'pull_request' | 'push' | 'workflow_dispatch';
  payload?: Record<string, unknown>;
  inputs?: Record<string, string>;
  cache?: CacheDep;
  /** Environment variables for this run only. */
  env?: Record<string, string>;
}

/**
 * @actions/core's summary remembers the GITHUB_STEP_SUMMARY path of its first write (one run per process on
 * a runner), so every harness in this test process shares one summary file, truncated before each run.
 */
const SUMMARY_FILE = join(mkdtempSync(join(tmpdir(), 'mf-summary-')), 'step-summary');

export class Harness {
  readonly fake = new FakeGitHub();
  readonly root = mkdtempSync(join(tmpdir(), 'mf-action-'));
  readonly workspace = join(this.root, 'ws');
  readonly runnerTemp = join(this.root, 'runner-temp');
  readonly outputFile = join(this.root, 'github-output');
  readonly summaryFile = SUMMARY_FILE;
  stdout = '';
  failures: string[] = [];
  scanCalls: { paths: string[]; opts: ScanOptions }[] = [];
  baselineCalls: { kind: 'build' | 'add'; paths: string[]; dir: string }[] = [];
  verifyCalls: string[] = [];
  private savedEnv: NodeJS.ProcessEnv = {};
  private origWrite: typeof process.stdout.write | null = null;

  async start(): Promise<this> {
    mkdirSync(this.workspace, { recursive: true });
    mkdirSync(this.runnerTemp, { recursive: true });
    await this.fake.start();
    return this;
  }

  async stop(): Promise<void> {
    await this.fake.stop();
    rmSync(this.root, { recursive: true, force: true });
  }

  /** Creates files in the workspace (content is irrelevant to the stand-in scan). */
  addFiles(...paths: string[]): void {
    for (const p of paths) {
      mkdirSync(dirname(join(this.workspace, p)), { recursive: true });
      writeFileSync(join(this.workspace, p), 'model bytes');
    }
  }

  prPayload(number = 7, fork = false): Record<string, unknown> {
    return {
      action: 'synchronize',
      number,
      pull_request: {
        number,
        head: {
          sha: HEAD_SHA,
          ref: 'feature',
          repo: { full_name: fork ? `someone/${REPO}` : `${OWNER}/${REPO}` },
        },
        base: { sha: BASE_SHA, ref: 'main', repo: { full_name: `${OWNER}/${REPO}` } },
      },
      repository: { full_name: `${OWNER}/${REPO}`, name: REPO, owner: { login: OWNER } },
    };
  }

  core(): ActionCore {
    return { ...core, setFailed: (m: string) => void this.failures.push(m) };
  }

  deps(h: HarnessRun): RunDeps {
    const fast = () => ({
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
      search: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
      notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
    });
    const context = readContext(process.env);
    return {
      inputs: readInputs((name) => core.getInput(name)),
      context,
      core: this.core(),
      scan: async (paths: string[], opts: ScanOptions): Promise<ScanReport> => {
        this.scanCalls.push({ paths, opts });
        return {
          version: 2,
          tool: { name: 'model-fingerprint', version: '0.1.0' },
          baseline: opts.baselineDir ? { id: FAKE_BASELINE.id, members: 20, minRankPValue: 1 / 21 } : null,
          failOn: opts.failOn,
          onNotAssessed: opts.onNotAssessed ?? 'fail',
          models: paths.map((p) => fakeVerdict(p, opts.failOn, opts.onNotAssessed)),
          notes: opts.baselineDir ? [] : ['scanned without a baseline: only reference-free checks'],
        };
      },
      buildBaseline: async (paths, opts) => {
        this.baselineCalls.push({ kind: 'build', paths, dir: opts.out });
        mkdirSync(opts.out, { recursive: true });
        writeFileSync(join(opts.out, 'manifest.json'), '{}');
        return {
          ...FAKE_BASELINE,
          dir: opts.out,
          members: paths.map((p) => ({ path: p, sha256: '0'.repeat(64) })),
        };
      },
      addToBaseline: async (dir, paths) => {
        this.baselineCalls.push({ kind: 'add', paths, dir });
        return { ...FAKE_BASELINE, id: 'sha256:' + 'd'.repeat(64), dir };
      },
      verifyBaseline: async (dir) => {
        this.verifyCalls.push(dir);
        let manifest: string;
        try {
          manifest = readFileSync(join(dir, 'manifest.json'), 'utf8');
        } catch {
          throw new InputError('baseline-missing', `${dir}: no manifest.json`, dir);
        }
        if (manifest.includes('tampered')) {
          throw new InputError('baseline-invalid', `${dir}: content hash does not match the manifest.`, dir);
        }
        return { ...FAKE_BASELINE, dir };
      },
      render: {
        markdown: (r) => renderMarkdown(r),
        json: (r) => renderJson(r),
        sarif: (r, opts) => renderSarif(r, opts),
      },
      octokit: (token) =>
        createOctokit(token, {
          baseUrl: context.apiUrl,
          retryBaseMs: 1,
          throttle: fast(),
          log: (m) => core.info(m),
        }),
      cache: h.cache ?? {
        restore: async () => {
          throw new Error('cache not expected in this test');
        },
        save: async () => {
          throw new Error('cache not expected in this test');
        },
      },
    };
  }

  /** Runs the action once with this event and inputs, capturing stdout; environment restored afterwards. */
  async run(h: HarnessRun): Promise<RunOutcome> {
    const eventPath = join(this.root, `event-${Date.now()}-${Math.random()}.json`);
    writeFileSync(
      eventPath,
      JSON.stringify(h.payload ?? (h.event === 'pull_request' ? this.prPayload() : {})),
    );
    writeFileSync(this.outputFile, '');
    writeFileSync(this.summaryFile, '');
    const env: Record<string, string> = {
      GITHUB_EVENT_NAME: h.event,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
      GITHUB_SHA: h.event === 'pull_request' ? MERGE_SHA : HEAD_SHA,
      GITHUB_WORKSPACE: this.workspace,
      GITHUB_API_URL: this.fake.url,
      GITHUB_OUTPUT: this.outputFile,
      GITHUB_STEP_SUMMARY: this.summaryFile,
      RUNNER_TEMP: this.runnerTemp,
      'INPUT_GITHUB-TOKEN': 'ghs_faketoken',
      ...Object.fromEntries(Object.entries(h.inputs ?? {}).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
      ...(h.env ?? {}),
    };
    this.savedEnv = { ...process.env };
    for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) delete process.env[k];
    Object.assign(process.env, env);
    this.stdout = '';
    this.failures = [];
    this.origWrite = process.stdout.write;
    process.stdout.write = ((chunk: string | Uint8Array) => {
      this.stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    }) as typeof process.stdout.write;
    try {
      return await run(this.deps(h));
    } finally {
      process.stdout.write = this.origWrite;
      for (const k of Object.keys(process.env)) if (!(k in this.savedEnv)) delete process.env[k];
      Object.assign(process.env, this.savedEnv);
    }
  }

  /** The step outputs written to GITHUB_OUTPUT by @actions/core (name<<delimiter format). */
  outputs(): Record<string, string> {
    const text = readFileSync(this.outputFile, 'utf8');
    const out: Record<string, string> = {};
    const re = /^([^\n<]+)<<(ghadelimiter_[^\n]+)\n([\s\S]*?)\n\2$/gm;
    for (const m of text.matchAll(re)) out[m[1]] = m[3];
    return out;
  }

  summary(): string {
    return readFileSync(this.summaryFile, 'utf8');
  }

  /** Workflow commands of one kind printed on stdout, e.g. lines starting with ::error. */
  commands(kind: 'error' | 'warning' | 'notice'): string[] {
    return this.stdout.split(/\r?\n/).filter((l) => l.startsWith(`::${kind}`));
  }
}
