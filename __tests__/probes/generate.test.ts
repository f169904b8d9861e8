/**
 * Probe generation: golden sha256 of the probe bytes and of the probe-set hash (a regression check: a change
 * here silently invalidates every baseline), kinds and ranges, shapes and symbolic dims, token ids, samples.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { InputError } from '../../src/errors.js';
import { MAX_TRIGGER_SAMPLES } from '../../src/limits.js';
import { allocateKinds, generateProbes } from '../../src/probes/generate.js';
import { parseNpy } from '../../src/probes/samples.js';
import type { ProbeData } from '../../src/probes/types.js';

const IMAGE = [{ name: 'input', dtype: 'float32' as const, shape: ['N', 1, 14, 14] }];
const sha = (d: ProbeData) =>
  createHash('sha256')
    .update(Buffer.from(d.buffer, d.byteOffset, d.byteLength))
    .digest('hex');

function npy(descr: string, shape: number[], body: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 64) header += ' ';
  header += '\n';
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(body, 10 + header.length);
  return out;
}

describe('generateProbes', () => {
  test('the default probe set is byte-identical to the golden one', () => {
    const ps = generateProbes(IMAGE);
    expect(ps.count).toBe(64);
    expect(ps.inputs[0].sampleShape).toEqual([1, 14, 14]);
    expect(ps.hash).toBe('42946e9c0dbe10a700d6330f44e43911cb7f37a80b84bf720f7025dc15891434');
    expect(sha(ps.inputs[0].data)).toBe('902ba741b225ec23b4a24df6277d6e1b39bf0325993a20ed62510790a19541d3');
  });

  test('token-id probes are byte-identical to the golden ones and lie in [0, vocab)', () => {
    const ps = generateProbes([{ name: 'input_ids', dtype: 'int64', shape: ['batch', 6] }], {
      count: 16,
      seed: 7,
      vocab: 20,
    });
    expect(ps.hash).toBe('4bd7601a2fbb9803c796f856d3e6a1e33f56825f8186b354809dfd73b884ba52');
    expect(sha(ps.inputs[0].data)).toBe('6d440984783665a02153965255f8511bc969c3c14fd9482646c18d4786e3ba46');
    for (const v of ps.inputs[0].data as BigInt64Array) {
      expect(v >= 0n && v < 20n).toBe(true);
    }
  });

  test('the same spec gives the same probes; a different seed, count or range changes data and hash', () => {
    const a = generateProbes(IMAGE, { seed: 3, count: 8 });
    const b = generateProbes(IMAGE, { seed: 3, count: 8 });
    expect(sha(a.inputs[0].data)).toBe(sha(b.inputs[0].data));
    expect(a.hash).toBe(b.hash);
    for (const other of [
      { seed: 4, count: 8 },
      { seed: 3, count: 9 },
      { seed: 3, count: 8, range: [-1, 1] as [number, number] },
    ]) {
      const c = generateProbes(IMAGE, other);
      expect(c.hash).not.toBe(a.hash);
      expect(sha(c.inputs[0].data)).not.toBe(sha(a.inputs[0].data));
    }
  });

  test('a repeated request returns an independent copy: changing one probe set never reaches the next', () => {
    const a = generateProbes(IMAGE, { seed: 5, count: 8 });
    const golden = sha(a.inputs[0].data);
    (a.inputs[0].data as Float32Array).fill(42);
    a.probeKinds[0] = 'samples';
    a.inputs[0].sampleShape[0] = 99;
    const b = generateProbes(IMAGE, { seed: 5, count: 8 });
    expect(sha(b.inputs[0].data)).toBe(golden);
    expect(b.probeKinds[0]).not.toBe('samples');
    expect(b.inputs[0].sampleShape[0]).not.toBe(99);
    expect(b.inputs[0].data).not.toBe(a.inputs[0].data);
  });

  test("'mixed' allocates the documented blend, in kind blocks", () => {
    expect(
      allocateKinds(
        [
          ['gaussian', 3],
          ['uniform', 2],
          ['edge', 1],
          ['pattern', 2],
        ],
        64,
      ).join(','),
    ).toBe(
      [
        ...Array(24).fill('gaussian'),
        ...Array(16).fill('uniform'),
        ...Array(8).fill('edge'),
        ...Array(16).fill('pattern'),
      ].join(','),
    );
    const ps = generateProbes(IMAGE, { count: 10 });
    expect(ps.probeKinds).toEqual(
      allocateKinds(
        [
          ['gaussian', 3],
          ['uniform', 2],
          ['edge', 1],
          ['pattern', 2],
        ],
        10,
      ),
    );
    expect(ps.kinds).toEqual(['gaussian', 'uniform', 'edge', 'pattern']);
  });

  test('uniform and gaussian probes stay in range; edge cases include zeros, mid-grey and out-of-range values', () => {
    const per = 196;
    const u = generateProbes(IMAGE, { kinds: ['uniform', 'gaussian'], count: 6, range: [-1, 1] }).inputs[0]
      .data as Float32Array;
    for (const v of u) expect(v >= -1 && v <= 1).toBe(true);
    const e = generateProbes(IMAGE, { kinds: ['edge'], count: 7, range: [0, 1] }).inputs[0]
      .data as Float32Array;
    const probe = (i: number) => Array.from(e.subarray(i * per, (i + 1) * per));
    expect(probe(0).every((v) => v === 0)).toBe(true);
    expect(probe(1).every((v) => v === 1)).toBe(true);
    expect(probe(2).every((v) => v === 0.5)).toBe(true);
    expect(probe(3)[0]).toBe(0); // horizontal gradient: first column lo, last column hi
    expect(probe(3)[13]).toBe(1);
    expect(probe(5).every((v) => v === 4)).toBe(true); // hi + 3 * width
    expect(probe(6).every((v) => v === -3)).toBe(true);
  });

  test('pattern probes are structured (a checkerboard alternates)', () => {
    const d = generateProbes(IMAGE, { kinds: ['pattern'], count: 4, seed: 1 }).inputs[0].data as Float32Array;
    const board = Array.from(d.subarray(0, 196));
    expect(new Set(board.map((v) => v > 0)).size).toBe(2);
    const stripes = Array.from(d.subarray(196, 392));
    expect(stripes.slice(0, 14).every((v) => v === stripes[0])).toBe(true); // a horizontal stripe: rows constant
    expect(new Set(stripes).size).toBeGreaterThan(1);
  });

  test('a symbolic non-batch dim needs a size, by dim name or input.axis', () => {
    const seq = [{ name: 'ids', dtype: 'int64' as const, shape: ['batch', 'sequence'] }];
    try {
      generateProbes(seq, { vocab: 10 }, { file: 'lm.onnx' });
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).code).toBe('symbolic-dim');
      expect((e as InputError).message).toMatch(/lm\.onnx.*"sequence".*--probe-dims sequence=/);
    }
    expect(generateProbes(seq, { vocab: 10, count: 2, dims: { sequence: 5 } }).inputs[0].sampleShape).toEqual(
      [5],
    );
    const unnamed = [{ name: 'x', dtype: 'float32' as const, shape: ['N', null] }];
    expect(generateProbes(unnamed, { count: 2, dims: { 'x.1': 3 } }).inputs[0].sampleShape).toEqual([3]);
  });

  test('integer inputs without a vocabulary and unsupported dtypes are refused', () => {
    expect(() => generateProbes([{ name: 'ids', dtype: 'int64', shape: ['N', 4] }], {})).toThrow(
      /vocabulary/,
    );
    expect(() => generateProbes([{ name: 's', dtype: 'string', shape: ['N', 1] }], {})).toThrow(
      /element type string/,
    );
    expect(() => generateProbes(IMAGE, { count: 0 })).toThrow(/probe count/);
    expect(() => generateProbes(IMAGE, { range: [1, 0] })).toThrow(/lo < hi/);
  });

  test('fixed and absent batch axes are recorded', () => {
    const ps = generateProbes(
      [
        { name: 'a', dtype: 'float32', shape: [1, 3] },
        { name: 'b', dtype: 'uint8', shape: [5] },
      ],
      { count: 3 },
    );
    expect(ps.inputs.map((i) => [i.batch, i.fixedBatch, i.sampleShape])).toEqual([
      ['fixed', 1, [3]],
      ['none', undefined, [5]],
    ]);
    expect(ps.inputs[1].data).toBeInstanceOf(Uint8Array);
    expect(Array.from(ps.inputs[1].data as Uint8Array).some((v) => v > 1)).toBe(true); // uint8 uses [0, 255]
  });
});

describe('probe samples', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mfp-samples-'));
    // A 2x2 PNG: white, black / black, white.
    const png = new PNG({ width: 2, height: 2 });
    png.data.set([255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 255]);
    writeFileSync(path.join(dir, 'a.png'), PNG.sync.write(png));
    const jpg = jpeg.encode({ data: Buffer.alloc(8 * 8 * 4, 128), width: 8, height: 8 }, 95);
    writeFileSync(path.join(dir, 'b.jpg'), jpg.data);
    const body = new Uint8Array(new Float32Array(16).fill(0.25).buffer);
    writeFileSync(path.join(dir, 'c.npy'), npy('<f4', [1, 4, 4], body));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('PNG, JPEG and .npy samples become probes of the input shape, scaled to the range', () => {
    const ps = generateProbes([{ name: 'x', dtype: 'float32', shape: ['N', 1, 4, 4] }], {
      kinds: ['samples'],
      count: 4,
      samplesDir: dir,
      range: [0, 1],
    });
    const d = ps.inputs[0].data as Float32Array;
    const png = Array.from(d.subarray(0, 16));
    expect(png[0]).toBeCloseTo(1, 5); // top-left white
    expect(png[15]).toBeCloseTo(1, 5); // bottom-right white
    expect(png[3]).toBeCloseTo(0, 5); // top-right black
    const jpg = Array.from(d.subarray(16, 32));
    for (const v of jpg) expect(v).toBeCloseTo(128 / 255, 1);
    expect(Array.from(d.subarray(32, 48)).every((v) => v === 0.25)).toBe(true);
    expect(Array.from(d.subarray(48, 64))).toEqual(png); // cycles through the samples
    const again = generateProbes([{ name: 'x', dtype: 'float32', shape: ['N', 1, 4, 4] }], {
      kinds: ['samples'],
      count: 4,
      samplesDir: dir,
    });
    expect(again.hash).toBe(ps.hash);
  });

  test('a sample folder changes the probe-set hash; bad .npy files are refused', () => {
    const base = generateProbes([{ name: 'x', dtype: 'float32', shape: ['N', 1, 4, 4] }], { count: 4 });
    const withSamples = generateProbes([{ name: 'x', dtype: 'float32', shape: ['N', 1, 4, 4] }], {
      count: 4,
      samplesDir: dir,
    });
    expect(withSamples.hash).not.toBe(base.hash);
    expect(withSamples.probeKinds.filter((k) => k === 'samples').length).toBe(2);
    expect(() => parseNpy(npy('<i2', [2], new Uint8Array(4)), 'x.npy')).toThrow(/dtype <i2/);
    expect(parseNpy(npy('|u1', [3], new Uint8Array([1, 2, 3])), 'u.npy').values).toEqual(
      Float32Array.from([1, 2, 3]),
    );
  });
  test('trigger probing gets all the samples, evenly spaced down to MAX_TRIGGER_SAMPLES', () => {
    const many = mkdtempSync(path.join(os.tmpdir(), 'mfp-many-'));
    try {
      // one .npy of MAX_TRIGGER_SAMPLES * 2 samples; sample k is filled with the value k
      const n = MAX_TRIGGER_SAMPLES * 2;
      const vals = new Float32Array(n * 4);
      for (let k = 0; k < n; k++) vals.fill(k, k * 4, (k + 1) * 4);
      writeFileSync(path.join(many, 's.npy'), npy('<f4', [n, 1, 2, 2], new Uint8Array(vals.buffer)));
      const ps = generateProbes([{ name: 'x', dtype: 'float32', shape: ['N', 1, 2, 2] }], {
        count: 8,
        samplesDir: many,
      });
      expect(ps.triggerSamples?.count).toBe(MAX_TRIGGER_SAMPLES);
      const firsts = Array.from({ length: MAX_TRIGGER_SAMPLES }, (_, k) => ps.triggerSamples?.data[k * 4]);
      expect(firsts).toEqual(Array.from({ length: MAX_TRIGGER_SAMPLES }, (_, k) => 2 * k));
      // fewer samples than the cap: all of them, in order; without a folder: none
      const few = generateProbes([{ name: 'x', dtype: 'float32', shape: ['N', 1, 4, 4] }], {
        count: 4,
        samplesDir: dir,
      });
      expect(few.triggerSamples?.count).toBe(3);
      expect(
        generateProbes([{ name: 'x', dtype: 'float32', shape: ['N', 1, 4, 4] }], { count: 4 }).triggerSamples,
      ).toBeUndefined();
    } finally {
      rmSync(many, { recursive: true, force: true });
    }
  });
});
