/**
 * The seeded random generator behind every probe and test fixture: xoshiro128** (Blackman & Vigna, 2018),
 * seeded through splitmix32, with Box-Muller normals. Only 32-bit integer operations (Math.imul, shifts,
 * >>> 0), so the stream is bit-identical on every platform and Node version; Math.random is never used.
 * Normals use Math.log/sqrt/cos: V8 implements log/cos with its fdlibm port (the same on every OS) and sqrt is
 * IEEE-exact, and probes are stored as float32 which hides any last-ulp difference anyway.
 *
 * Why hand-written: the probe set must be reproducible forever (a baseline built today must match a model
 * scanned next year); a 30-line documented generator we own is safer than a dependency that may change.
 */

/** splitmix32: spreads one 32-bit seed word into well-mixed state words. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  /**
   * @param seed any safe integer (both 32-bit halves are used) or a string (hashed with FNV-1a);
   *   the same seed gives the same stream everywhere.
   */
  constructor(seed: number | string) {
    let lo: number;
    let hi: number;
    if (typeof seed === 'string') {
      let h = 0x811c9dc5;
      for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
      lo = h >>> 0;
      hi = seed.length >>> 0;
    } else {
      if (!Number.isSafeInteger(seed)) throw new Error(`Rng: seed must be a safe integer, got ${seed}`);
      const s = Math.abs(seed);
      lo = (s % 0x100000000) >>> 0;
      hi = (Math.floor(s / 0x100000000) ^ (seed < 0 ? 0x80000000 : 0)) >>> 0;
    }
    const st = { s: lo ^ Math.imul(hi, 0x27d4eb2d) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st) ^ hi;
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1; // the all-zero state is a fixed point
  }

  /** A generator with an explicit xoshiro128** state (for checking against the reference test vectors). */
  static fromState(a: number, b: number, c: number, d: number): Rng {
    const r = new Rng(0);
    r.a = a >>> 0;
    r.b = b >>> 0;
    r.c = c >>> 0;
    r.d = d >>> 0;
    return r;
  }

  /** Next uint32 (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.b << 9) >>> 0;
    this.c = (this.c ^ this.a) >>> 0;
    this.d = (this.d ^ this.b) >>> 0;
    this.b = (this.b ^ this.c) >>> 0;
    this.a = (this.a ^ this.d) >>> 0;
    this.c = (this.c ^ t) >>> 0;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n), without modulo bias (rejection sampling). */
  int(n: number): number {
    if (!(n >= 1) || n > 0x100000000) throw new Error(`Rng.int: bad range ${n}`);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    const u1 = 1 - this.next(); // (0, 1]: log never sees 0
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spareNormal = r * Math.sin(theta);
    return mean + std * r * Math.cos(theta);
  }

  /** A Float32Array of n normals. */
  normals(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** A Float32Array of n uniforms in [lo, hi). */
  uniforms(n: number, lo = 0, hi = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(lo, hi);
    return out;
  }
}
