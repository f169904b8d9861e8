/**
 * The features version (what a fingerprint's blocks mean) guards every comparison: a baseline built now
 * records it and scans; one built by another version of the tool (manifest and member fingerprints
 * without the field, or with a newer number) is refused by the real CLI with a one-line fix and exit code
 * 2; it is not grown; shards of mixed versions do not merge; a fingerprint file without the field reads
 * as version 1. Real tiny ONNX models (seeded MLPs) through real ONNX Runtime.
 *
 * The old-style baselines are made honestly from a real one: each member fingerprint is rewritten with the
 * header field removed (as the old tool wrote it), and the manifest with the store's own writer
 * (writeBaselineFiles: recomputes the file hashes and the id exactly as a build does) from the same fitted
 * ensemble, without the `features` field. So the loader's hash and id checks pass, and only the features
 * version differs from a fresh build.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from '../cli/helpers.js';
import { buildMlp } from '../fixtures/models.js';
import { addToBaseline, requireCurrentFeatures, type Collected } from '../../src/baseline/build.js';
import { loadBaseline, writeBaselineFiles, type BaselineManifest } from '../../src/baseline/store.js';
import { rebuildCommand, shellWord } from '../../src/baseline/rebuild-command.js';
import { ENGINE_FLAGS, engineOptions, parse } from '../../src/cli/args.js';
import { PARTIAL_FILE } from '../../src/baseline/shard.js';
import { InputError } from '../../src/errors.js';
import {
  decodeFingerprint,
  encodeFingerprint,
  readFingerprint,
  writeFingerprint,
} from '../../src/fingerprint/format.js';
import { FEATURES_VERSION, featuresVersionOf, type Fingerprint } from '../../src/fingerprint/types.js';
import { sha256Hex } from '../../src/util/hash.js';
import type { FailedModel, ScanReport } from '../../src/report/types.js';

const work = tempDir('mf-features-');
const clean = join(work, 'clean');
const baseline = join(work, 'baseline');
const candidate = join(work, 'candidate.onnx');
const extra = join(work, 'extra.onnx');
const REBUILD = 'model-fingerprint baseline build CLEAN_MODELS... --out';

/** A fingerprint as a tool without the field (or with another version) wrote it. */
function withFeatures(fp: Fingerprint, features: number | undefined): Fingerprint {
  const { features: _drop, ...rest } = fp.header;
  return { ...fp, header: features === undefined ? rest : { ...rest, features } };
}

/** Copies a real baseline and rewrites it as one built at `features` (undefined: before the field existed). */
async function rewriteBaseline(
  src: string,
  dst: string,
  features: number | undefined,
): Promise<BaselineManifest> {
  cpSync(src, dst, { recursive: true });
  const { manifest: m, ensemble } = await loadBaseline(dst);
  const hashes: Record<string, string> = {};
  for (const member of m.members) {
    const file = join(dst, member.fingerprint);
    await writeFingerprint(file, withFeatures(await readFingerprint(file), features));
    hashes[member.fingerprint] = sha256Hex(readFileSync(file));
  }
  const {
    kind: _k,
    formatVersion: _f,
    tool: _t,
    id: _i,
    createdAt: _c,
    files: _files,
    features: _v,
    ...base
  } = m;
  return writeBaselineFiles(dst, features === undefined ? base : { ...base, features }, ensemble, hashes);
}

async function scanJson(base: string): Promise<{ code: number; report: ScanReport }> {
  const r = await cli('scan', candidate, '--baseline', base, '--format', 'json', '-q');
  expect(r.err).not.toMatch(/internal error/);
  return { code: r.code, report: JSON.parse(r.out) as ScanReport };
}

function manifestOf(dir: string): BaselineManifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as BaselineManifest;
}

let old = '';
let oldManifest: BaselineManifest;

beforeAll(async () => {
  mkdirSync(clean, { recursive: true });
  for (let seed = 1; seed <= 6; seed++) writeFileSync(join(clean, `mlp-${seed}.onnx`), buildMlp(seed));
  writeFileSync(candidate, buildMlp(11));
  writeFileSync(extra, buildMlp(12));
  const r = await cli('baseline', 'build', clean, '--out', baseline);
  expect(r.err).not.toMatch(/internal error/);
  expect(r.code).toBe(0);
  old = join(work, 'old');
  oldManifest = await rewriteBaseline(baseline, old, undefined);
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a baseline built now', () => {
  test('records this features version in its manifest and every member fingerprint, and scans', async () => {
    const m = manifestOf(baseline);
    expect(m.features).toBe(FEATURES_VERSION);
    for (const member of m.members) {
      expect((await readFingerprint(join(baseline, member.fingerprint))).header.features).toBe(
        FEATURES_VERSION,
      );
    }
    const { code, report } = await scanJson(baseline);
    expect(code).not.toBe(2);
    expect(report.models).toHaveLength(1);
    expect('error' in report.models[0]).toBe(false);
  });

  test('the features version is part of the id: the same members and ensemble without it get another id', async () => {
    expect(oldManifest.id).not.toBe(manifestOf(baseline).id);
    expect(oldManifest.members.map((x) => x.sha256)).toEqual(
      manifestOf(baseline).members.map((x) => x.sha256),
    );
    // the old-style manifest still verifies (hashes and id): the refusal below is about features alone
    expect((await loadBaseline(old)).manifest.features).toBeUndefined();
  });

  test('baseline info shows the features version, as text and as a JSON number', async () => {
    const j = await cli('baseline', 'info', baseline, '--json');
    expect(j.code).toBe(0);
    expect(JSON.parse(j.out).features).toBe(FEATURES_VERSION);
    const t = await cli('baseline', 'info', baseline);
    expect(t.out).toMatch(new RegExp(`features +v${FEATURES_VERSION}\\n`));
    const o = await cli('baseline', 'info', old, '--json');
    expect(o.code).toBe(0);
    expect(JSON.parse(o.out).features).toBe(1);
    expect((await cli('baseline', 'info', old)).out).toMatch(
      /features +v1 \(this version computes v\d+: scans refuse/,
    );
  });
});

describe('a baseline of another features version is refused', () => {
  test('scan: every model gets a baseline-mismatch entry naming the versions and the fix, exit code 2', async () => {
    const { code, report } = await scanJson(old);
    expect(code).toBe(2);
    expect(report.baseline?.id).toBe(oldManifest.id);
    const entry = report.models[0] as FailedModel;
    expect(entry.errorCode).toBe('baseline-mismatch');
    expect(entry.sha256).toBe(sha256Hex(readFileSync(candidate)));
    expect(entry.error).toBe(
      `${candidate}: baseline ${oldManifest.id} was built by an older version of model-fingerprint ` +
        `(features v1; this version computes v${FEATURES_VERSION}): rebuild it from its clean models: ${REBUILD} ${old}`,
    );
  });

  test('scan: a manifest saying a newer version is refused as "newer"', async () => {
    const newer = join(work, 'newer');
    const m = await rewriteBaseline(baseline, newer, FEATURES_VERSION + 1);
    const { code, report } = await scanJson(newer);
    expect(code).toBe(2);
    const entry = report.models[0] as FailedModel;
    expect(entry.errorCode).toBe('baseline-mismatch');
    expect(entry.error).toContain(
      `baseline ${m.id} was built by a newer version of model-fingerprint (features v${FEATURES_VERSION + 1}; this version computes v${FEATURES_VERSION})`,
    );
  });

  test('baseline add: new models cannot join it, and it is left as it was', async () => {
    const before = readFileSync(join(old, 'manifest.json'), 'utf8');
    const r = await cli('baseline', 'add', old, extra);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain(`${old}: baseline ${oldManifest.id} was built by an older version`);
    expect(r.err).toContain(`features v1; this version computes v${FEATURES_VERSION}`);
    expect(r.err).toContain(`${REBUILD} ${old}`);
    expect(readFileSync(join(old, 'manifest.json'), 'utf8')).toBe(before);
    const elsewhere = join(work, 'grown-elsewhere');
    await expect(addToBaseline(old, [extra], { out: elsewhere })).rejects.toMatchObject({
      code: 'baseline-mismatch',
    });
    expect(existsSync(join(elsewhere, 'manifest.json'))).toBe(false);
  });
});

describe('sharded builds', () => {
  let parts: string[] = [];
  beforeAll(async () => {
    parts = [join(work, 'part-1'), join(work, 'part-2')];
    for (const [i, part] of parts.entries()) {
      const r = await cli('baseline', 'build', clean, '--shard', `${i + 1}/2`, '--out', part);
      expect(r.code).toBe(0);
    }
  }, 60_000);

  /** Copies a partial and rewrites its fingerprints (and, unless `keepClaim`, its partial.json) as the old tool wrote them. */
  async function oldPartial(src: string, dst: string, keepClaim: boolean): Promise<void> {
    cpSync(src, dst, { recursive: true });
    const p = JSON.parse(readFileSync(join(dst, PARTIAL_FILE), 'utf8')) as {
      features?: number;
      members: { fingerprint: string; fileHash: string }[];
    };
    for (const m of p.members) {
      const file = join(dst, m.fingerprint);
      await writeFingerprint(file, withFeatures(await readFingerprint(file), undefined));
      m.fileHash = sha256Hex(readFileSync(file));
    }
    if (!keepClaim) delete p.features;
    writeFileSync(join(dst, PARTIAL_FILE), JSON.stringify(p, null, 2) + '\n');
  }

  test('partials record the features version, and merge into a baseline that does too', async () => {
    for (const part of parts)
      expect(JSON.parse(readFileSync(join(part, PARTIAL_FILE), 'utf8')).features).toBe(FEATURES_VERSION);
    const merged = join(work, 'merged');
    const r = await cli('baseline', 'merge', ...parts, '--out', merged);
    expect(r.code).toBe(0);
    expect(manifestOf(merged).features).toBe(FEATURES_VERSION);
    expect(manifestOf(merged).id).toBe(manifestOf(baseline).id);
  });

  test('merging partials of mixed features versions is refused, naming both', async () => {
    const stale = join(work, 'part-2-old');
    await oldPartial(parts[1], stale, false);
    // the probe settings the stale shard was built with come back in the command that rebuilds it
    const file = join(stale, PARTIAL_FILE);
    const p = JSON.parse(readFileSync(file, 'utf8')) as { probes: { spec: unknown } };
    p.probes.spec = { seed: 3, samplesDir: 'my samples', normalize: { mean: [0.5], std: [0.25] } };
    writeFileSync(file, JSON.stringify(p, null, 2) + '\n');
    const out = join(work, 'merged-mixed');
    const r = await cli('baseline', 'merge', parts[0], stale, '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `${stale} was fingerprinted at features v1, but ${parts[0]} has v${FEATURES_VERSION}: partials of mixed features versions do not merge`,
    );
    expect(r.err).toContain(
      "(model-fingerprint baseline build CLEAN_MODELS... --seed 3 --input-mean 0.5 --input-std 0.25 --probe-samples 'my samples' --shard I/N --out DIR) and merge again",
    );
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
  });

  test('a partial whose partial.json claims this version but whose fingerprints lack it is refused too', async () => {
    const liar = join(work, 'part-2-claims');
    await oldPartial(parts[1], liar, true);
    const out = join(work, 'merged-liar');
    const r = await cli('baseline', 'merge', parts[0], liar, '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /has features v1 but .* has v\d+: members of mixed features versions do not compare/,
    );
    expect(r.err).toContain(`${REBUILD} ${out}`);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
  });
});

describe('fingerprint files', () => {
  test('a file without the header field reads as version 1; with it, round-trips; a bad value is refused', async () => {
    const m = manifestOf(baseline);
    const fp = await readFingerprint(join(baseline, m.members[0].fingerprint));
    expect(featuresVersionOf(fp.header)).toBe(FEATURES_VERSION);
    const again = decodeFingerprint(encodeFingerprint(fp), 'a.mfp');
    expect(again.header.features).toBe(FEATURES_VERSION);
    const old = decodeFingerprint(encodeFingerprint(withFeatures(fp, undefined)), 'old.mfp');
    expect('features' in old.header).toBe(false);
    expect(featuresVersionOf(old.header)).toBe(1);
    expect(Object.keys(old.blocks)).toEqual(Object.keys(fp.blocks));
    for (const bad of [0, 1.5, '2'] as unknown as number[]) {
      expect(() => decodeFingerprint(encodeFingerprint(withFeatures(fp, bad)), 'bad.mfp')).toThrow(
        InputError,
      );
      expect(() => decodeFingerprint(encodeFingerprint(withFeatures(fp, bad)), 'bad.mfp')).toThrow(
        /bad\.mfp: .*"features"/,
      );
    }
  });
});

describe('the rebuild hint', () => {
  test('quotes a path only when the shell needs it', () => {
    expect(shellWord('baselines/example')).toBe('baselines/example');
    expect(shellWord("my baselines/it's")).toBe("'my baselines/it'\\''s'");
    const m = manifestOf(baseline);
    expect(rebuildCommand('/tmp/a b', m)).toBe(`${REBUILD} '/tmp/a b'`);
  });

  test('repeats the samples a baseline carries, so the rebuild keeps them', () => {
    const m = manifestOf(baseline);
    expect(rebuildCommand(baseline, m)).toBe(`${REBUILD} ${baseline}`);
    const withSamples = { ...m, probes: { ...m.probes, spec: { samplesDir: 'samples' } } };
    expect(rebuildCommand(baseline, withSamples)).toBe(
      `model-fingerprint baseline build CLEAN_MODELS... --probe-samples ${join(baseline, 'samples')} --out ${baseline}`,
    );
  });

  test('repeats every recorded probe setting and the layers: the CLI parses it back to the same settings', () => {
    const spec = {
      count: 96,
      seed: 7,
      kinds: ['noise', 'smooth'],
      range: [-1, 1],
      dims: { seq: 32, 'ids.1': 16 },
      vocab: 3000,
      normalize: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
      samplesDir: 'samples',
    };
    const layers = ['/layers.1/Relu_output_0', 'hidden two'];
    const dir = '/tmp/my baseline';
    const budget = { setting: 'thorough', macs: 2e13 };
    const cmd = rebuildCommand(dir, { probes: { spec, hash: 'h' }, layers, budget });
    expect(cmd.startsWith('model-fingerprint baseline build CLEAN_MODELS... ')).toBe(true);
    const parsed = parse('baseline build', shellWords(cmd).slice(3), {
      ...ENGINE_FLAGS,
      out: { type: 'string' },
    });
    expect(parsed.positionals).toEqual(['CLEAN_MODELS...']);
    expect(parsed.values.out).toBe(dir);
    const opts = engineOptions(parsed);
    expect(opts.probes).toEqual({ ...spec, samplesDir: join(dir, 'samples') });
    expect(opts.layers).toEqual(layers);
    expect(opts.budget).toEqual(budget);
    // the default budget and the legacy plan of an older baseline need no flag (a rebuild gets the default)
    expect(
      rebuildCommand(dir, {
        probes: { spec: {}, hash: 'h' },
        layers: 'auto',
        budget: { setting: 'default', macs: 3e12 },
      }),
    ).toBe(`${REBUILD} '${dir}'`);
    expect(rebuildCommand(dir, { probes: { spec: {}, hash: 'h' }, layers: 'auto' })).toBe(
      `${REBUILD} '${dir}'`,
    );
    // a manifest field of the wrong type is left out, never printed as "[object Object]" or thrown on
    const odd = rebuildCommand(dir, {
      probes: { spec: { count: '96', normalize: { mean: 1 } }, hash: 'h' },
      layers: 'auto',
    });
    expect(odd).toBe(`${REBUILD} '${dir}'`);
  });
});

describe('mixed features versions among the members being fitted', () => {
  test('are refused with the rebuild command of the settings this build was given', async () => {
    const m = manifestOf(baseline);
    const collected: Collected[] = [];
    for (const [i, member] of m.members.slice(0, 2).entries()) {
      const fp = await readFingerprint(join(baseline, member.fingerprint));
      collected.push({
        member,
        signature: m.signature,
        architecture: m.architecture,
        fingerprint: i === 1 ? withFeatures(fp, undefined) : fp,
        fileHash: member.sha256,
      });
    }
    // the samples path as the command line gave it (relative to the working directory), as every build passes it
    const settings = {
      probes: { spec: { seed: 3, samplesDir: 'my samples' }, hash: 'h' },
      layers: 'auto' as const,
    };
    const refusal = (() => {
      try {
        requireCurrentFeatures('/tmp/out dir', collected, settings);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(refusal).toBeInstanceOf(InputError);
    const msg = (refusal as InputError).message;
    expect(msg).toContain(
      `${m.members[1].path} has features v1 but ${m.members[0].path} has v${FEATURES_VERSION}`,
    );
    expect(msg).toContain(
      "model-fingerprint baseline build CLEAN_MODELS... --seed 3 --probe-samples 'my samples' --out '/tmp/out dir'",
    );
    // members of one version pass
    expect(() => requireCurrentFeatures('/tmp/out dir', collected.slice(0, 1), settings)).not.toThrow();
  });
});

/** Splits a POSIX command line of plain words and single-quoted words (what shellWord prints). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/(?:[^\s']+|'[^']*'|\\')+/g))
    words.push(
      m[0]
        .replace(/'\\''/g, "'")
        .replace(/^'|'$/g, '')
        .replace(/'([^']*)'/g, '$1'),
    );
  return words;
}
