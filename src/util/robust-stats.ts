/**
 * Medians and MADs: the robust statistics the weight self-check, trigger probing and the max_z detector
 * share. `median` sorts a copy (small vectors); `selectMedian` finds the same value in linear time in
 * place (the per-feature statistics of a baseline, millions of values). Hand-written: a dozen lines, and
 * no maintained package selects in place on typed arrays.
 */

/** Scale making the MAD a consistent estimate of a normal standard deviation. */
export const MAD_TO_SD = 1.4826;

/** The median of a copy of the values (NaN when there are none). */
export function median(xs: ArrayLike<number>): number {
  const s = Array.from(xs).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The median of a[0..n) by quickselect (a is reordered): the same value as sorting, in linear time. For an
 * even n the lower middle value is the largest of the part quickselect leaves below the upper one.
 */
export function selectMedian(a: Float64Array, n: number): number {
  const k = n >> 1;
  selectKth(a, 0, n - 1, k);
  if (n % 2) return a[k];
  let lower = a[0];
  for (let i = 1; i < k; i++) if (a[i] > lower) lower = a[i];
  return (lower + a[k]) / 2;
}

/**
 * Moves the k-th smallest of a[lo..hi] to a[k], smaller-or-equal values before it (Hoare, median of three).
 * Swaps are written out: with a helper function the loop ran ~5x slower (measured).
 */
export function selectKth(a: Float64Array, lo: number, hi: number, k: number): void {
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    let t: number;
    if (a[mid] < a[lo]) {
      t = a[mid];
      a[mid] = a[lo];
      a[lo] = t;
    }
    if (a[hi] < a[lo]) {
      t = a[hi];
      a[hi] = a[lo];
      a[lo] = t;
    }
    if (a[hi] < a[mid]) {
      t = a[hi];
      a[hi] = a[mid];
      a[mid] = t;
    }
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}
