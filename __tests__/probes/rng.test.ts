/** The seeded generator: the xoshiro128** reference sequence, fixed streams per seed, sane distributions. */
import { Rng } from '../../src/probes/rng.js';

describe('Rng', () => {
  test('matches the xoshiro128** reference outputs for state {1, 2, 3, 4}', () => {
    const r = Rng.fromState(1, 2, 3, 4);
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([
      11520, 0, 5927040, 70819200,
    ]);
  });

  test('a seed gives the same stream every time (golden values)', () => {
    const r = new Rng(42);
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([
      2837322924, 544945897, 479756282, 3500138142,
    ]);
    const n = new Rng(42).normals(2);
    expect(Array.from(n)).toEqual([Math.fround(1.1226592063903809), Math.fround(0.9491474628448486)]);
  });

  test('different seeds (including large and negative ones) give different streams', () => {
    const first = (s: number | string) => new Rng(s).nextUint32();
    const seen = new Set([0, 1, 2, 2 ** 40, -1, 'a', 'b'].map(first));
    expect(seen.size).toBe(7);
    expect(() => new Rng(0.5)).toThrow(/safe integer/);
  });

  test('uniforms, integers and normals have the right ranges and moments', () => {
    const r = new Rng(9);
    const n = 20000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      sum += z;
      sq += z * z;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.05);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 7000; i++) counts[r.int(7)]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
    for (let i = 0; i < 1000; i++) {
      const u = r.uniform(-2, 3);
      expect(u).toBeGreaterThanOrEqual(-2);
      expect(u).toBeLessThan(3);
    }
  });
});
