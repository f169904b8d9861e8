/**
 * The bundled entry points on a platform dist/ carries no ONNX Runtime for: the action
 * (dist/main/index.js) and the CLI (bin/model-fingerprint.js -> dist/cli) run in a child process with a
 * preload that fakes process.platform/process.arch (nothing in the product reads an override) and records
 * any attempt to load ONNX Runtime's binding. They must fail with one line, before the binding is touched.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { runNode, type NodeRun } from '../helpers/run-node.js';

const ROOT = process.cwd();
const BUNDLE_ROOT = resolvePath(process.env.MF_BUNDLE_ROOT ?? ROOT);
const MARKER = 'PRELOAD: onnxruntime binding requested';
/** Generous for a loaded CI machine; the refusal itself takes well under a second. */
const CHILD_TIMEOUT_MS = 30_000;

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mf-platform-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A CommonJS preload: optionally pretend to be another platform, and report any load of the binding. */
function preload(fake?: { os: string; arch: string }): string {
  const file = join(tmp, `preload-${fake ? `${fake.os}-${fake.arch}` : 'real'}.cjs`);
  const lines = [
    "const Module = require('node:module');",
    'const load = Module._load;',
    'Module._load = function (request, ...rest) {',
    `  if (String(request).includes('onnxruntime_binding')) process.stderr.write(${JSON.stringify(MARKER + '\n')});`,
    '  return load.call(this, request, ...rest);',
    '};',
  ];
  if (fake) {
    lines.push(`Object.defineProperty(process, 'platform', { value: ${JSON.stringify(fake.os)} });`);
    lines.push(`Object.defineProperty(process, 'arch', { value: ${JSON.stringify(fake.arch)} });`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function run(args: string[], env: Record<string, string> = {}): Promise<NodeRun> {
  return runNode(args, {
    cwd: tmp,
    env: { PATH: process.env.PATH ?? '', ORT_DISABLE_TELEMETRY: '1', ...env },
    timeoutMs: CHILD_TIMEOUT_MS,
  });
}

const SUPPORTED_LIST = 'linux-x64, linux-arm64 and darwin-arm64 only';

test.each([
  ['win32', 'x64'],
  ['darwin', 'x64'],
])(
  'the action on %s-%s fails the step with one ::error:: line before ONNX Runtime loads',
  async (os, arch) => {
    const r = await run(['--require', preload({ os, arch }), join(BUNDLE_ROOT, 'dist', 'main', 'index.js')], {
      GITHUB_ACTIONS: 'true',
      RUNNER_TEMP: tmp,
    });
    const diag = `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    expect({ code: r.code, diag }).toMatchObject({ code: 1 });
    expect(r.stderr).toBe(''); // no stack trace, no binding load
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^::error::unsupported platform ${os}-${arch}: .*${SUPPORTED_LIST}`));
  },
);

test('the CLI on win32-x64 exits 2 with one line on stderr before ONNX Runtime loads', async () => {
  const cli = join(BUNDLE_ROOT, 'bin', 'model-fingerprint.js');
  const models = join(ROOT, 'examples', 'models', 'candidates');
  const r = await run(['--require', preload({ os: 'win32', arch: 'x64' }), cli, 'scan', models]);
  const diag = `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  expect({ code: r.code, diag }).toMatchObject({ code: 2 });
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    new RegExp(`^model-fingerprint: error: unsupported platform win32-x64: .*${SUPPORTED_LIST}`),
  );
});

test('control: on this (supported) machine the same preload sees the CLI load the binding and run', async () => {
  const r = await run([
    '--require',
    preload(),
    join(BUNDLE_ROOT, 'bin', 'model-fingerprint.js'),
    '--version',
  ]);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(MARKER);
  expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
});
