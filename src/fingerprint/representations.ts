/**
 * Derived feature blocks from captured tensors. Hidden units of independently trained models are permuted,
 * so hidden layers are summarised by permutation-invariant views; logits are class-aligned and kept as is.
 *   logits          probes x classes
 *   softmax-stats   per class: mean probability, argmax share, mean margin (z_c - max_{j != c} z_j); 3C values
 *   gram:<layer>    probe-by-probe linear-CKA Gram: centre each feature over the probes, K = X X^T,
 *                   K / ||K||_F, upper triangle with the diagonal (row-major, n(n+1)/2 values)
 *   sorted:<layer>  per probe, SORTED_QUANTILES quantiles of the sorted activations (probes x Q)
 *   raw:<layer>     the activations themselves, only when a probe has <= RAW_BLOCK_MAX_FEATURES of them
 */
import { ortCrossGram } from '../detect/gram-ort.js';

/** Quantiles kept per probe in sorted:<layer>. */
export const SORTED_QUANTILES = 16;
/** Widest layer (features per probe) stored raw. */
export const RAW_BLOCK_MAX_FEATURES = 1024;
/**
 * Multiply-adds (n² · f) of a Gram block from which it is computed by ONNX Runtime's float32 GEMM
 * (gram-ort.ts ortCrossGram) instead of the float64 JavaScript loops: a 64-probe block of an 8192-wide layer
 * (34 M multiply-adds, the speed benchmark's CNN) took ~30 ms in JavaScript and ~5 ms through ORT, and its
 * values moved by at most 3e-8 there. Below it (small layers, the tests' small fixtures) the JavaScript
 * path is kept: the call overhead would not pay, and the values stay exact.
 */
export const GRAM_ORT_MIN_WORK = 1 << 24;

/** Whether each row is already a probability vector (non-negative, sums to 1). */
export function looksLikeProbabilities(x: Float32Array, n: number, c: number): boolean {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) {
      const v = x[i * c + j];
      if (v < 0) return false;
      s += v;
    }
    if (Math.abs(s - 1) > 1e-3) return false;
  }
  return true;
}

export function softmaxStats(logits: Float32Array, n: number, c: number): Float32Array {
  const probs = looksLikeProbabilities(logits, n, c);
  const out = new Float32Array(3 * c);
  const z = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < c; j++) {
      z[j] = probs ? Math.log(logits[i * c + j] + 1e-12) : logits[i * c + j];
      if (z[j] > max) max = z[j];
    }
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.exp(z[j] - max);
    let arg = 0;
    let top1 = -Infinity;
    let top2 = -Infinity;
    for (let j = 0; j < c; j++) {
      out[j] += Math.exp(z[j] - max) / sum / n;
      if (z[j] > top1) {
        top2 = top1;
        top1 = z[j];
        arg = j;
      } else if (z[j] > top2) top2 = z[j];
    }
    out[c + arg] += 1 / n;
    for (let j = 0; j < c; j++) {
      const other = j === arg ? top2 : top1;
      out[2 * c + j] += (z[j] - (c > 1 ? other : 0)) / n;
    }
  }
  return out;
}

/**
 * Linear-CKA-normalised Gram upper triangle of an n x f activation matrix. Column means are accumulated row
 * by row (contiguous reads) in float64. From GRAM_ORT_MIN_WORK on, K = X_c·X_cᵀ is ONNX Runtime's float32
 * GEMM of the centred rows (centred in float64, then rounded to float32): the normalised values then agree
 * with the float64 definition to ~1e-6 (__tests__/fingerprint/representations.test.ts asserts 1e-5), not
 * bit for bit. Below it, four dot products share each read of row a; every sum adds the same terms in the
 * same order as the plain loops, so those values are bit-identical to them.
 */
export function gramBlock(x: Float32Array, n: number, f: number): Float32Array {
  const mean = new Float64Array(f);
  for (let i = 0; i < n; i++) {
    const o = i * f;
    for (let j = 0; j < f; j++) mean[j] += x[o + j];
  }
  for (let j = 0; j < f; j++) mean[j] /= n;
  const viaOrt = n * n * f >= GRAM_ORT_MIN_WORK ? ortGramOf(x, n, f, mean) : null;
  return normalisedUpper(viaOrt ?? jsGram(x, n, f, mean), n);
}

/** X_c·X_cᵀ by ORT (exactly symmetric), or null when ORT is unavailable (the JavaScript path then runs). */
function ortGramOf(x: Float32Array, n: number, f: number, mean: Float64Array): Float64Array | null {
  const X = { rows: n, cols: f, data: x };
  return ortCrossGram(X, X, mean, true);
}

/** X_c·X_cᵀ in float64, the plain loops' sums in their order. */
function jsGram(x: Float32Array, n: number, f: number, mean: Float64Array): Float64Array {
  const centred = new Float64Array(n * f);
  for (let i = 0; i < n; i++) {
    const o = i * f;
    for (let j = 0; j < f; j++) centred[o + j] = x[o + j] - mean[j];
  }
  const k = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    const oa = a * f;
    let b = a;
    for (; b + 3 < n; b += 4) {
      const o0 = b * f;
      const o1 = o0 + f;
      const o2 = o1 + f;
      const o3 = o2 + f;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < f; j++) {
        const v = centred[oa + j];
        s0 += v * centred[o0 + j];
        s1 += v * centred[o1 + j];
        s2 += v * centred[o2 + j];
        s3 += v * centred[o3 + j];
      }
      k[a * n + b] = s0;
      k[b * n + a] = s0;
      k[a * n + b + 1] = s1;
      k[(b + 1) * n + a] = s1;
      k[a * n + b + 2] = s2;
      k[(b + 2) * n + a] = s2;
      k[a * n + b + 3] = s3;
      k[(b + 3) * n + a] = s3;
    }
    for (; b < n; b++) {
      let s = 0;
      const ob = b * f;
      for (let j = 0; j < f; j++) s += centred[oa + j] * centred[ob + j];
      k[a * n + b] = s;
      k[b * n + a] = s;
    }
  }
  return k;
}

/** The upper triangle (with the diagonal) of K / ||K||_F, row-major. */
function normalisedUpper(k: Float64Array, n: number): Float32Array {
  let sq = 0;
  for (let i = 0; i < k.length; i++) sq += k[i] * k[i];
  const norm = Math.sqrt(sq);
  const out = new Float32Array((n * (n + 1)) / 2);
  let p = 0;
  for (let a = 0; a < n; a++) for (let b = a; b < n; b++) out[p++] = norm > 0 ? k[a * n + b] / norm : 0;
  return out;
}

/**
 * Per-probe quantiles (linear interpolation at q = k / (Q - 1)) of the sorted activations. Only the order
 * statistics the interpolation reads are found, by a radix select (rankValues), not a full sort: several
 * times faster on 8192-wide layers, and the values equal the full sort's exactly. A row holding NaN
 * (callers zero non-finite activations, but this function does not rely on it) is sorted as before.
 */
export function sortedBlock(x: Float32Array, n: number, f: number, q = SORTED_QUANTILES): Float32Array {
  const out = new Float32Array(n * q);
  const ranks: number[] = [];
  for (let k = 0; k < q; k++) {
    const pos = (k / (q - 1)) * (f - 1);
    const lo = Math.floor(pos);
    ranks.push(lo, Math.min(f - 1, lo + 1));
  }
  const wanted = [...new Set(ranks)].sort((a, b) => a - b);
  const select = new RankSelector(f);
  const at = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const row = x.subarray(i * f, (i + 1) * f);
    at.clear();
    if (!select.values(row, wanted, at)) {
      const s = row.slice().sort();
      for (const r of wanted) at.set(r, s[r]);
    }
    for (let k = 0; k < q; k++) {
      const pos = (k / (q - 1)) * (f - 1);
      const lo = Math.floor(pos);
      const hi = Math.min(f - 1, lo + 1);
      const slo = at.get(lo) as number;
      const shi = at.get(hi) as number;
      out[i * q + k] = slo + (shi - slo) * (pos - lo);
    }
  }
  return out;
}

/** Top bits of the sort key that pick a radix bucket (4096 buckets). */
const RADIX_BITS = 12;
/** Buckets of the radix select. */
const RADIX_BUCKETS = 1 << RADIX_BITS;

/**
 * Order statistics of NaN-free float32 rows by radix select: each float maps to an int32 key ordered like
 * the numbers (negative floats: the magnitude bits flipped; so -0 sorts just before +0, exactly as
 * TypedArray sort orders them); one pass counts the keys per bucket of their top RADIX_BITS bits, and only
 * the buckets holding a wanted rank are gathered, and each wanted rank is found there by quickselect. The worst
 * case (every value in one bucket) is a quickselect over the row; a bucket of equal keys (the zeros of a ReLU)
 * is not searched at all.
 * Keys are signed int32 in Int32Arrays: unsigned keys above 2^31 are not V8 small integers, and the loops
 * kept deoptimising on them (the block ran ~3x slower inside the fingerprint than alone).
 */
class RankSelector {
  private readonly counts = new Int32Array(RADIX_BUCKETS);
  private readonly slot = new Int32Array(RADIX_BUCKETS);
  private readonly keys: Int32Array;
  private readonly gathered: Int32Array;
  private readonly f32 = new Float32Array(1);
  private readonly i32 = new Int32Array(this.f32.buffer);

  constructor(f: number) {
    this.keys = new Int32Array(f);
    this.gathered = new Int32Array(f);
  }

  /**
   * Sets at[r] to the r-th smallest value of `row` for each r of `wanted` (ascending); false (nothing set)
   * when the row holds NaN, which has no place in this order. The passes over the row are small functions
   * of their own: one function holding every loop was compiled on-stack mid-loop and then deoptimised on
   * every call at the bucket bookkeeping it had never run (the block took ~3x longer than it should).
   */
  values(row: Float32Array, wanted: number[], at: Map<number, number>): boolean {
    const f = row.length;
    const { counts, slot, keys, gathered } = this;
    const zeros = countKeys(new Int32Array(row.buffer, row.byteOffset, f), keys, counts);
    if (zeros < 0) return false;
    // the buckets holding wanted ranks: their first rank, their place in `gathered`, their size
    const first: number[] = [];
    const offsets: number[] = [];
    const sizes: number[] = [];
    slot.fill(-1);
    let rank = 0;
    let w = 0;
    let offset = 0;
    for (let b = 0; b < RADIX_BUCKETS && w < wanted.length; b++) {
      const size = counts[b];
      if (wanted[w] < rank + size && b === HALF_BUCKETS && size === zeros) {
        // every key of this bucket is +0 (a ReLU's zeros, often half the row): nothing to gather or select
        while (w < wanted.length && wanted[w] < rank + size) at.set(wanted[w++], 0);
      } else if (wanted[w] < rank + size) {
        slot[b] = first.length;
        first.push(rank);
        offsets.push(offset);
        sizes.push(size);
        offset += size;
        while (w < wanted.length && wanted[w] < rank + size) w++;
      }
      rank += size;
    }
    gatherKeys(keys, f, slot, Int32Array.from(offsets), gathered);
    for (let i = 0; i < first.length; i++) {
      const part = gathered.subarray(offsets[i], offsets[i] + sizes[i]);
      const same = allEqual(part);
      // ranks ascending: each selection leaves everything before it smaller, so the next one searches after it
      let from = 0;
      for (const r of wanted) {
        if (r < first[i] || r >= first[i] + sizes[i]) continue;
        const k = r - first[i];
        if (!same) selectKth(part, from, part.length - 1, k);
        from = k;
        const key = part[k];
        this.i32[0] = key < 0 ? key ^ 0x7fffffff : key;
        at.set(r, this.f32[0]);
      }
    }
    return true;
  }
}

/** Bucket of a key (its top RADIX_BITS bits, shifted to start at 0). */
const KEY_SHIFT = 32 - RADIX_BITS;
const HALF_BUCKETS = RADIX_BUCKETS >> 1;

/**
 * Sort keys of one row's float bits, and the keys per bucket; returns how many keys are +0, or -1 on NaN.
 * The signed order of the floats: a negative float's magnitude bits flipped, a positive float as is.
 */
function countKeys(bits: Int32Array, keys: Int32Array, counts: Int32Array): number {
  counts.fill(0);
  let zeros = 0;
  for (let j = 0; j < bits.length; j++) {
    const u = bits[j];
    if ((u & 0x7fffffff) > 0x7f800000) return -1; // NaN
    const key = u < 0 ? u ^ 0x7fffffff : u;
    keys[j] = key;
    counts[(key >> KEY_SHIFT) + HALF_BUCKETS]++;
    zeros += key === 0 ? 1 : 0;
  }
  return zeros;
}

/** Copies the keys of the selected buckets (slot >= 0) to their places in `gathered`; advances `fill`. */
function gatherKeys(
  keys: Int32Array,
  f: number,
  slot: Int32Array,
  fill: Int32Array,
  gathered: Int32Array,
): void {
  for (let j = 0; j < f; j++) {
    const key = keys[j];
    const s = slot[(key >> KEY_SHIFT) + HALF_BUCKETS];
    if (s >= 0) gathered[fill[s]++] = key;
  }
}

/**
 * Moves the k-th smallest of a[lo..hi] to a[k], smaller-or-equal values before it and larger-or-equal after
 * (Hoare's quickselect, median-of-three pivots): linear time, where sorting a bucket of a few hundred keys
 * per wanted rank cost most of the block.
 */
function selectKth(a: Int32Array, lo: number, hi: number, k: number): void {
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    // median of three to a[mid], then Hoare partition around its value
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(a: Int32Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

function allEqual(part: Int32Array): boolean {
  for (let j = 1; j < part.length; j++) if (part[j] !== part[0]) return false;
  return true;
}
