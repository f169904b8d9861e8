/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * The fast gramBlock / sortedBlock (src/fingerprint/representations.ts) against the plain definitions they
 * replace: column-wise means and one dot product at a time for the Gram block, a full sort for the
 * quantiles. Bit-identical on every kind of activation a layer produces (dense, ReLU zeros, ties, -0 mixed
 * with +0, constant rows), and the radix select's worst case (every value in one bucket) stays fast. Gram
 * blocks from GRAM_ORT_MIN_WORK on are ONNX Runtime's float32 GEMM: those agree with the float64 definition
 * to 1e-5 (absolute, on the normalised values, which lie in [-1, 1]) instead of bit for bit.
 */
import {
  GRAM_ORT_MIN_WORK,
  gramBlock,
  sortedBlock,
  SORTED_QUANTILES,
} from '../../src/fingerprint/representations.js';
import { Rng } from '../../src/probes/rng.js';

function plainGram(x: Float32Array, n: number, f: number): Float32Array {
  const centred = new Float64Array(n * f);
  for (let j = 0; j < f; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += x[i * f + j];
    m /= n;
    for (let i = 0; i < n; i++) centred[i * f + j] = x[i * f + j] - m;
  }
  const k = new Float64Array(n * n);
  for (let a = 0; a < n; a++)
    for (let b = a; b < n; b++) {
      let s = 0;
      for (let j = 0; j < f; j++) s += centred[a * f + j] * centred[b * f + j];
      k[a * n + b] = s;
      k[b * n + a] = s;
    }
  const norm = Math.sqrt(k.reduce((acc, v) => acc + v * v, 0));
  const out = new Float32Array((n * (n + 1)) / 2);
  let p = 0;
  for (let a = 0; a < n; a++) for (let b = a; b < n; b++) out[p++] = norm > 0 ? k[a * n + b] / norm : 0;
  return out;
}

function plainSorted(x: Float32Array, n: number, f: number, q = SORTED_QUANTILES): Float32Array {
  const out = new Float32Array(n * q);
  for (let i = 0; i < n; i++) {
    const s = x.slice(i * f, (i + 1) * f).sort();
    for (let k = 0; k < q; k++) {
      const pos = (k / (q - 1)) * (f - 1);
      const lo = Math.floor(pos);
      const hi = Math.min(f - 1, lo + 1);
      out[i * q + k] = s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }
  }
  return out;
}

const bits = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

function activations(kind: string, n: number, f: number, rng: Rng): Float32Array {
  const x = new Float32Array(n * f);
  for (let i = 0; i < x.length; i++) {
    const v = rng.normal();
    if (kind === 'dense') x[i] = v;
    else if (kind === 'relu') x[i] = Math.max(0, v);
    else if (kind === 'ties') x[i] = Math.round(v * 2);
    else if (kind === 'signed-zeros') x[i] = v < 0 ? -0 : v < 0.5 ? 0 : v;
    else if (kind === 'constant') x[i] = 1.5;
    else if (kind === 'sorted')
      x[i] = i % f; // ascending rows
    else x[i] = f - (i % f); // descending rows
  }
  return x;
}

describe('representation blocks equal their plain definitions bit for bit', () => {
  const rng = new Rng(21);
  const kinds = ['dense', 'relu', 'ties', 'signed-zeros', 'constant', 'sorted', 'reversed'];
  for (const [n, f] of [
    [1, 1],
    [3, 2],
    [5, 17],
    [9, 64],
    [16, 1000],
    [32, 4096],
  ])
    test(`${n} probes x ${f} features`, () => {
      expect(n * n * f).toBeLessThan(GRAM_ORT_MIN_WORK); // the exact JavaScript path
      for (const kind of kinds) {
        const x = activations(kind, n, f, rng);
        expect(bits(gramBlock(x, n, f)).equals(bits(plainGram(x, n, f)))).toBe(true);
        expect(bits(sortedBlock(x, n, f)).equals(bits(plainSorted(x, n, f)))).toBe(true);
        expect(bits(sortedBlock(x, n, f, 5)).equals(bits(plainSorted(x, n, f, 5)))).toBe(true);
      }
    });

  test('large Gram blocks (ONNX Runtime float32 GEMM) agree with the float64 definition to 1e-5', () => {
    for (const [n, f] of [
      [64, 4096],
      [48, 9000],
    ]) {
      expect(n * n * f).toBeGreaterThanOrEqual(GRAM_ORT_MIN_WORK);
      for (const kind of kinds) {
        const x = activations(kind, n, f, rng);
        // an offset common to every probe: the centring (float64, before the float32 product) removes it
        for (let i = 0; i < x.length; i++) x[i] += 100 * ((i % f) % 7);
        const got = gramBlock(x, n, f);
        const want = plainGram(x, n, f);
        expect(got.length).toBe(want.length);
        let err = 0;
        for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
        expect(err).toBeLessThan(1e-5);
        // random rows give a real block (the diagonal carries most of it); rows equal across probes
        // (constant, sorted, reversed) centre to exactly zero, in float32 as in float64
        if (['dense', 'relu', 'ties', 'signed-zeros'].includes(kind)) expect(got[0]).toBeGreaterThan(1e-3);
        else expect(got.every((v) => v === 0)).toBe(true);
      }
    }
  });

  test('a row holding NaN is sorted as before (NaN last)', () => {
    const x = Float32Array.from([3, Number.NaN, 1, 2, 0, -1, 5, 4]);
    expect(bits(sortedBlock(x, 1, 8)).equals(bits(plainSorted(x, 1, 8)))).toBe(true);
    // a NaN with the sign bit set (its key would sort first, not last)
    new Uint32Array(x.buffer)[1] = 0xffc00000;
    expect(bits(sortedBlock(x, 1, 8)).equals(bits(plainSorted(x, 1, 8)))).toBe(true);
  });

  test('input built against selection (a sawtooth; values packed in few buckets) stays fast and exact', () => {
    // an organ-pipe / sawtooth mix, the classic median-of-three killer
    const f = 1 << 15;
    const x = new Float32Array(f);
    for (let i = 0; i < f; i++) x[i] = i % 2 ? i : f - i;
    const q = sortedBlock(x, 1, f);
    expect(bits(q).equals(bits(plainSorted(x, 1, f)))).toBe(true);
    // fast: about as fast as on random values of the same size, timed in this process (the fastest of three
    // each, so machine load cancels out); a quadratic selection would take seconds
    const random = Float32Array.from(new Rng(3).normals(f));
    const fastest = (v: Float32Array) =>
      Math.min(
        ...[0, 1, 2].map(() => {
          const t = performance.now();
          sortedBlock(v, 1, f);
          return performance.now() - t;
        }),
      );
    expect(fastest(x)).toBeLessThan(20 * fastest(random) + 20);
    // every value in one radix bucket: the selection falls back to one sort of that bucket
    const packed = new Float32Array(f);
    for (let i = 0; i < f; i++) packed[i] = 1 + ((i * 7919) % f) / (f * 64);
    expect(bits(sortedBlock(packed, 1, f)).equals(bits(plainSorted(packed, 1, f)))).toBe(true);
  });
});
