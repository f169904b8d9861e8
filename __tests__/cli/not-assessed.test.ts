/**
 * Honest levels, through the CLI on real models: a model on which no check with power ran is never "low".
 *   - no baseline and a budget too small for trigger probing: not assessed, the budget named as the reason
 *     (not the input kind), the setting that would afford it as the fix; it fails the gate by default (exit
 *     1), passes with --on-not-assessed warn, and --fail-on never fails nothing;
 *   - no baseline and a budget that cuts the search short: not assessed ("no-power") whatever it found (a
 *     short search is not calibrated), naming what it pointed at;
 *   - an integer (token) input: not assessed, the input kind named;
 *   - a baseline built with a budget too small for trigger probing: the ensemble ran, so every model is
 *     assessed, and the report says trigger probing did not run; a scan with another --budget uses the
 *     baseline's and says so; members of mixed budgets are refused;
 *   - a baseline that predates budgets: its scans use the legacy plan and say so.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScanReport, ScannedModel } from '../../src/report/types.js';
import { conv, dense } from '../fixtures/models.js';
import { GraphBuilder, attr, writeSequentialModel } from '../../src/model/write.js';
import { Rng } from '../../src/probes/rng.js';
import { computeBaselineId, loadBaseline } from '../../src/baseline/store.js';
import { readFingerprint } from '../../src/fingerprint/format.js';
import { cleanSubset, cli, EXAMPLE_CANDIDATES, tempDir } from './helpers.js';

const BACKDOORED = `${EXAMPLE_CANDIDATES}/backdoored.onnx`;
const CLEAN = `${EXAMPLE_CANDIDATES}/clean-candidate.onnx`;

function scanned(r: { out: string }): ScannedModel[] {
  return (JSON.parse(r.out) as ScanReport).models as ScannedModel[];
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('no baseline, a budget too small for trigger probing', () => {
  let json: Awaited<ReturnType<typeof cli>>;
  beforeAll(async () => {
    json = await cli('scan', BACKDOORED, '--budget', '1e6', '--format', 'json', '-q');
  });

  it('is not assessed, with the budget as the reason and a setting that affords it as the fix', () => {
    expect(json.code).toBe(1);
    const [m] = scanned(json);
    expect(m.riskLevel).toBe('not-assessed');
    expect(m.riskScore).toBeNull();
    expect(m.pValue).toBeNull();
    expect(m.flagged).toBe(true);
    if (m.riskLevel !== 'not-assessed') throw new Error('unreachable');
    expect(m.notAssessed.reason).toBe('budget');
    expect(m.notAssessed.message).toMatch(/affords 66 passes, fewer than the 200 it needs/);
    expect(m.notAssessed.message).not.toMatch(/input kind|image-like/);
    expect(m.notAssessed.message).toContain('final-layer weight statistics');
    // the weight check's own finding, its z and p (its score is -log10 p, not a count of SDs)
    expect(m.notAssessed.message).toMatch(
      /final-layer row stands out on [a-z-]+: [\d.]+ robust SDs (above|below) the other 9 classes; p = /,
    );
    expect(m.notAssessed.fix).toMatch(/^Give --budget fast \(1e12 multiply-accumulates/);
    expect(m.explanation.summary).toBe(m.notAssessed.message);
    expect(m.checks?.find((c) => c.check === 'trigger-probe')).toEqual({
      check: 'trigger-probe',
      ran: false,
      passes: 0,
      skipped: 'budget',
    });
    expect(m.checks?.find((c) => c.check === 'final-layer-weights')?.ran).toBe(true);
    expect(m.budget).toEqual({ setting: '1e6', macs: 1e6, macsPerPass: 15018, passes: 64 });
  });

  it('fails the gate by default, passes with a warning under --on-not-assessed warn, and fail-on never fails nothing', async () => {
    const text = await cli('scan', BACKDOORED, '--budget', '1e6', '-q');
    expect(text.code).toBe(1);
    expect(text.out).toMatch(/backdoored\.onnx\s+-\s+NOT ASSESSED\s+-/);
    expect(text.out).not.toMatch(/backdoored\.onnx.*\blow\b/);
    expect(text.out).toContain('1 not assessed (fails the gate: on-not-assessed fail)');
    const warn = await cli(
      'scan',
      BACKDOORED,
      '--budget',
      '1e6',
      '--on-not-assessed',
      'warn',
      '--format',
      'json',
      '-q',
    );
    expect(warn.code).toBe(0);
    expect(scanned(warn)[0]).toMatchObject({ riskLevel: 'not-assessed', flagged: false });
    expect((await cli('scan', BACKDOORED, '--budget', '1e6', '--fail-on', 'never', '-q')).code).toBe(0);
    const bad = await cli('scan', BACKDOORED, '--on-not-assessed', 'ignore');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--on-not-assessed ignore: expected one of fail, warn');
  });

  it('renders as not assessed in JUnit and SARIF too', async () => {
    const junit = await cli('scan', BACKDOORED, '--budget', '1e6', '--format', 'junit', '-q');
    expect(junit.out).toContain('type="not-assessed"');
    const sarif = await cli('scan', BACKDOORED, '--budget', '1e6', '--format', 'sarif', '-q');
    expect(sarif.out).toContain('"ruleId": "MF004"');
  });
});

test('no baseline, a budget that cuts trigger probing short: not assessed either way, saying what it pointed at', async () => {
  // 666 passes of the example MLP: mining, a scan and part of the screening. Such a short search is not
  // calibrated (the clean candidate scores 46-100 on 200-300 passes), so it decides no level, found or not.
  const r = await cli('scan', BACKDOORED, CLEAN, '--budget', '1e7', '--format', 'json', '-q');
  expect(r.code).toBe(1);
  const models = scanned(r);
  expect(models).toHaveLength(2);
  for (const m of models) {
    const trig = m.checks?.find((c) => c.check === 'trigger-probe');
    expect(trig?.ran).toBe(true);
    expect(trig?.note).toMatch(/^screened \d+ of \d+ candidate triggers/);
    expect(m.riskLevel).toBe('not-assessed');
    if (m.riskLevel !== 'not-assessed') throw new Error('unreachable');
    expect(m.notAssessed.reason).toBe('no-power');
    expect(m.notAssessed.message).toMatch(
      /ran short: the budget of 1e7 multiply-accumulates affords \d+ forward passes .* not calibrated, so it decides no level/,
    );
    expect(m.notAssessed.fix).toMatch(/^Give --budget fast/);
  }
  // the backdoor's target is still named, as something to look at
  const bd = models.find((m) => m.path === BACKDOORED);
  expect(bd?.riskLevel === 'not-assessed' && bd.notAssessed.message).toMatch(
    /It pointed at class 7 \(a bright 3x3 patch at the bottom-right corner/,
  );
  // with a budget that screens every candidate, the clean candidate is assessed (and low)
  const full = scanned(await cli('scan', CLEAN, '--budget', '8e7', '--format', 'json', '-q'))[0];
  expect(full.riskLevel).toBe('low');
}, 300_000);

/**
 * An integer input that no embedding reads (here cast to float and fed to a linear layer): neither image nor
 * token trigger probing applies. (A token-id input read by an embedding is probed with inserted tokens:
 * __tests__/cli/text-models.test.ts.)
 */
function buildCastIntModel(seed = 4): Uint8Array {
  const rng = new Rng(seed);
  const g = new GraphBuilder();
  g.addInput('input_ids', 'int64', ['batch', 6]);
  g.addInitializer('fc.weight', 'float32', [5, 6], rng.normals(30, 0, 0.3));
  g.addInitializer('fc.bias', 'float32', [5], rng.normals(5, 0, 0.1));
  g.addNode('Cast', ['input_ids'], ['ids_f'], { to: attr.int(1) }, { name: '/Cast' });
  g.addNode(
    'Gemm',
    ['ids_f', 'fc.weight', 'fc.bias'],
    ['logits'],
    { transB: attr.int(1) },
    { name: '/fc/Gemm' },
  );
  g.addOutput('logits', 'float32', ['batch', 5]);
  return g.toBytes();
}

test('no baseline, an integer input no embedding reads: not assessed, the input kind named', async () => {
  const dir = tempDir('mf-token-');
  dirs.push(dir);
  writeFileSync(join(dir, 'ints.onnx'), buildCastIntModel());
  const r = await cli('scan', join(dir, 'ints.onnx'), '--vocab', '20', '--format', 'json', '-q');
  const [m] = scanned(r);
  expect(m.riskLevel).toBe('not-assessed');
  if (m.riskLevel !== 'not-assessed') throw new Error('unreachable');
  expect(m.notAssessed.reason).toBe('input-kind');
  expect(m.notAssessed.message).toContain('input_ids:int64[N,6]');
  expect(m.notAssessed.fix).toMatch(/^Scan against a baseline/);
});

test('no baseline, two classes or a map for an output: not assessed, the output named', async () => {
  const dir = tempDir('mf-outputs-');
  dirs.push(dir);
  const rng = new Rng(3);
  writeFileSync(
    join(dir, 'binary.onnx'),
    writeSequentialModel({
      inputShape: ['N', 1, 14, 14],
      layers: [{ kind: 'flatten' }, dense(rng, 196, 2)],
    }),
  );
  writeFileSync(
    join(dir, 'map.onnx'),
    writeSequentialModel({ inputShape: ['N', 1, 14, 14], layers: [conv(rng, 1, 4, 3, 1), { kind: 'relu' }] }),
  );
  const r = await cli('scan', dir, '--format', 'json', '-q');
  expect(r.code).toBe(1);
  const byName: Record<string, ScannedModel> = Object.fromEntries(
    scanned(r).map((m) => [m.path.split('/').pop() ?? '', m]),
  );
  const binary = byName['binary.onnx'];
  const map = byName['map.onnx'];
  if (binary.riskLevel !== 'not-assessed' || map.riskLevel !== 'not-assessed') throw new Error('assessed');
  expect(binary.notAssessed.reason).toBe('classes');
  expect(binary.notAssessed.message).toContain("this model's first output has 2 per input");
  expect(map.notAssessed.reason).toBe('output-kind');
  expect(map.notAssessed.message).toMatch(
    /needs one score per class .*; this model's first output is \S+float32\[N,4,14,14\]/,
  );
  expect(map.checks?.find((c) => c.check === 'trigger-probe')?.skipped).toBe('output-kind');
});

describe('a baseline built with a budget too small for trigger probing', () => {
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('mf-budget-bl-');
    dirs.push(dir);
    const clean = cleanSubset(6);
    dirs.push(clean);
    const b = await cli('baseline', 'build', clean, '--budget', '1e6', '--out', join(dir, 'bl'));
    expect(b.code).toBe(0);
  }, 300_000);

  it('assesses every model (the ensemble ran) and says trigger probing did not run', async () => {
    const r = await cli('scan', BACKDOORED, CLEAN, '--baseline', join(dir, 'bl'), '--format', 'json', '-q');
    const report = JSON.parse(r.out) as ScanReport;
    expect(report.notes).toEqual([]);
    for (const m of report.models as ScannedModel[]) {
      expect(['low', 'medium', 'high']).toContain(m.riskLevel);
      expect(m.budget?.setting).toBe('1e6');
      expect(m.checks?.find((c) => c.check === 'ensemble')).toEqual({
        check: 'ensemble',
        ran: true,
        passes: 0,
      });
      expect(m.checks?.find((c) => c.check === 'trigger-probe')?.skipped).toBe('budget');
    }
  });

  it("stores its members' fingerprints without the layer weight statistics, with the hidden-layer blocks", async () => {
    const { manifest } = await loadBaseline(join(dir, 'bl'));
    const fp = await readFingerprint(join(dir, 'bl', manifest.members[0].fingerprint));
    const names = Object.keys(fp.blocks);
    expect(names).not.toContain('weights:layers');
    expect(names.some((n) => n.startsWith('gram:'))).toBe(true);
    expect(names.some((n) => n.startsWith('sorted:'))).toBe(true);
    expect(names).toContain('weights:final');
    expect(fp.header.budget?.setting).toBe('1e6');
    expect(manifest.budget).toEqual({ setting: '1e6', macs: 1e6 });
  });

  it('scans with the baseline budget when asked for another, and says so with the rebuild command', async () => {
    const r = await cli(
      'scan',
      CLEAN,
      '--baseline',
      join(dir, 'bl'),
      '--budget',
      'thorough',
      '--format',
      'json',
      '-q',
    );
    const report = JSON.parse(r.out) as ScanReport;
    expect((report.models[0] as ScannedModel).budget?.setting).toBe('1e6');
    expect(report.notes).toHaveLength(1);
    expect(report.notes[0]).toMatch(
      /^--budget thorough set aside: baseline bl-\w+ was built with the budget 1e6 multiply-accumulates/,
    );
    expect(report.notes[0]).toContain('--budget thorough --out');
  });

  it('refuses to grow it with members of another budget', async () => {
    // a second build's fingerprints under another budget, merged as shards: mixed budgets are refused
    const a = join(dir, 'shard-a');
    const b = join(dir, 'shard-b');
    const clean = cleanSubset(6);
    dirs.push(clean);
    mkdirSync(a, { recursive: true });
    expect(
      (await cli('baseline', 'build', clean, '--shard', '1/2', '--budget', '1e6', '--out', a)).code,
    ).toBe(0);
    expect(
      (await cli('baseline', 'build', clean, '--shard', '2/2', '--budget', '2e6', '--out', b)).code,
    ).toBe(0);
    const m = await cli('baseline', 'merge', a, b, '--out', join(dir, 'merged'));
    expect(m.code).toBe(2);
    expect(m.err).toMatch(/fingerprinted with the scan budget .* members of one baseline need one budget/);
  }, 300_000);
});

test('a baseline that predates budgets: scans against it use the legacy plan and say so', async () => {
  // the example baseline as an older tool wrote it: the same members, no budget in the manifest
  const dir = tempDir('mf-legacy-');
  dirs.push(dir);
  const legacy = join(dir, 'legacy');
  cpSync('baselines/example', legacy, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(legacy, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  expect(manifest.budget).toBeDefined();
  delete manifest.budget;
  // re-sealed as that tool sealed it: the id is the hash of the content without the budget
  const { tool: _t, id: _i, createdAt: _c, ...content } = manifest;
  manifest.id = computeBaselineId(content as Parameters<typeof computeBaselineId>[0]);
  writeFileSync(join(legacy, 'manifest.json'), JSON.stringify(manifest, null, 2));
  const r = await cli('scan', CLEAN, '--baseline', legacy, '--format', 'json', '-q');
  const [m] = scanned(r);
  expect(m.budget?.setting).toBe('legacy');
  expect(m.riskLevel).toBe('low');
  expect(m.checks?.find((c) => c.check === 'patch-map')?.passes).toBeGreaterThan(0);
});
