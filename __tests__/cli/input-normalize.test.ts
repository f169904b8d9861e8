/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * --input-mean / --input-std end to end on real files and real ONNX Runtime: help texts, flag errors (exit 2,
 * one line naming the flag), a baseline built with the flags records them (manifest, `baseline info`), a
 * scan against it feeds models the same way (its probe hash, which covers the normalisation, matches), flags
 * given with --baseline are ignored with a note, and the action inputs input-mean / input-std.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readInputs } from '../../src/action/inputs.js';
import { engineFromBaseline } from '../../src/baseline/samples.js';
import type { BaselineManifest } from '../../src/baseline/store.js';
import { InputError } from '../../src/errors.js';
import { readModel } from '../../src/model/read.js';
import { writeSequentialModel } from '../../src/model/write.js';
import { generateProbes } from '../../src/probes/generate.js';
import { Rng } from '../../src/probes/rng.js';
import { probeSpecOf } from '../../src/scan/engine.js';
import { conv, dense } from '../fixtures/models.js';
import { cli, tempDir } from './helpers.js';

const MEAN = '0.485,0.456,0.406';
const STD = '0.229,0.224,0.225';

/** A 3-channel CNN classifier on [N,3,8,8] (10 classes); seeds give distinct clean members. */
function cnn3(seed: number): Uint8Array {
  const rng = new Rng(seed);
  return writeSequentialModel({
    inputShape: ['N', 3, 8, 8],
    layers: [
      conv(rng, 3, 4, 3),
      { kind: 'relu' },
      { kind: 'flatten' },
      dense(rng, 4 * 6 * 6, 12),
      { kind: 'relu' },
      dense(rng, 12, 10),
    ],
  });
}

let work: string;
let models: string[];

beforeAll(() => {
  work = tempDir('mf-norm-');
  models = [1, 2, 3, 4, 5].map((s) => {
    const file = join(work, `m${s}.onnx`);
    writeFileSync(file, cnn3(100 + s));
    return file;
  });
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('help', () => {
  test('baseline build --help documents --probe-range and the normalisation flags', async () => {
    const r = await cli('baseline', 'build', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--probe-range LO,HI: value range of generated probes and samples/);
    expect(r.out).toContain('--input-mean 0.485,0.456,0.406 --input-std 0.229,0.224,0.225');
    expect(r.out).toContain("torchvision's Normalize");
  });

  test('fingerprint and scan --help document the flags; scan says the baseline decides', async () => {
    const f = await cli('fingerprint', '--help');
    expect(f.out).toContain('--input-mean');
    const s = await cli('scan', '--help');
    expect(s.out).toContain('--input-std');
    expect(s.out).toMatch(/probe flags given with --baseline are ignored/);
  });
});

describe('flag errors: exit 2, one line naming the flag', () => {
  test.each([
    [[MEAN, '0.2,0.2'], /--input-mean has 3 value\(s\) but --input-std has 2/],
    [['0.5', '0'], /--input-std 0: every value must be greater than 0/],
    [['0.5,nan,0.5', STD], /--input-mean 0\.5,NaN,0\.5: every value must be a finite number/],
  ])('--input-mean %j', async ([mean, std], pattern) => {
    const r = await cli(
      'fingerprint',
      models[0],
      '--out',
      join(work, 'x.mfp'),
      '--input-mean',
      mean,
      '--input-std',
      std,
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(pattern);
  });

  test('a value that starts with "-" after a space: the error says to write --flag=value, on one line', async () => {
    const r = await cli('fingerprint', models[0], '--out', join(work, 'x.mfp'), '--probe-range', '-1,1');
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/--probe-range' argument is ambiguous\..*use '--probe-range=-XYZ'/);
    // and the form it names works
    const ok = await cli('fingerprint', models[0], '--out', join(work, 'y.mfp'), '--probe-range=-1,1');
    expect(ok.code).toBe(0);
  });

  test('a mean without a std', async () => {
    const r = await cli('fingerprint', models[0], '--out', join(work, 'x.mfp'), '--input-mean', MEAN);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--input-mean given without --input-std/);
  });

  test('a value count that does not match the channels names the model, its shape and the flag', async () => {
    const r = await cli(
      'fingerprint',
      models[0],
      '--out',
      join(work, 'x.mfp'),
      '--input-mean',
      '0.5,0.5',
      '--input-std',
      '0.2,0.2',
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain(models[0]);
    expect(r.err).toMatch(/\[N,3,8,8\] \(3 channels\) but --input-mean\/--input-std give 2 values/);
  });

  test('fingerprint with the flags names another probe set than without', async () => {
    const hashOf = (out: string) => /probe set ([0-9a-f]{12})/.exec(out)?.[1];
    const model = await readModel(models[0]);
    const plain = generateProbes(model.inputs, { count: 16 }).hash.slice(0, 12);
    const norm = await cli(
      'fingerprint',
      models[0],
      '--out',
      join(work, 'b.mfp'),
      '--probes',
      '16',
      '--input-mean',
      MEAN,
      '--input-std',
      STD,
    );
    expect(norm.code).toBe(0);
    expect(hashOf(norm.out)).toMatch(/^[0-9a-f]{12}$/);
    expect(hashOf(norm.out)).not.toBe(plain);
    const spec = { count: 16, normalize: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } };
    expect(hashOf(norm.out)).toBe(generateProbes(model.inputs, spec).hash.slice(0, 12));
  });
});

describe('a baseline built with the flags', () => {
  test('records them, shows them, and every scan against it feeds models the same way', async () => {
    const out = join(work, 'baseline');
    const b = await cli(
      'baseline',
      'build',
      ...models,
      '--out',
      out,
      '--probes',
      '16',
      '--input-mean',
      MEAN,
      '--input-std',
      STD,
    );
    expect(b.err).not.toMatch(/error/i);
    expect(b.code).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as BaselineManifest;
    expect((m.probes.spec as { normalize?: unknown }).normalize).toEqual({
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    });

    const info = await cli('baseline', 'info', out);
    expect(info.code).toBe(0);
    expect(info.out).toMatch(/input norm .*mean 0\.485,0\.456,0\.406, std 0\.229,0\.224,0\.225/);
    const json = JSON.parse((await cli('baseline', 'info', out, '--json')).out) as { normalize?: unknown };
    expect(json.normalize).toEqual({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });

    // engine level: a scan's probes come from the baseline, normalisation included, with its probe hash;
    // the same spec without normalisation hashes differently, so a scan ignoring it would be a mismatch
    const engine = engineFromBaseline(out, m, {});
    const model = await readModel(models[0]);
    const fed = generateProbes(model.inputs, probeSpecOf(engine), { file: models[0] });
    expect(probeSpecOf(engine).normalize).toEqual({
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    });
    const norm = fed.inputs[0].normalize!;
    expect(norm).toMatchObject({ channels: 3 });
    // the resolved form is x * scale + shift: its mean is -shift / scale
    norm.shift.forEach((b, c) => expect(-b / norm.scale[c]).toBeCloseTo([0.485, 0.456, 0.406][c], 12));
    expect(fed.hash).toBe(m.probes.hash);
    const { normalize: _dropped, ...plainSpec } = probeSpecOf(engine);
    expect(generateProbes(model.inputs, plainSpec).hash).not.toBe(m.probes.hash);

    // CLI level: a member scans against it with no baseline-mismatch (the probe hash, which covers the
    // normalisation, matched), and other flags given anyway are ignored with a note
    const s = await cli(
      'scan',
      models[0],
      '--baseline',
      out,
      '--format',
      'json',
      '--quiet',
      '--input-mean',
      '0',
      '--input-std',
      '1',
    );
    expect([0, 1]).toContain(s.code);
    const report = JSON.parse(s.out) as { models: { path: string; error?: string; riskScore?: number }[] };
    expect(report.models).toHaveLength(1);
    expect(report.models[0].error).toBeUndefined();
    expect(typeof report.models[0].riskScore).toBe('number');
    expect(s.err).toMatch(
      /note: --input-mean, --input-std ignored: with --baseline the probe set \(including input normalisation\)/,
    );
  });

  test('scan without a baseline takes the flags (reference-free checks run on normalised inputs)', async () => {
    const s = await cli(
      'scan',
      models[2],
      '--format',
      'json',
      '--quiet',
      '--input-mean',
      '0.5',
      '--input-std',
      '0.25',
    );
    expect([0, 1]).toContain(s.code);
    const report = JSON.parse(s.out) as { models: { error?: string }[] };
    expect(report.models[0].error).toBeUndefined();
    const bad = await cli('scan', models[2], '--input-mean', '0.5,0.5', '--input-std', '0.25,0.25');
    expect(bad.code).toBe(2);
    expect(bad.out + bad.err).toMatch(/--input-mean\/--input-std give 2 values/);
  });
});

describe('action inputs input-mean / input-std', () => {
  const inputs = (extra: Record<string, string>) => (name: string) => extra[name] ?? '';

  test('read into the engine options like the CLI flags', () => {
    const r = readInputs(inputs({ 'input-mean': MEAN, 'input-std': STD }));
    expect(r.engine.probes?.normalize).toEqual({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(readInputs(inputs({})).engine.probes?.normalize).toBeUndefined();
  });

  test.each([
    [{ 'input-mean': MEAN }, /action input "input-mean" given without action input "input-std"/],
    [
      { 'input-mean': '0.5', 'input-std': '-1' },
      /action input "input-std" -1: every value must be greater than 0/,
    ],
    [{ 'input-mean': '1,2', 'input-std': '1' }, /action input "input-mean" has 2 value\(s\)/],
  ])('%j is an InputError naming the input', (given, pattern) => {
    let caught: unknown;
    try {
      readInputs(inputs(given));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).message).toMatch(pattern);
    expect((caught as InputError).message).toMatch(/fix it in the workflow's "with:" block/);
  });
});
