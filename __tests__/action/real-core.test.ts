/**
 * The action with the real core: real ONNX models (built in code) fingerprinted by onnxruntime-node, a real
 * baseline built with mode: baseline and verified by its content hash, the real renderers; only GitHub is
 * the local fake server. Checks that what the action publishes agrees with the report the core produced,
 * and that a tampered baseline from the cache is refused before anything is scanned.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addToBaseline, buildBaseline } from '../../src/baseline/build.js';
import { verifyBaseline } from '../../src/baseline/store.js';
import type { CacheDep } from '../../src/action/cache.js';
import type { RunDeps } from '../../src/action/deps.js';
import { shortBaselineId } from '../../src/report/describe.js';
import type { ModelEntry } from '../../src/report/types.js';
import { scanModels } from '../../src/scan/scan.js';
import { buildMlp } from '../fixtures/models.js';
import { Harness } from './harness.js';

const CLEAN_SEEDS = [1, 2, 3, 4, 5, 6];

/** The harness with the real engine in place of the stand-ins. */
class RealHarness extends Harness {
  override deps(h: Parameters<Harness['deps']>[0]): RunDeps {
    return { ...super.deps(h), scan: scanModels, buildBaseline, addToBaseline, verifyBaseline };
  }
}

let h: RealHarness;
beforeEach(async () => {
  h = await new RealHarness().start();
  for (const s of CLEAN_SEEDS) {
    h.addFiles(`models/clean-${s}.onnx`);
    writeFileSync(join(h.workspace, `models/clean-${s}.onnx`), buildMlp(s));
  }
});
afterEach(async () => {
  await h.stop();
});

async function buildRealBaseline(): Promise<{ id: string; saved: string[] }> {
  const saved: string[] = [];
  const cache: CacheDep = {
    restore: async () => undefined,
    save: async (_paths, key) => {
      saved.push(key);
      return 1;
    },
  };
  const o = await h.run({
    event: 'workflow_dispatch',
    inputs: {
      mode: 'baseline',
      models: 'models/clean-*.onnx',
      baseline: '.mf-baseline',
      'baseline-cache-key': 'mf',
    },
    cache,
  });
  if (o.mode !== 'baseline')
    throw new Error(`baseline mode failed: ${JSON.stringify(o)} ${h.failures.join(' ')}`);
  return { id: o.info.id, saved };
}

test('baseline built by the action, then a PR scanned against it: published results agree with the report', async () => {
  const { id, saved } = await buildRealBaseline();
  expect(saved).toEqual([`mf-${id}`]);
  expect(h.outputs()['baseline-size']).toBe(String(CLEAN_SEEDS.length));
  expect(h.failures).toEqual([]);

  h.addFiles('models/new.onnx', 'models/broken.onnx');
  writeFileSync(join(h.workspace, 'models/new.onnx'), buildMlp(7));
  writeFileSync(join(h.workspace, 'models/broken.onnx'), 'this is not a protobuf');
  h.fake.prFiles = [
    { filename: 'models/new.onnx', status: 'added' },
    { filename: 'models/broken.onnx', status: 'added' },
    { filename: 'models/clean-1.onnx', status: 'removed' },
  ];
  const o = await h.run({ event: 'pull_request', inputs: { baseline: '.mf-baseline' } });
  if (o.mode !== 'scan') throw new Error(`scan failed: ${JSON.stringify(o)}`);

  const report = JSON.parse(readFileSync(h.outputs().report, 'utf8')) as {
    baseline: { id: string };
    models: ModelEntry[];
  };
  expect(report.baseline.id).toBe(id);
  expect(report.models.map((m) => m.path).sort()).toEqual(['models/broken.onnx', 'models/new.onnx']);
  const broken = report.models.find((m) => m.path === 'models/broken.onnx');
  const scanned = report.models.find((m) => m.path === 'models/new.onnx');
  if (!broken || !('error' in broken) || !scanned || 'error' in scanned)
    throw new Error('unexpected report shape');

  const run = h.fake.checkRuns[0];
  expect(run.create.conclusion).toBe('failure');
  const annotations = (
    run.create.output as { annotations: { path: string; annotation_level: string; message: string }[] }
  ).annotations;
  const level = { high: 'failure', medium: 'warning', low: 'notice', 'not-assessed': 'failure' }[
    scanned.riskLevel
  ];
  expect(annotations.find((a) => a.path === 'models/new.onnx')?.annotation_level).toBe(level);
  const brokenNote = annotations.find((a) => a.path === 'models/broken.onnx');
  expect(brokenNote?.annotation_level).toBe('failure');
  expect(brokenNote?.message).toContain(broken.error);
  expect(brokenNote?.message).not.toContain(h.workspace);

  expect(h.failures).toHaveLength(1);
  expect(h.failures[0]).toContain('could not be scanned');
  expect(h.failures[0]).toContain('models/broken.onnx');
  expect(Number(h.outputs()['risk-score'])).toBeCloseTo(scanned.riskScore ?? Number.NaN, 1);
  expect(h.outputs()['risk-level']).toBe(scanned.riskLevel);
  expect(h.fake.comments[0].body).toContain(shortBaselineId(id));
});

test('a restored baseline whose content does not verify is refused before any model is scanned', async () => {
  await buildRealBaseline();
  const template = join(h.root, 'cached-baseline');
  cpSync(join(h.workspace, '.mf-baseline'), template, { recursive: true });
  const fpDir = join(template, 'fingerprints');
  const victim = join(fpDir, readdirSync(fpDir)[0]);
  const bytes = readFileSync(victim);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(victim, bytes);

  const cache: CacheDep = {
    restore: async (paths, key) => {
      cpSync(template, join(h.workspace, paths[0]), { recursive: true, force: true });
      return `${key}tampered`;
    },
    save: async () => -1,
  };
  h.fake.prFiles = [{ filename: 'models/clean-2.onnx', status: 'modified' }];
  const o = await h.run({
    event: 'pull_request',
    inputs: { baseline: '.mf-baseline', 'baseline-cache-key': 'mf' },
    cache,
  });
  expect(o.mode).toBe('error');
  expect(h.failures).toHaveLength(1);
  expect(h.failures[0]).toContain('The baseline restored from the Actions cache (key mf-tampered)');
  expect(h.failures[0]).toContain('does not match its recorded hash');
  expect(h.fake.calls('pulls.listFiles')).toHaveLength(0);
  expect(h.fake.checkRuns).toHaveLength(0);
});

test('a baseline built with --token-inversion, scanning models that take images: the action says once it was ignored', async () => {
  // only a baseline's settings bring --token-inversion into the action (it has no input for it)
  await buildBaseline(
    CLEAN_SEEDS.map((s) => join(h.workspace, `models/clean-${s}.onnx`)),
    { out: join(h.workspace, '.mf-baseline'), probes: { tokenInversion: true } },
  );
  h.addFiles('models/new.onnx');
  writeFileSync(join(h.workspace, 'models/new.onnx'), buildMlp(7));
  h.fake.prFiles = [{ filename: 'models/new.onnx', status: 'added' }];
  const o = await h.run({ event: 'pull_request', inputs: { baseline: '.mf-baseline' } });
  if (o.mode !== 'scan') throw new Error(`scan failed: ${JSON.stringify(o)}`);
  const note =
    '--token-inversion applies to token-input (text) models; models/new.onnx takes float32 inputs: ignored';
  const report = JSON.parse(readFileSync(h.outputs().report, 'utf8')) as { notes: string[] };
  expect(report.notes).toContain(note);
  expect(h.commands('warning').filter((w) => w.includes('--token-inversion'))).toEqual([
    `::warning::${note}`,
  ]);
  expect(h.fake.comments[0].body.split('--token-inversion applies').length - 1).toBe(1);
  expect(h.summary()).toContain('models/new.onnx takes float32 inputs: ignored');
  expect(report.notes.join('\n')).not.toContain(h.workspace);
});
