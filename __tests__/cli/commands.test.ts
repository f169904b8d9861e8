/**
 * The CLI end to end, in-process, on real trained example models (examples/models) through real ONNX
 * Runtime: baseline build/add/info, scan in every format with exit codes, error entries beside good
 * results, refusals with one-line messages.
 */
import { cpSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cli, cleanSubset, tempDir, EXAMPLE_CANDIDATES } from './helpers.js';
import { buildCnn, buildPytorchStyle } from '../fixtures/models.js';
import { readFingerprint } from '../../src/fingerprint/format.js';
import { NO_SAMPLES_NOTE } from '../../src/cli/commands/baseline.js';
import type { ScanReport, ScannedModel, FailedModel } from '../../src/report/types.js';

const work = tempDir();
// A subset of the 32 clean examples keeps each build a few seconds; the full set is baselines/example.
const EXAMPLE_CLEAN = cleanSubset(6);
const baseline = join(work, 'baseline');

let buildErr = '';
beforeAll(async () => {
  const r = await cli('baseline', 'build', EXAMPLE_CLEAN, '--out', baseline);
  expect(r.err).not.toMatch(/internal error/);
  expect(r.code).toBe(0);
  buildErr = r.err;
}, 180_000);

describe('baseline', () => {
  test('a build without probe samples says how to get the stronger setting', () => {
    expect(buildErr).toContain(NO_SAMPLES_NOTE);
  });

  test('build writes a verifiable manifest with every member', () => {
    const m = JSON.parse(readFileSync(join(baseline, 'manifest.json'), 'utf8'));
    expect(m.id).toMatch(/^bl-[0-9a-f]{24}$/);
    expect(m.members).toHaveLength(readdirSync(EXAMPLE_CLEAN).filter((f) => f.endsWith('.onnx')).length);
    expect(m.signature).toBe('input:float32[N,1,14,14]->logits:float32[N,10]');
    for (const mem of m.members) expect(m.files[mem.fingerprint]).toMatch(/^[0-9a-f]{64}$/);
  });

  test('the id does not depend on the order the models come in', async () => {
    const files = readdirSync(EXAMPLE_CLEAN)
      .filter((f) => f.endsWith('.onnx'))
      .map((f) => join(EXAMPLE_CLEAN, f));
    const other = join(work, 'reversed');
    expect((await cli('baseline', 'build', ...files.reverse(), '--out', other)).code).toBe(0);
    const a = JSON.parse(readFileSync(join(baseline, 'manifest.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(other, 'manifest.json'), 'utf8'));
    expect(b.id).toBe(a.id);
  }, 180_000);

  test('info --json reports members, rank floor and leave-one-out false alarms', async () => {
    const r = await cli('baseline', 'info', baseline, '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    const n = info.members.length;
    expect(info.minRankPValue).toBeCloseTo(1 / (n + 1), 12);
    expect(info.highReachableByRank).toBe(false);
    expect(info.looFalseAlarm.high).toBeGreaterThanOrEqual(0);
    expect(info.looFalseAlarm.high).toBeLessThanOrEqual(info.looFalseAlarm.medium);
    expect(info.spread.min).toBeLessThanOrEqual(info.spread.max);
  });

  test('add grows the baseline and gives it a new id', async () => {
    const grown = join(work, 'grown');
    const r = await cli(
      'baseline',
      'add',
      baseline,
      join(EXAMPLE_CANDIDATES, 'clean-candidate.onnx'),
      '--out',
      grown,
    );
    expect(r.code).toBe(0);
    const a = JSON.parse(readFileSync(join(baseline, 'manifest.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(grown, 'manifest.json'), 'utf8'));
    expect(b.members).toHaveLength(a.members.length + 1);
    expect(b.id).not.toBe(a.id);
    expect((await cli('scan', EXAMPLE_CANDIDATES, '--baseline', grown, '--format', 'json')).code).not.toBe(2);
  }, 180_000);

  test('a tampered baseline is refused with a message, never scanned against', async () => {
    const bad = join(work, 'tampered');
    cpSync(baseline, bad, { recursive: true });
    const bin = join(bad, 'ensemble.bin');
    const bytes = readFileSync(bin);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(bin, bytes);
    const r = await cli('scan', EXAMPLE_CANDIDATES, '--baseline', bad);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/ensemble\.bin does not match its recorded hash/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  test('models of different architectures cannot share a baseline', async () => {
    const dir = tempDir();
    cpSync(EXAMPLE_CLEAN, dir, { recursive: true });
    writeFileSync(join(dir, 'zz-cnn.onnx'), buildCnn());
    const r = await cli('baseline', 'build', dir, '--out', join(work, 'mixed'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/zz-cnn\.onnx has signature .* a baseline holds models of one architecture only/);
  });
});

describe('scan', () => {
  test('JSON report: every candidate scored against the baseline, exit by fail-on', async () => {
    const r = await cli(
      'scan',
      EXAMPLE_CANDIDATES,
      '--baseline',
      baseline,
      '--format',
      'json',
      '--fail-on',
      'low',
    );
    const report = JSON.parse(r.out) as ScanReport;
    expect(report.baseline?.members).toBeGreaterThan(0);
    expect(report.models).toHaveLength(2);
    for (const m of report.models as ScannedModel[]) {
      expect(m.riskScore).toBeGreaterThanOrEqual(0);
      expect(m.riskScore).toBeLessThanOrEqual(100);
      expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(m.flagged).toBe(true); // every level reaches fail-on low
    }
    expect(r.code).toBe(1);
    const never = await cli(
      'scan',
      EXAMPLE_CANDIDATES,
      '--baseline',
      baseline,
      '--format',
      'json',
      '--fail-on',
      'never',
    );
    expect(never.code).toBe(0);
  }, 180_000);

  test('a broken model gets an error entry, exit 2, and the others keep their scores', async () => {
    const dir = tempDir();
    const good = join(dir, 'good.onnx');
    cpSync(join(EXAMPLE_CANDIDATES, 'clean-candidate.onnx'), good);
    const truncated = join(dir, 'truncated.onnx');
    const bytes = readFileSync(good);
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const lfs = join(dir, 'lfs.onnx');
    writeFileSync(
      lfs,
      'version https://git-lfs.github.com/spec/v1\noid sha256:' + 'a'.repeat(64) + '\nsize 123\n',
    );
    const cnn = join(dir, 'other-arch.onnx');
    writeFileSync(cnn, buildCnn());
    const alone = JSON.parse(
      (await cli('scan', good, '--baseline', baseline, '--format', 'json')).out,
    ) as ScanReport;
    const r = await cli('scan', good, truncated, lfs, cnn, '--baseline', baseline, '--format', 'json');
    expect(r.code).toBe(2);
    const report = JSON.parse(r.out) as ScanReport;
    const byPath = Object.fromEntries(report.models.map((m) => [m.path, m]));
    expect((byPath[good] as ScannedModel).riskScore).toBe((alone.models[0] as ScannedModel).riskScore);
    expect((byPath[truncated] as FailedModel).error).toContain(truncated);
    expect((byPath[lfs] as FailedModel).error).toMatch(/Git LFS pointer.*lfs: true/);
    expect((byPath[cnn] as FailedModel).errorCode).toBe('baseline-mismatch');
    expect((byPath[cnn] as FailedModel).error).toMatch(/does not match baseline bl-/);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  }, 180_000);

  test('without a baseline it says plainly that only reference-free checks ran', async () => {
    const r = await cli('scan', EXAMPLE_CANDIDATES, '--format', 'json');
    const report = JSON.parse(r.out) as ScanReport;
    expect(report.baseline).toBeNull();
    expect(report.notes.join(' ')).toMatch(/without a baseline: only reference-free checks ran/);
    expect([0, 1]).toContain(r.code);
  }, 180_000);

  test('every format renders, and --output writes the file', async () => {
    const dir = tempDir();
    for (const format of ['text', 'json', 'sarif', 'junit', 'markdown']) {
      const out = join(dir, `report.${format}`);
      const r = await cli(
        'scan',
        EXAMPLE_CANDIDATES,
        '--baseline',
        baseline,
        '--format',
        format,
        '--output',
        out,
      );
      expect(r.code).not.toBe(2);
      const text = readFileSync(out, 'utf8');
      if (format !== 'sarif') expect(text).toContain('clean-candidate.onnx'); // SARIF lists only flagged models
    }
    expect(JSON.parse(readFileSync(join(dir, 'report.sarif'), 'utf8')).version).toBe('2.1.0');
    expect(readFileSync(join(dir, 'report.junit'), 'utf8')).toMatch(/^<\?xml/);
  }, 180_000);

  test('a pattern that matches nothing and a bad flag are one-line errors', async () => {
    const a = await cli('scan', 'nowhere/**/*.onnx');
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/no file matches this pattern/);
    const b = await cli('scan', EXAMPLE_CANDIDATES, '--fail-on', 'sometimes');
    expect(b.code).toBe(2);
    expect(b.err.trim().split('\n')).toHaveLength(1);
    const c = await cli('scan', EXAMPLE_CANDIDATES, '--time-limit', '0');
    expect(c.code).toBe(2);
    expect(c.err.trim()).toBe(
      'model-fingerprint: error: --time-limit 0: expected a whole number between 1 and 86400',
    );
  });

  test('--time-limit is how to run, not what to compute: a scan against a baseline takes it, same result, no note', async () => {
    const model = join(EXAMPLE_CANDIDATES, 'backdoored.onnx');
    const plain = await cli('scan', model, '--baseline', baseline, '--format', 'json');
    const timed = await cli('scan', model, '--baseline', baseline, '--format', 'json', '--time-limit', '600');
    expect(timed.code).toBe(plain.code);
    expect(timed.code).not.toBe(2);
    expect(timed.err).not.toMatch(/ignored/);
    const score = (out: string) =>
      (JSON.parse(out) as { models: { riskScore: number }[] }).models[0].riskScore;
    expect(score(timed.out)).toBe(score(plain.out));
  }, 120_000);
});

describe('inspect and fingerprint', () => {
  test('inspect --json lists the layers of a PyTorch-style CNN with shapes', async () => {
    const dir = tempDir();
    const f = join(dir, 'torch.onnx');
    writeFileSync(f, buildPytorchStyle());
    const r = await cli('inspect', f, '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    expect(info.inputs[0].name).toBe('input');
    expect(info.layers.length).toBeGreaterThan(3);
    expect(info.layers.some((l: { op: string }) => l.op === 'Conv')).toBe(true);
    expect(info.layers.every((l: { shape: unknown }) => Array.isArray(l.shape))).toBe(true);
  });

  test('fingerprint writes a readable file, identical blocks on a second run', async () => {
    const dir = tempDir();
    const model = join(EXAMPLE_CANDIDATES, 'clean-candidate.onnx');
    const a = join(dir, 'a.mfp');
    const b = join(dir, 'b.mfp');
    expect((await cli('fingerprint', model, '--out', a, '--probes', '16', '--seed', '7')).code).toBe(0);
    expect((await cli('fingerprint', model, '--out', b, '--probes', '16', '--seed', '7')).code).toBe(0);
    const fa = await readFingerprint(a);
    const fb = await readFingerprint(b);
    expect(fa.header.probes.count).toBe(16);
    expect(Object.keys(fa.blocks)).toContain('logits');
    for (const k of Object.keys(fa.blocks))
      expect(Buffer.from(fa.blocks[k].buffer)).toEqual(Buffer.from(fb.blocks[k].buffer));
  });

  test('truncated and LFS-pointer files exit 2 naming the file', async () => {
    const dir = tempDir();
    const lfs = join(dir, 'model.onnx');
    writeFileSync(lfs, 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1\n');
    const r = await cli('inspect', lfs);
    expect(r.code).toBe(2);
    expect(r.err).toContain(lfs);
    const t = join(dir, 'cut.onnx');
    writeFileSync(t, readFileSync(join(EXAMPLE_CANDIDATES, 'backdoored.onnx')).subarray(0, 300));
    const r2 = await cli('fingerprint', t, '--out', join(dir, 'x.mfp'));
    expect(r2.code).toBe(2);
    expect(r2.err).toContain(t);
  });

  test('a scan without a baseline whose every model failed does not claim that checks ran', async () => {
    const dir = tempDir();
    const lfs = join(dir, 'model.onnx');
    writeFileSync(lfs, 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1\n');
    const r = await cli('scan', lfs, '--format', 'json');
    expect(r.code).toBe(2);
    const report = JSON.parse(r.out) as ScanReport;
    expect(report.models).toHaveLength(1);
    expect(report.notes.join(' ')).not.toMatch(/only reference-free checks ran/);
  });
});

describe('sharded baseline build', () => {
  test('build --shard i/n on each slice, then merge, gives the unsharded baseline id', async () => {
    const dir = tempDir();
    const parts = [1, 2, 3].map((i) => join(dir, `part-${i}`));
    for (const [i, part] of parts.entries()) {
      const r = await cli('baseline', 'build', EXAMPLE_CLEAN, '--shard', `${i + 1}/3`, '--out', part);
      expect(r.code).toBe(0);
    }
    const merged = join(dir, 'merged');
    const r = await cli('baseline', 'merge', ...parts, '--out', merged);
    expect(r.code).toBe(0);
    const a = JSON.parse(readFileSync(join(baseline, 'manifest.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(merged, 'manifest.json'), 'utf8'));
    expect(b.id).toBe(a.id);
    expect((await cli('scan', EXAMPLE_CANDIDATES, '--baseline', merged, '--format', 'json')).code).not.toBe(
      2,
    );
  }, 180_000);

  test('a bad --shard is a one-line error', async () => {
    const r = await cli('baseline', 'build', EXAMPLE_CLEAN, '--shard', '4/3', '--out', tempDir());
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--shard 4\/3: expected I\/N/);
  });
});
