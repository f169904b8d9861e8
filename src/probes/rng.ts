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

/** splitmix32's output mix: a well-mixed uint32 of any 32-bit word (also a stateless per-index hash). */
export function mix32(word: number): number {
  let z = word | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** splitmix32: spreads one 32-bit seed word into well-mixed state words. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  return mix32(state.s);
}

export class Rng {
  /**
   * xoshiro128** state a, b, c, d as int32 bit patterns. A typed array, not four number fields: values above
   * 2^31 do not fit V8's small integers, so plain fields were boxed and every draw allocated (measured: the
   * probe set of the speed benchmark spent half its time in the allocator and the garbage collector).
   */
  private readonly s = new Int32Array(4);
  /** The second Box-Muller value of the last pair, and whether it is still unused (no boxed number|null). */
  private readonly spare = new Float64Array(1);
  private hasSpare = false;

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
    const x = this.s;
    x[0] = splitmix32(st);
    x[1] = splitmix32(st);
    x[2] = splitmix32(st) ^ hi;
    x[3] = splitmix32(st);
    if ((x[0] | x[1] | x[2] | x[3]) === 0) x[3] = 1; // the all-zero state is a fixed point
  }

  /** A generator with an explicit xoshiro128** state (for checking against the reference test vectors). */
  static fromState(a: number, b: number, c: number, d: number): Rng {
    const r = new Rng(0);
    r.s[0] = a;
    r.s[1] = b;
    r.s[2] = c;
    r.s[3] = d;
    return r;
  }

  /** Next uint32 (xoshiro128**). */
  nextUint32(): number {
    const x = this.s;
    const a = x[0];
    const b = x[1];
    const m = Math.imul(b, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = b << 9;
    const c = x[2] ^ a;
    const d = x[3] ^ b;
    x[1] = b ^ c;
    x[0] = a ^ d;
    x[2] = c ^ t;
    x[3] = (d << 11) | (d >>> 21);
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
    if (this.hasSpare) {
      this.hasSpare = false;
      return mean + std * this.spare[0];
    }
    const u1 = 1 - this.next(); // (0, 1]: log never sees 0
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare[0] = r * Math.sin(theta);
    this.hasSpare = true;
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
