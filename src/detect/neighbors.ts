/**
 * k-nearest-neighbour search over a precomputed distance matrix, shared by LOF and kNN. Ties are broken by
 * the lower reference index (a stable order), so results do not depend on sort implementation details.
 */

export interface Neighbors {
  k: number;
  /** rows x k reference indices, nearest first. */
  idx: Int32Array;
  /** rows x k distances (not squared), nearest first. */
  dist: Float64Array;
}

/**
 * The k nearest columns of each row of a rows x cols distance matrix D (row-major), optionally skipping
 * column `exclude(row)` (the row itself when querying the references against themselves) and restricted
 * to the columns in `allowed` (for cross-fitting: the rows not in the held-out fold).
 */
export function kNearest(
  D: Float64Array,
  rows: number,
  cols: number,
  k: number,
  opts: { excludeSelf?: boolean; allowed?: Int32Array; squared?: boolean } = {},
): Neighbors {
  const idx = new Int32Array(rows * k);
  const dist = new Float64Array(rows * k);
  const bufD = new Float64Array(k);
  const bufI = new Int32Array(k);
  const candidates = opts.allowed ?? null;
  const nc = candidates ? candidates.length : cols;
  for (let r = 0; r < rows; r++) {
    let filled = 0;
    const o = r * cols;
    for (let t = 0; t < nc; t++) {
      const c = candidates ? candidates[t] : t;
      if (opts.excludeSelf && c === r) continue;
      const v = D[o + c];
      if (filled < k) {
        let p = filled++;
        while (p > 0 && (bufD[p - 1] > v || (bufD[p - 1] === v && bufI[p - 1] > c))) {
          bufD[p] = bufD[p - 1];
          bufI[p] = bufI[p - 1];
          p--;
        }
        bufD[p] = v;
        bufI[p] = c;
      } else if (v < bufD[k - 1] || (v === bufD[k - 1] && c < bufI[k - 1])) {
        let p = k - 1;
        while (p > 0 && (bufD[p - 1] > v || (bufD[p - 1] === v && bufI[p - 1] > c))) {
          bufD[p] = bufD[p - 1];
          bufI[p] = bufI[p - 1];
          p--;
        }
        bufD[p] = v;
        bufI[p] = c;
      }
    }
    if (filled < k) throw new Error(`kNearest: only ${filled} candidates for k = ${k}`);
    for (let t = 0; t < k; t++) {
      idx[r * k + t] = bufI[t];
      dist[r * k + t] = opts.squared ? Math.sqrt(bufD[t]) : bufD[t];
    }
  }
  return { k, idx, dist };
}

/** Builds fold membership lists: the training rows (not in fold f) and the held-out rows (in fold f). */
export function foldSplit(folds: Int32Array, f: number): { train: Int32Array; test: Int32Array } {
  let nt = 0;
  for (let i = 0; i < folds.length; i++) if (folds[i] === f) nt++;
  const train = new Int32Array(folds.length - nt);
  const test = new Int32Array(nt);
  let a = 0;
  let b = 0;
  for (let i = 0; i < folds.length; i++) {
    if (folds[i] === f) test[b++] = i;
    else train[a++] = i;
  }
  return { train, test };
}

export function foldCount(folds: Int32Array): number {
  let m = -1;
  for (let i = 0; i < folds.length; i++) if (folds[i] > m) m = folds[i];
  return m + 1;
}
