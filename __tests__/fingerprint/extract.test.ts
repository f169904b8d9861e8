/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * fingerprintModel on real models through real ORT: blocks and their sizes, the auto layer rule, determinism,
 * permutation invariance of the hidden-layer views, the weight-outlier self-check, and the file format.
 */
import { cpuMsSince } from '../helpers/cpu-time.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fingerprintModel, autoLayers } from '../../src/fingerprint/extract.js';
import {
  decodeFingerprint,
  encodeFingerprint,
  readFingerprint,
  writeFingerprint,
} from '../../src/fingerprint/format.js';
import { gramBlock, sortedBlock, softmaxStats } from '../../src/fingerprint/representations.js';
import { robustZ, topSingularValues } from '../../src/fingerprint/weights.js';
import { parseModel } from '../../src/model/read.js';
import { writeSequentialModel } from '../../src/model/write.js';
import { InputError } from '../../src/errors.js';
import { ModelRunner } from '../../src/model/session.js';
import type { OnnxModel } from '../../src/model/types.js';
import { DEFAULT_TRIGGER_BUDGET } from '../../src/selfcheck/trigger-probe.js';
import { SWEEP_INPUTS, sweepPositions } from '../../src/selfcheck/sweep.js';
import { imageGeometry } from '../../src/selfcheck/triggers.js';
import {
  buildCnn,
  buildMlp,
  buildPytorchStyle,
  buildTokenModel,
  buildTwoInput,
  dense,
  mlpLayers,
} from '../fixtures/models.js';
import { Rng } from '../../src/probes/rng.js';

/** Most a small model's fingerprint may cost, in CPU time, in multiples of plain ORT inference of its passes. */
const FINGERPRINT_PER_RAW_INFERENCE = 10;

/** CPU time (ms) of `passes` forward passes of a [N, 1, 14, 14] model through plain ONNX Runtime, session included. */
async function rawInferenceMs(model: OnnxModel, passes: number): Promise<number> {
  const c0 = process.cpuUsage();
  const runner = await ModelRunner.open(model);
  const run = runner.logitsFunction([1, 14, 14]);
  const chunk = 1024;
  const data = Float32Array.from({ length: chunk * 196 }, (_, i) => (i % 97) / 97);
  for (let left = passes; left > 0; left -= chunk) {
    const n = Math.min(chunk, left);
    await run(data.subarray(0, n * 196), n);
  }
  await runner.release();
  return cpuMsSince(c0);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mfp-fp-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fingerprintModel', () => {
  test('a CNN: logits, softmax stats, auto layers (last two activations before the head), weights', async () => {
    const model = parseModel(buildCnn(), 'cnn.onnx');
    expect(autoLayers(model)).toEqual(['/layers.5/Relu_output_0', '/layers.8/Relu_output_0']);
    const c0 = process.cpuUsage();
    const fp = await fingerprintModel(model, { probes: { count: 64, seed: 1 } });
    const ms = cpuMsSince(c0);
    // Quick: the work is bounded (trigger probing within its budget of passes) and costs a small multiple of
    // running those passes through plain ONNX Runtime in this process, in CPU time (ORT's threads do not
    // spin), so machine load cancels out: about 4-5x here, quiet or slowed six-fold (was: under 10 s of wall
    // time, which a loaded machine exceeds).
    const checks = fp.header.budget!.checks;
    expect(checks['trigger-probe'].passes).toBeLessThanOrEqual(DEFAULT_TRIGGER_BUDGET);
    const passes = Object.values(checks).reduce((a, c) => a + c.passes, 0);
    expect(ms).toBeLessThan(FINGERPRINT_PER_RAW_INFERENCE * (await rawInferenceMs(model, passes)));
    expect(fp.header.model.classes).toBe(10);
    expect(fp.header.model.signature).toBe('input:float32[N,1,14,14]->logits:float32[N,10]');
    expect(fp.header.layers).toEqual(['/layers.5/Relu_output_0', '/layers.8/Relu_output_0']);
    expect(fp.header.probes.count).toBe(64);
    const sizes = Object.fromEntries(Object.entries(fp.blocks).map(([k, v]) => [k, v.length]));
    expect(sizes).toEqual({
      logits: 640,
      'softmax-stats': 30,
      'gram:/layers.5/Relu_output_0': 2080,
      'sorted:/layers.5/Relu_output_0': 64 * 16,
      'raw:/layers.5/Relu_output_0': 64 * 200,
      'gram:/layers.8/Relu_output_0': 2080,
      'sorted:/layers.8/Relu_output_0': 64 * 16,
      'raw:/layers.8/Relu_output_0': 64 * 16,
      'weights:final': 70,
      'weights:layers': 12,
      // reference-free trigger probing: per class, gain and flip curves of four trigger families
      trigger: 8 * 10,
      // the same per strength tier: (4 patch sizes + 3 pixel counts + 3 blends + 2 warps) x 10, gains and flips
      'trigger-tiers': 2 * 12 * 10,
      // the patch map: every solid patch position of the sweep x class, measured on the mined base
      'trigger-map': sweepPositions(imageGeometry([1, 14, 14])) * 10,
    });
    // no samples: the trigger check mined its base inputs per model (src/selfcheck/mine-base.ts)
    expect(fp.selfChecks.trigger.basis).toBe('mined');
    // a map of shares (of the mined inputs not already in the class) and some patch moves some of them
    const map = fp.blocks['trigger-map'];
    for (const v of map) expect(v >= 0 && v <= 1).toBe(true);
    expect(map.some((v) => v > 0)).toBe(true);
    // measured on more than the sweep's SWEEP_INPUTS (8) inputs: some share is no fraction with denominator <= 8
    const fromSweep = (v: number) =>
      Array.from({ length: SWEEP_INPUTS }, (_, d) => d + 1).some(
        (d) => Math.abs(v * d - Math.round(v * d)) < 1e-4,
      );
    expect(map.some((v) => !fromSweep(v))).toBe(true);
    expect(fp.selfChecks.trigger.targetClass).toBeGreaterThanOrEqual(0);
    for (const v of Object.values(fp.blocks)) for (const x of v) expect(Number.isFinite(x)).toBe(true);
    // argmax shares sum to 1, mean probabilities sum to 1
    const ss = fp.blocks['softmax-stats'];
    expect(ss.slice(0, 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(ss.slice(10, 20).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(fp.selfChecks['weight-outlier'].targetClass).toBeGreaterThanOrEqual(0);
  });

  test('the same model and probes give the same blocks; another model gives different ones', async () => {
    const a = await fingerprintModel(parseModel(buildMlp(1), 'a.onnx'), { probes: { count: 16, seed: 2 } });
    const b = await fingerprintModel(parseModel(buildMlp(1), 'b.onnx'), { probes: { count: 16, seed: 2 } });
    const c = await fingerprintModel(parseModel(buildMlp(2), 'c.onnx'), { probes: { count: 16, seed: 2 } });
    expect(a.header.probes.hash).toBe(c.header.probes.hash);
    for (const k of Object.keys(a.blocks)) expect(Array.from(b.blocks[k])).toEqual(Array.from(a.blocks[k]));
    expect(Array.from(c.blocks.logits)).not.toEqual(Array.from(a.blocks.logits));
  });

  test('permuting hidden units leaves gram and sorted blocks unchanged (raw blocks change)', async () => {
    const layers = mlpLayers(3);
    const permuted = mlpLayers(3);
    // Permute the 12 hidden units of the first layer: rows of W1/b1 and columns of W2.
    const perm = [5, 2, 11, 0, 7, 1, 9, 3, 10, 4, 8, 6];
    const [l0, , l2] = layers;
    const [p0, , p2] = permuted;
    if (l0.kind !== 'dense' || l2.kind !== 'dense' || p0.kind !== 'dense' || p2.kind !== 'dense')
      throw new Error();
    perm.forEach((src, dst) => {
      p0.weight.set(l0.weight.subarray(src * 16, src * 16 + 16), dst * 16);
      p0.bias![dst] = l0.bias![src];
      for (let o = 0; o < 8; o++) p2.weight[o * 12 + dst] = l2.weight[o * 12 + src];
    });
    const opts = { probes: { count: 16, seed: 4 }, layers: ['/layers.1/Relu_output_0'] };
    const a = await fingerprintModel(
      parseModel(writeSequentialModel({ inputShape: ['N', 16], layers }), 'a'),
      opts,
    );
    const b = await fingerprintModel(
      parseModel(writeSequentialModel({ inputShape: ['N', 16], layers: permuted }), 'b'),
      opts,
    );
    const close = (x: Float32Array, y: Float32Array) => x.every((v, i) => Math.abs(v - y[i]) < 1e-5);
    expect(close(a.blocks.logits, b.blocks.logits)).toBe(true);
    expect(close(a.blocks['gram:/layers.1/Relu_output_0'], b.blocks['gram:/layers.1/Relu_output_0'])).toBe(
      true,
    );
    expect(
      close(a.blocks['sorted:/layers.1/Relu_output_0'], b.blocks['sorted:/layers.1/Relu_output_0']),
    ).toBe(true);
    expect(close(a.blocks['raw:/layers.1/Relu_output_0'], b.blocks['raw:/layers.1/Relu_output_0'])).toBe(
      false,
    );
  });

  test('a boosted final-layer row is flagged by the weight-outlier self-check with its class', async () => {
    const layers = mlpLayers(5);
    const head = layers[4];
    if (head.kind !== 'dense') throw new Error();
    for (let f = 0; f < 8; f++) head.weight[2 * 8 + f] *= 4; // class 2's row grows, as a backdoor target's might
    const fp = await fingerprintModel(
      parseModel(writeSequentialModel({ inputShape: ['N', 16], layers }), 'bd.onnx'),
      {
        probes: { count: 8 },
      },
    );
    const check = fp.selfChecks['weight-outlier'];
    expect(check.targetClass).toBe(2);
    expect(check.evidence?.[0].cls).toBe(2);
    expect(check.score).toBeCloseTo(Math.max(0, -Math.log10(check.pValue as number)), 10);
    // the class-aligned block keeps the row norms' robust z
    expect(fp.blocks['weights:final'][2 * 6 + 5]).toBeGreaterThan(3);
    // Four classes cannot make a small p (the largest robust z of 4 normal draws has a very heavy tail);
    // with ten, the same boost is significant against the model's own classes.
    expect(check.pValue).toBeGreaterThan(0.01);
    const rng = new Rng(11);
    const wide = [...layers.slice(0, 4), dense(rng, 8, 10)];
    const head10 = wide[4];
    if (head10.kind !== 'dense') throw new Error();
    for (let f = 0; f < 8; f++) head10.weight[6 * 8 + f] = 4 * Math.abs(head10.weight[6 * 8 + f]);
    const fp10 = await fingerprintModel(
      parseModel(writeSequentialModel({ inputShape: ['N', 16], layers: wide }), 'bd10.onnx'),
      { probes: { count: 8 }, trigger: false },
    );
    expect(fp10.selfChecks['weight-outlier'].targetClass).toBe(6);
    expect(fp10.selfChecks['weight-outlier'].pValue).toBeLessThan(0.01);
  });

  test('two-input, token-id and PyTorch-style models fingerprint', async () => {
    const two = await fingerprintModel(parseModel(buildTwoInput(), 'two.onnx'), { probes: { count: 8 } });
    expect(two.header.layers).toEqual(['/Relu_output_0']);
    expect(two.blocks.logits.length).toBe(24);
    const tok = await fingerprintModel(parseModel(buildTokenModel(), 'tok.onnx'), { probes: { count: 8 } });
    expect(tok.header.model.signature).toMatch(/^input_ids:int64\[N,6\]/);
    expect(tok.blocks['weights:final'].length).toBe(35);
    const torch = await fingerprintModel(parseModel(buildPytorchStyle(), 'torch.onnx'), {
      probes: { count: 8 },
    });
    expect(torch.header.layers).toEqual(['/relu1/Relu_output_0']);
    expect(torch.blocks['weights:layers'].length).toBe(6);
  });

  test('an unknown layer name is refused', async () => {
    await expect(
      fingerprintModel(parseModel(buildMlp(), 'm.onnx'), { probes: { count: 4 }, layers: ['nope'] }),
    ).rejects.toMatchObject({
      code: 'bad-argument',
      message: expect.stringMatching(/no layer named "nope"/),
    });
  });

  test('NaN weights are refused as non-finite-output', async () => {
    await expect(
      fingerprintModel(parseModel(buildMlp(1, { nanWeights: true }), 'nan.onnx'), { probes: { count: 4 } }),
    ).rejects.toMatchObject({ code: 'non-finite-output' });
  });
});

describe('representations', () => {
  test('gram blocks are scale invariant, unit norm and centred', () => {
    const x = Float32Array.from([1, 2, 0, 3, 1, 1, 0, 0, 2, 5, 1, 0]);
    const g = gramBlock(x, 4, 3);
    const g2 = gramBlock(
      x.map((v) => v * 10 + 7),
      4,
      3,
    );
    g.forEach((v, i) => expect(v).toBeCloseTo(g2[i], 5));
    // Frobenius norm of the full matrix from its upper triangle: diagonal once, off-diagonal twice.
    let sq = 0;
    let p = 0;
    for (let a = 0; a < 4; a++) for (let b = a; b < 4; b++) sq += (a === b ? 1 : 2) * g[p++] ** 2;
    expect(sq).toBeCloseTo(1, 5);
  });

  test('sorted quantiles and softmax stats', () => {
    const q = sortedBlock(Float32Array.from([3, 1, 2, 0, 4]), 1, 5, 5);
    expect(Array.from(q)).toEqual([0, 1, 2, 3, 4]);
    const s = softmaxStats(Float32Array.from([2, 0, 0, 1]), 2, 2);
    expect(Array.from(s.slice(2, 4))).toEqual([0.5, 0.5]); // each class wins once
    expect(s[4]).toBeCloseTo((2 + -1) / 2, 5); // class 0 margins: +2, -1
  });

  test('robust z and singular values', () => {
    const z = robustZ([1, 1.1, 0.9, 1, 5]);
    expect(z[4]).toBeGreaterThan(10);
    const sv = topSingularValues(Float64Array.from([3, 0, 0, 0, 2, 0]), 2, 3);
    expect(sv[0]).toBeCloseTo(3, 4);
    expect(sv[1]).toBeCloseTo(2, 4);
    // A large matrix takes the power-iteration path: diagonal 5, 3, then 0.5s.
    const rows = 300;
    const cols = 320;
    const big = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) big[i * cols + i] = i === 0 ? 5 : i === 1 ? 3 : 0.5;
    const [b1, b2] = topSingularValues(big, rows, cols);
    expect(b1).toBeCloseTo(5, 3);
    expect(b2).toBeCloseTo(3, 2);
  });
});

describe('fingerprint file format', () => {
  test('round trips blocks, header and self-checks (NaN included)', async () => {
    const fp = await fingerprintModel(parseModel(buildMlp(), 'm.onnx'), { probes: { count: 8 } });
    fp.selfChecks.odd = { score: Number.NaN, detail: 'nan' };
    const p = path.join(dir, 'm.mfp');
    await writeFingerprint(p, fp);
    const back = await readFingerprint(p);
    expect(back.header).toEqual(fp.header);
    expect(Object.keys(back.blocks)).toEqual(Object.keys(fp.blocks));
    for (const k of Object.keys(fp.blocks))
      expect(Array.from(back.blocks[k])).toEqual(Array.from(fp.blocks[k]));
    expect(back.selfChecks['weight-outlier']).toEqual(fp.selfChecks['weight-outlier']);
    expect(back.selfChecks.odd.score).toBeNaN();
    const bytes = readFileSync(p);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('MFP1');
    expect(Buffer.from(encodeFingerprint(back)).equals(bytes)).toBe(true);
  });

  test('corrupt files are refused with the file named', async () => {
    const fp = await fingerprintModel(parseModel(buildMlp(), 'm.onnx'), { probes: { count: 4 } });
    const good = encodeFingerprint(fp);
    const cases: [string, Uint8Array, RegExp][] = [
      ['short', good.subarray(0, 5), /too short/],
      ['magic', Uint8Array.from([0x58, ...good.subarray(1)]), /bad magic/],
      ['cut', good.subarray(0, good.length - 8), /outside the data|data section/],
      [
        'header',
        Uint8Array.from([...good.subarray(0, 4), 255, 255, 255, 0, ...good.subarray(8)]),
        /header length/,
      ],
    ];
    for (const [name, bytes, msg] of cases) {
      const p = path.join(dir, `${name}.mfp`);
      writeFileSync(p, bytes);
      const e = await readFingerprint(p).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).message).toContain(p);
      expect((e as InputError).message).toMatch(msg);
    }
    const future = JSON.parse(JSON.stringify(fp.header)) as typeof fp.header;
    future.formatVersion = 99;
    expect(() => decodeFingerprint(encodeFingerprint({ ...fp, header: future }), 'f.mfp')).toThrow(
      /version 99/,
    );
  });
});

describe('fingerprintModel with the blocks a scan reads', () => {
  test('skips layer capture and layer weight statistics nothing reads; what is read is unchanged', async () => {
    const model = parseModel(buildCnn(), 'cnn.onnx');
    const probes = { count: 16, seed: 3 };
    const full = await fingerprintModel(model, { probes, trigger: false });
    expect(full.header.layers.length).toBeGreaterThan(0);
    expect(Object.keys(full.blocks)).toEqual(expect.arrayContaining(['weights:layers']));
    const lean = await fingerprintModel(model, {
      probes,
      trigger: false,
      blocks: ['logits', 'softmax-stats', 'self:weight-outlier'],
    });
    expect(lean.header.layers).toEqual([]);
    expect(Object.keys(lean.blocks).sort()).toEqual(['logits', 'softmax-stats', 'weights:final']);
    expect(lean.blocks.logits).toEqual(full.blocks.logits);
    expect(lean.blocks['softmax-stats']).toEqual(full.blocks['softmax-stats']);
    expect(lean.selfChecks).toEqual(full.selfChecks);
    // a reader of a layer block gets the layers captured as before
    const layered = await fingerprintModel(model, { probes, trigger: false, blocks: ['gram:L-1'] });
    expect(layered.header.layers).toEqual(full.header.layers);
    const g = `gram:${full.header.layers[full.header.layers.length - 1]}`;
    expect(layered.blocks[g]).toEqual(full.blocks[g]);
    expect(layered.blocks['weights:layers']).toBeUndefined();
  });

  test('without captured layers, trigger probing shares the probe session and finds the same', async () => {
    const model = parseModel(buildMlp(), 'mlp.onnx');
    const probes = { count: 32, seed: 5 };
    const full = await fingerprintModel(model, { probes });
    const lean = await fingerprintModel(model, { probes, blocks: ['logits', 'trigger', 'self:'] });
    expect(lean.header.layers).toEqual([]);
    expect(full.selfChecks.trigger).toBeDefined();
    expect(lean.blocks.trigger).toEqual(full.blocks.trigger);
    expect(lean.blocks['trigger-tiers']).toEqual(full.blocks['trigger-tiers']);
    expect(lean.selfChecks).toEqual(full.selfChecks);
    expect(lean.blocks.logits).toEqual(full.blocks.logits);
  });
});
