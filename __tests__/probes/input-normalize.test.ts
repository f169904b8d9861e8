/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * Per-channel input normalisation (ProbeSpec.normalize, --input-mean/--input-std) through real ONNX Runtime
 * sessions: identity models show exactly what the model receives ((x - mean[c]) / std[c], CHW and HWC, float32
 * and float64, one value for every channel), probe data stays in probe space and is never changed, the probe
 * hash is unchanged without the option (the example baseline's stored hash) and changes with it, trigger
 * probing's logits function normalises too, and every bad spec is an InputError naming the flag.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../../src/errors.js';
import { runTriggerCheck } from '../../src/fingerprint/trigger-check.js';
import { MAX_NORMALIZE_CHANNELS } from '../../src/limits.js';
import { parseModel } from '../../src/model/read.js';
import { ModelRunner, runProbes } from '../../src/model/session.js';
import type { ElementType } from '../../src/model/types.js';
import { GraphBuilder, writeSequentialModel } from '../../src/model/write.js';
import { generateProbes } from '../../src/probes/generate.js';
import { channelLayout, parseNormalize } from '../../src/probes/normalize.js';
import { Rng } from '../../src/probes/rng.js';
import type { NormalizeSpec, ProbeSpec } from '../../src/probes/types.js';
import { conv, dense } from '../fixtures/models.js';

const IMAGENET: NormalizeSpec = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** y = x: the output is exactly what the session fed the model. */
function identityModel(shape: (number | string)[], dtype: ElementType = 'float32', file = 'id.onnx') {
  const bytes = new GraphBuilder()
    .addInput('x', dtype, shape)
    .addNode('Identity', ['x'], ['y'])
    .addOutput('y', dtype, shape)
    .toBytes();
  return parseModel(bytes, file);
}

function inputsOf(shape: (number | string)[], dtype: ElementType = 'float32') {
  return [{ name: 'x', dtype, shape }];
}

/** Largest |got - (x - mean[c]) / std[c]| with c = channelOf(element index within a probe). */
function maxError(
  got: ArrayLike<number>,
  x: ArrayLike<number>,
  per: number,
  spec: NormalizeSpec,
  channelOf: (i: number) => number,
): number {
  let worst = 0;
  for (let k = 0; k < x.length; k++) {
    const c = spec.mean.length === 1 ? 0 : channelOf(k % per);
    const want = (x[k] - spec.mean[c]) / spec.std[c];
    worst = Math.max(worst, Math.abs(got[k] - want));
  }
  return worst;
}

function errorOf(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('the model receives (x - mean[c]) / std[c]', () => {
  test('CHW [N,3,4,4]: per channel, probe data untouched and equal to the unnormalised set', async () => {
    const model = identityModel(['N', 3, 4, 4]);
    const probes = generateProbes(model.inputs, { count: 12, normalize: IMAGENET });
    const plain = generateProbes(model.inputs, { count: 12 });
    expect(probes.inputs[0].normalize).toMatchObject({ channels: 3, inner: 16 });
    // probe space is the same with and without normalisation
    expect(Buffer.from((probes.inputs[0].data as Float32Array).buffer)).toEqual(
      Buffer.from((plain.inputs[0].data as Float32Array).buffer),
    );
    const before = (probes.inputs[0].data as Float32Array).slice();
    const run = await runProbes(model, probes, { batchSize: 5, threads: 1 });
    const y = run.tensors.get('y')!.data;
    expect(y.length).toBe(before.length);
    expect(maxError(y, before, 48, IMAGENET, (i) => Math.floor(i / 16))).toBeLessThan(1e-5);
    // not a no-op: the values the model got differ from the probes
    expect(maxError(y, before, 48, { mean: [0], std: [1] }, () => 0)).toBeGreaterThan(0.5);
    expect(probes.inputs[0].data).toEqual(before);
  });

  test('HWC [N,4,4,3]: the channel is the last axis', async () => {
    const model = identityModel(['N', 4, 4, 3]);
    const probes = generateProbes(model.inputs, { count: 6, normalize: IMAGENET });
    expect(probes.inputs[0].normalize).toMatchObject({ channels: 3, inner: 1 });
    const x = (probes.inputs[0].data as Float32Array).slice();
    const y = (await runProbes(model, probes, { threads: 1 })).tensors.get('y')!.data;
    expect(maxError(y, x, 48, IMAGENET, (i) => i % 3)).toBeLessThan(1e-5);
    // the CHW reading of the same values would be wrong: the layouts really differ
    expect(maxError(y, x, 48, IMAGENET, (i) => Math.floor(i / 16))).toBeGreaterThan(0.01);
  });

  test('float64 inputs are normalised in double precision', async () => {
    const model = identityModel(['N', 3, 2, 2], 'float64');
    const spec: NormalizeSpec = { mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2] };
    const probes = generateProbes(model.inputs, { count: 4, normalize: spec });
    const x = (probes.inputs[0].data as Float64Array).slice();
    const y = (await runProbes(model, probes, { threads: 1 })).tensors.get('y')!.data;
    // captured tensors are float32: compare at float32 precision
    expect(maxError(y, x, 12, spec, (i) => Math.floor(i / 4))).toBeLessThan(1e-6);
  });

  test('one value applies to every channel', async () => {
    const model = identityModel(['N', 3, 4, 4]);
    const one: NormalizeSpec = { mean: [0.5], std: [0.25] };
    const probes = generateProbes(model.inputs, { count: 5, normalize: one });
    expect(probes.inputs[0].normalize).toMatchObject({ channels: 1, inner: 48 });
    const x = (probes.inputs[0].data as Float32Array).slice();
    const y = (await runProbes(model, probes, { threads: 1 })).tensors.get('y')!.data;
    expect(maxError(y, x, 48, one, () => 0)).toBeLessThan(1e-6);
    // and equals the three-value spec with the same numbers
    const three = generateProbes(model.inputs, {
      count: 5,
      normalize: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    });
    const y3 = (await runProbes(model, three, { threads: 1 })).tensors.get('y')!.data;
    expect(Buffer.from(y3.buffer)).toEqual(Buffer.from(y.buffer));
  });

  test('without normalize the model receives the probes bit for bit', async () => {
    const model = identityModel(['N', 3, 4, 4]);
    const probes = generateProbes(model.inputs, { count: 7 });
    expect(probes.inputs[0].normalize).toBeUndefined();
    const y = (await runProbes(model, probes, { batchSize: 3, threads: 1 })).tensors.get('y')!.data;
    expect(Buffer.from(y.buffer, y.byteOffset, y.byteLength)).toEqual(
      Buffer.from((probes.inputs[0].data as Float32Array).buffer),
    );
  });

  test('layouts follow the samples rule: CHW for 1 or 3 leading, HWC for 1 or 3 trailing, flat = 1 channel', () => {
    expect(channelLayout([3, 8, 8])).toEqual({ channels: 3, inner: 64 });
    expect(channelLayout([1, 8, 8])).toEqual({ channels: 1, inner: 64 });
    expect(channelLayout([8, 8, 3])).toEqual({ channels: 3, inner: 1 });
    expect(channelLayout([8, 8])).toEqual({ channels: 1, inner: 64 });
    expect(channelLayout([16])).toEqual({ channels: 1, inner: 16 });
  });
});

describe('the probe-set hash', () => {
  const example = JSON.parse(readFileSync('baselines/example/manifest.json', 'utf8')) as {
    signature: string;
    probes: { spec: ProbeSpec; hash: string };
  };
  // the example baseline's input, from its signature input:float32[N,1,14,14]
  const exampleInputs = inputsOf(['N', 1, 14, 14]);

  test("a spec without normalize hashes exactly as the example baseline's stored probe hash", () => {
    expect(example.signature.startsWith('input:float32[N,1,14,14]')).toBe(true);
    const spec: ProbeSpec = { ...example.probes.spec, samplesDir: 'baselines/example/samples' };
    const probes = generateProbes([{ ...exampleInputs[0], name: 'input' }], spec);
    expect(probes.hash).toBe(example.probes.hash);
    const explicit = generateProbes([{ ...exampleInputs[0], name: 'input' }], {
      ...spec,
      normalize: undefined,
    });
    expect(explicit.hash).toBe(example.probes.hash);
  });

  test('normalize changes the hash, and different values give different hashes', () => {
    const inputs = inputsOf(['N', 3, 4, 4]);
    const plain = generateProbes(inputs, { count: 8 }).hash;
    const a = generateProbes(inputs, { count: 8, normalize: IMAGENET }).hash;
    const b = generateProbes(inputs, { count: 8, normalize: { mean: [0.5], std: [0.5] } }).hash;
    expect(new Set([plain, a, b]).size).toBe(3);
    expect(generateProbes(inputs, { count: 8, normalize: IMAGENET }).hash).toBe(a);
  });
});

describe('bad specs are InputErrors naming the flag', () => {
  const image = inputsOf(['N', 3, 4, 4]);

  test('a value count that is neither 1 nor the channel count names the file, the shape and the flag', () => {
    const e = errorOf(() =>
      generateProbes(
        image,
        { count: 4, normalize: { mean: [0.5, 0.5], std: [0.2, 0.2] } },
        { file: 'm.onnx' },
      ),
    );
    expect(e.code).toBe('bad-argument');
    expect(e.message).toMatch(/^m\.onnx: .*\[N,3,4,4\].*3 channels.*--input-mean/);
    expect(e.message).not.toContain('\n');
  });

  test.each([
    ['std 0', { mean: [0.5, 0.5, 0.5], std: [0.2, 0, 0.2] }, /--input-std .*greater than 0/],
    ['negative std', { mean: [0.5], std: [-1] }, /--input-std .*greater than 0/],
    ['NaN mean', { mean: [Number.NaN], std: [1] }, /--input-mean NaN: .*finite/],
    ['Infinite std', { mean: [0], std: [Number.POSITIVE_INFINITY] }, /--input-std Infinity: .*finite/],
    [
      'mean/std counts differ',
      { mean: [0.5, 0.5, 0.5], std: [0.2] },
      /--input-mean has 3 .*--input-std has 1/,
    ],
    [
      'too many values',
      {
        mean: new Array<number>(MAX_NORMALIZE_CHANNELS + 1).fill(0),
        std: new Array<number>(MAX_NORMALIZE_CHANNELS + 1).fill(1),
      },
      new RegExp(
        `--input-mean has ${MAX_NORMALIZE_CHANNELS + 1} values: give 1 .* to ${MAX_NORMALIZE_CHANNELS}`,
      ),
    ],
    ['no values', { mean: [], std: [] }, /--input-mean has 0 values/],
  ])('%s', (_, normalize, pattern) => {
    const e = errorOf(() => generateProbes(image, { count: 4, normalize }));
    expect(e.code).toBe('bad-argument');
    expect(e.message).toMatch(pattern);
  });

  test('a model with several float inputs, or none, is told that normalisation applies to one float image input', () => {
    const two = [
      { name: 'a', dtype: 'float32' as const, shape: ['N', 3, 4, 4] },
      { name: 'b', dtype: 'float32' as const, shape: ['N', 4] },
    ];
    const e = errorOf(() => generateProbes(two, { count: 2, normalize: IMAGENET }, { file: 'two.onnx' }));
    expect(e.message).toMatch(
      /^two\.onnx: --input-mean\/--input-std apply to one float image input.*2 float inputs \(a, b\)/,
    );
    const tokens = [{ name: 'ids', dtype: 'int64' as const, shape: ['N', 6] }];
    const e2 = errorOf(() =>
      generateProbes(tokens, { count: 2, vocab: 10, normalize: { mean: [0], std: [1] } }),
    );
    expect(e2.message).toMatch(/one float image input, but the model has no float input/);
  });

  test('parseNormalize: both flags or neither, numbers only, names the flag', () => {
    expect(parseNormalize(undefined, undefined)).toBeUndefined();
    expect(parseNormalize('0.485, 0.456,0.406', '0.229,0.224,0.225')).toEqual(IMAGENET);
    expect(parseNormalize('0.5', '0.25')).toEqual({ mean: [0.5], std: [0.25] });
    expect(errorOf(() => parseNormalize('0.5', undefined)).message).toMatch(
      /^--input-mean given without --input-std: give both/,
    );
    expect(errorOf(() => parseNormalize(undefined, '0.5')).message).toMatch(
      /^--input-std given without --input-mean/,
    );
    expect(errorOf(() => parseNormalize('0.5,abc', '1,1')).message).toMatch(
      /^--input-mean 0\.5,NaN: .*finite/,
    );
    expect(errorOf(() => parseNormalize('0.5,0.5', '1,0')).message).toMatch(
      /^--input-std 1,0: .*greater than 0/,
    );
    const names = { mean: 'action input "input-mean"', std: 'action input "input-std"' };
    expect(errorOf(() => parseNormalize('1,2', '1', names)).message).toMatch(
      /^action input "input-mean" has 2 value\(s\) but action input "input-std" has 1/,
    );
  });
});

describe('trigger probing feeds normalised inputs too', () => {
  test('logitsFunction with normalize: the model gets (x - mean) / std, the caller keeps x', async () => {
    const model = identityModel(['N', 3, 4, 4]);
    const probes = generateProbes(model.inputs, { count: 3, normalize: IMAGENET });
    const runner = await ModelRunner.open(model, { threads: 1 });
    try {
      const logits = runner.logitsFunction([3, 4, 4], { normalize: probes.inputs[0].normalize });
      const x = new Rng(9).uniforms(2 * 48, 0, 1);
      const kept = x.slice();
      const y = await logits(x, 2);
      expect(maxError(y, kept, 48, IMAGENET, (i) => Math.floor(i / 16))).toBeLessThan(1e-5);
      expect(x).toEqual(kept);
      const plain = await runner.logitsFunction([3, 4, 4])(x, 2);
      expect(Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength)).toEqual(Buffer.from(x.buffer));
    } finally {
      await runner.release();
    }
  });

  test("runTriggerCheck hands the probe set's normalisation to the logits function", async () => {
    const rng = new Rng(11);
    const bytes = writeSequentialModel({
      inputShape: ['N', 3, 8, 8],
      layers: [conv(rng, 3, 4, 3), { kind: 'relu' }, { kind: 'flatten' }, dense(rng, 4 * 6 * 6, 10)],
    });
    const model = parseModel(bytes, 'cnn3.onnx');
    const probes = generateProbes(model.inputs, { count: 16, normalize: IMAGENET });
    const runner = await ModelRunner.open(model, { threads: 1 });
    // wrap (not mock) the runner's methods: the real session still runs, and what it is handed is recorded
    const seen: unknown[] = [];
    const feeds: unknown[] = [];
    const logitsFunction = runner.logitsFunction.bind(runner);
    const run = runner.run.bind(runner);
    runner.logitsFunction = (shape, opts) => {
      seen.push(opts?.normalize);
      return logitsFunction(shape, opts);
    };
    runner.run = (feed, opts) => {
      feeds.push(feed.inputs[0].normalize);
      return run(feed, opts);
    };
    try {
      const r = await runTriggerCheck(model, probes, 10, { runner, threads: 1 });
      expect(r).not.toBeNull();
      expect(r!.forwardPasses).toBeGreaterThan(0);
      expect(seen).toEqual([probes.inputs[0].normalize]);
      // every batch of mined and stamped inputs carries the normalisation
      expect(feeds.length).toBeGreaterThan(0);
      for (const f of feeds) expect(f).toEqual(probes.inputs[0].normalize);
    } finally {
      await runner.release();
    }
  });
});
