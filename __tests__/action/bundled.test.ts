/**
 * The bundled action as the runner runs it: a folder holding only action.yml and dist/ (what a release
 * ships), `node dist/main/index.js` in a child process with the runner's environment (INPUT_* with
 * action.yml's defaults, a real pull_request payload, GITHUB_API_URL pointing at the fake GitHub server),
 * the workspace as working directory, and a real ONNX model. Asserts what the fake server received and
 * what the step wrote. Fails until dist/ is rebuilt from src/action/main.ts (npm run build).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STICKY_MARKER } from '../../src/action/comment.js';
import AdmZip from 'adm-zip';
import { FakeArtifacts, fakeRuntimeToken } from '../helpers/fake-artifacts.js';
import { FakeGitHub } from '../helpers/fake-github.js';
import { buildMlp } from '../fixtures/models.js';
import { runNode, type NodeRun } from '../helpers/run-node.js';

const ROOT = process.cwd();
/** Where action.yml and dist/ are taken from: the repository, or a trial bundle built elsewhere. */
const BUNDLE_ROOT = process.env.MF_BUNDLE_ROOT ?? ROOT;
const HEAD = '1'.repeat(40);
/** The bundle loads ONNX Runtime and fingerprints one small model: generous, still well under a minute. */
const CHILD_TIMEOUT_MS = 50_000;

let fake: FakeGitHub;
let tmp: string;
beforeEach(async () => {
  fake = new FakeGitHub();
  await fake.start();
  tmp = mkdtempSync(join(tmpdir(), 'mf-bundled-'));
});
afterEach(async () => {
  await fake.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** A folder holding only action.yml and dist/, as a release ships them. */
function stageAction(): string {
  const actionDir = join(tmp, 'action');
  mkdirSync(actionDir);
  cpSync(join(BUNDLE_ROOT, 'action.yml'), join(actionDir, 'action.yml'));
  cpSync(join(BUNDLE_ROOT, 'dist'), join(actionDir, 'dist'), { recursive: true });
  return actionDir;
}

/** A real pull_request event payload for acme/models, written where GITHUB_EVENT_PATH will point. */
function writePrEvent(number: number, action: string, ref: string): string {
  const eventPath = join(tmp, 'event.json');
  writeFileSync(
    eventPath,
    JSON.stringify({
      action,
      number,
      pull_request: {
        number,
        head: { sha: HEAD, ref, repo: { full_name: 'acme/models' } },
        base: { sha: '2'.repeat(40), ref: 'main', repo: { full_name: 'acme/models' } },
      },
      repository: { full_name: 'acme/models', name: 'models', owner: { login: 'acme' } },
    }),
  );
  return eventPath;
}

/** INPUT_* as the runner sets them: every input of action.yml with its default unless given. */
function runnerInputs(given: Record<string, string>, token: string): Record<string, string> {
  const text = readFileSync(join(BUNDLE_ROOT, 'action.yml'), 'utf8');
  const block = text.slice(text.indexOf('\ninputs:'), text.indexOf('\noutputs:'));
  const env: Record<string, string> = {};
  let current = '';
  for (const line of block.split('\n')) {
    const name = /^ {2}([a-z-]+):\s*$/.exec(line);
    if (name) current = name[1];
    const def = /^ {4}default:\s*(.*)$/.exec(line);
    if (def && current) {
      const value = def[1].replace(/^'(.*)'$/, '$1').replace('${{ github.token }}', token);
      env[`INPUT_${current.toUpperCase()}`] = value;
    }
  }
  for (const [k, v] of Object.entries(given)) env[`INPUT_${k.toUpperCase()}`] = v;
  return env;
}

/**
 * The environment a runner gives the action's node process for a pull_request event: fresh output, summary
 * and temp files under `tag`, the fake API, and the inputs as INPUT_* variables.
 */
function runnerEnv(
  tag: string,
  workspace: string,
  eventPath: string,
  inputs: Record<string, string>,
): { env: Record<string, string>; outputFile: string; summaryFile: string; runnerTemp: string } {
  const runnerTemp = join(tmp, `runner-temp${tag}`);
  mkdirSync(runnerTemp);
  const outputFile = join(tmp, `output${tag}`);
  const summaryFile = join(tmp, `summary${tag}`);
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmp,
    ORT_DISABLE_TELEMETRY: '1',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: 'acme/models',
    GITHUB_SHA: '3'.repeat(40),
    GITHUB_WORKSPACE: workspace,
    GITHUB_API_URL: fake.url,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: runnerTemp,
    ...runnerInputs(inputs, 'ghs_bundled'),
  };
  return { env, outputFile, summaryFile, runnerTemp };
}

function runBundled(script: string, cwd: string, env: Record<string, string>): Promise<NodeRun> {
  return runNode([script], { cwd, env, timeoutMs: CHILD_TIMEOUT_MS });
}

test('dist/main/index.js from a folder with only action.yml and dist/ scans a PR and reports to the API', async () => {
  const actionDir = stageAction();

  const workspace = join(tmp, 'workspace');
  mkdirSync(join(workspace, 'models'), { recursive: true });
  writeFileSync(join(workspace, 'models', 'tiny.onnx'), buildMlp(11));
  const eventPath = writePrEvent(12, 'opened', 'add-model');
  fake.prFiles = [
    { filename: 'models/tiny.onnx', status: 'added' },
    { filename: 'models/deleted.onnx', status: 'removed' },
  ];
  const { env, outputFile, summaryFile, runnerTemp } = runnerEnv('', workspace, eventPath, {
    'fail-on': 'never',
  });
  const result = await runBundled(join(actionDir, 'dist', 'main', 'index.js'), workspace, env);
  const diag = `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;

  expect({ code: result.code, diag }).toMatchObject({ code: 0 });
  expect(fake.calls('pulls.listFiles').map((r) => r.path)).toEqual(['/repos/acme/models/pulls/12/files']);
  expect(fake.requests.every((r) => r.headers.authorization === 'token ghs_bundled')).toBe(true);

  expect(fake.checkRuns).toHaveLength(1);
  const create = fake.checkRuns[0].create as {
    name: string;
    head_sha: string;
    conclusion: string;
    output: { annotations: { path: string }[] };
  };
  expect(create.name).toBe('Model fingerprint');
  expect(create.head_sha).toBe(HEAD);
  expect(create.output.annotations.map((a) => a.path)).toEqual(['models/tiny.onnx']);

  expect(fake.comments).toHaveLength(1);
  expect(fake.comments[0].body.startsWith(STICKY_MARKER)).toBe(true);
  expect(fake.comments[0].body).toContain('tiny.onnx');

  const outputs = readFileSync(outputFile, 'utf8');
  const reportPath = /^report<<(\S+)\n(.*)\n\1$/m.exec(outputs)?.[2];
  expect(reportPath?.startsWith(runnerTemp)).toBe(true);
  const report = JSON.parse(readFileSync(reportPath!, 'utf8')) as {
    models: { path: string; error?: string; flagged?: boolean }[];
  };
  expect(report.models.map((m) => m.path)).toEqual(['models/tiny.onnx']);
  // The check run's conclusion agrees with the report it was made from.
  const bad = report.models.some((m) => m.error !== undefined || m.flagged === true);
  expect(create.conclusion).toBe(bad ? 'failure' : 'success');
  expect(readFileSync(summaryFile, 'utf8')).toContain('tiny.onnx');
});

/**
 * The acceptance scenario: a pull request changes one clean and one backdoored model; the bundled
 * action scans them against a committed baseline of clean models (the example baseline, probing with the
 * example's digit samples), twice. It must exit non-zero, conclude the check run `failure` with a failure
 * annotation on the backdoored file only, leave exactly one PR comment across both runs, write the job
 * summary and set the outputs.
 */
test('a PR with a clean and a backdoored model: failure on the backdoored file only, one comment over two runs', async () => {
  const actionDir = stageAction();

  const workspace = join(tmp, 'workspace');
  mkdirSync(join(workspace, 'models'), { recursive: true });
  cpSync(
    join(ROOT, 'examples/models/candidates/clean-candidate.onnx'),
    join(workspace, 'models/classifier.onnx'),
  );
  cpSync(
    join(ROOT, 'examples/models/candidates/backdoored.onnx'),
    join(workspace, 'models/classifier-v2.onnx'),
  );
  cpSync(join(ROOT, 'baselines/example'), join(workspace, 'baselines/default'), { recursive: true });
  cpSync(join(ROOT, 'examples/probe-samples'), join(workspace, 'examples/probe-samples'), {
    recursive: true,
  });
  const eventPath = writePrEvent(7, 'synchronize', 'new-models');
  fake.prFiles = [
    { filename: 'models/classifier.onnx', status: 'modified' },
    { filename: 'models/classifier-v2.onnx', status: 'added' },
  ];

  const runOnce = async (i: number) => {
    const { env, outputFile, summaryFile } = runnerEnv(`-${i}`, workspace, eventPath, {});
    const result = await runBundled(join(actionDir, 'dist', 'main', 'index.js'), workspace, env);
    return { result, outputs: readFileSync(outputFile, 'utf8'), summary: readFileSync(summaryFile, 'utf8') };
  };

  for (const i of [1, 2]) {
    const { result, outputs, summary } = await runOnce(i);
    const diag = `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
    expect({ code: result.code, diag }).toMatchObject({ code: 1 });
    expect(result.stdout).toContain('::error::'); // core.setFailed
    const create = fake.checkRuns[i - 1].create as {
      conclusion: string;
      output: { annotations: { path: string; annotation_level: string }[] };
    };
    expect(create.conclusion).toBe('failure');
    const failures = create.output.annotations
      .filter((a) => a.annotation_level === 'failure')
      .map((a) => a.path);
    expect(failures).toEqual(['models/classifier-v2.onnx']);
    expect(create.output.annotations.find((a) => a.path === 'models/classifier.onnx')?.annotation_level).toBe(
      'notice',
    );
    expect(summary).toContain('classifier-v2.onnx');
    expect(/^risk-level<<(\S+)\n(.*)\n\1$/m.exec(outputs)?.[2]).toBe('high');
    expect(/^flagged<<(\S+)\n(.*)\n\1$/m.exec(outputs)?.[2]).toBe('1');
    expect(fake.comments).toHaveLength(1); // created on the first run, edited on the second
  }
  expect(fake.checkRuns).toHaveLength(2);
  expect(fake.comments[0].body).toContain('classifier-v2.onnx');
}, 120_000);

/**
 * Pictures from the bundle: with report-artifact the bundled action uploads the HTML report through the
 * bundled @actions/artifact client to a local fake of the artifact service, and the comment links it and
 * shows the backdoored model's patch map.
 */
test('report-artifact: the bundle uploads the HTML report and the comment links it', async () => {
  const actionDir = stageAction();
  const store = new FakeArtifacts();
  await store.start();
  try {
    const workspace = join(tmp, 'workspace');
    mkdirSync(join(workspace, 'models'), { recursive: true });
    cpSync(
      join(ROOT, 'examples/models/candidates/backdoored.onnx'),
      join(workspace, 'models/classifier.onnx'),
    );
    cpSync(join(ROOT, 'baselines/example'), join(workspace, 'baselines/default'), { recursive: true });
    const eventPath = writePrEvent(9, 'opened', 'pictures');
    fake.prFiles = [{ filename: 'models/classifier.onnx', status: 'added' }];
    const { env } = runnerEnv('', workspace, eventPath, { 'report-artifact': 'true' });
    Object.assign(env, {
      ACTIONS_RUNTIME_TOKEN: fakeRuntimeToken(),
      ACTIONS_RESULTS_URL: `${store.url}/`,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_RUN_ID: '31',
    });
    const result = await runBundled(join(actionDir, 'dist', 'main', 'index.js'), workspace, env);
    const diag = `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
    expect({ code: result.code, diag }).toMatchObject({ code: 1 }); // the backdoored model reaches fail-on high
    expect(result.stdout).not.toContain('Could not upload');
    expect(store.artifacts).toHaveLength(1);
    const zip = new AdmZip(store.artifacts[0].bytes);
    expect(
      zip
        .getEntries()
        .map((e) => e.entryName)
        .sort(),
    ).toEqual(['01-classifier-patch-map.png', '01-classifier-trigger.png', 'index.html']);
    const body = fake.comments[0].body;
    expect(body).toContain(
      `[HTML report](https://github.com/acme/models/actions/runs/31/artifacts/${store.artifacts[0].id})`,
    );
    expect(body).toMatch(/```text\n[·░▒▓█ \n]+```/);
  } finally {
    await store.stop();
  }
}, 120_000);
