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
 * to the columns in `allowed` (for cross-fitting: the rows not in the held-out fold). With `rowIdx` the
 * query rows are D's rows rowIdx[0..rows) (D then has at least max(rowIdx) + 1 rows), so a fold reads the
 * full matrix in place instead of a copied sub-matrix (at 10,000 references a 9,000² copy is 650 MB).
 */
export interface KNearestOptions {
  excludeSelf?: boolean;
  allowed?: Int32Array;
  squared?: boolean;
  rowIdx?: Int32Array;
  /**
   * D is the n x n centred Gram matrix G of the references and these its diagonal: the squared distance
   * max(0, gᵢ + gⱼ - 2Gᵢⱼ) is formed as it is read (the same value sqDistancesFromGram stores), so no
   * n x n distance matrix is ever held (800 MB at 10,000 references).
   */
  gramNorms?: Float64Array;
}

export function kNearest(
  D: Float64Array,
  rows: number,
  cols: number,
  k: number,
  opts: KNearestOptions = {},
): Neighbors {
  const idx = new Int32Array(rows * k);
  const dist = new Float64Array(rows * k);
  const bufD = new Float64Array(k);
  const bufI = new Int32Array(k);
  const candidates = opts.allowed ?? null;
  const nc = candidates ? candidates.length : cols;
  const rowIdx = opts.rowIdx ?? null;
  const gn = opts.gramNorms ?? null;
  for (let r = 0; r < rows; r++) {
    let filled = 0;
    const self = rowIdx ? rowIdx[r] : r;
    const o = self * cols;
    for (let t = 0; t < nc; t++) {
      const c = candidates ? candidates[t] : t;
      if (opts.excludeSelf && c === self) continue;
      let v = D[o + c];
      if (gn) {
        const w = gn[self] + gn[c] - 2 * v;
        v = w > 0 ? w : 0;
      }
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

/**
 * kNearest over the rows `queryRows` of the n x n matrix D, candidates `candidates` (ascending), with the
 * neighbour ids given as positions in `candidates`: exactly what kNearest returns on the copied
 * sub-matrix D[queryRows, candidates] (ties still go to the lower id, as candidates are ascending).
 */
export function kNearestWithin(
  D: Float64Array,
  n: number,
  queryRows: Int32Array,
  candidates: Int32Array,
  k: number,
  opts: { excludeSelf?: boolean; squared?: boolean; gramNorms?: Float64Array } = {},
): Neighbors {
  const nb = kNearest(D, queryRows.length, n, k, { ...opts, rowIdx: queryRows, allowed: candidates });
  const pos = new Int32Array(n).fill(-1);
  for (let t = 0; t < candidates.length; t++) pos[candidates[t]] = t;
  for (let t = 0; t < nb.idx.length; t++) nb.idx[t] = pos[nb.idx[t]];
  return nb;
}

export function foldCount(folds: Int32Array): number {
  let m = -1;
  for (let i = 0; i < folds.length; i++) if (folds[i] > m) m = folds[i];
  return m + 1;
}
