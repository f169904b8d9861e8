/**
 * The fast paths of the Gram products (src/detect/gram-ort.ts, linalg.ts) against the exact float64
 * JavaScript path: ONNX Runtime's float32 GEMM above ORT_GRAM_MIN_WORK (plain, centred, symmetric in
 * blocks), the few-query-rows path and its one-entry memo, direct few-rows distances, and the per-row
 * moments that give each cross-fitting fold its variance without copying its rows.
 */
import {
  blockedCrossGram,
  colMeans,
  crossGram,
  mat,
  rowMoments,
  selectRows,
  selfGram,
  sqDistances,
  sqDistancesFromGram,
  rowSqNorms,
  varianceAll,
  varianceOfRows,
  type Mat,
} from '../../src/detect/linalg.js';
import { ORT_GRAM_MIN_WORK, ortCrossGram, ortGramAvailable } from '../../src/detect/gram-ort.js';
import { Rng } from '../../src/probes/rng.js';

function randomMat(rows: number, cols: number, seed: number, offset = 0): Mat {
  const data = new Rng(seed).normals(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] += offset;
  return mat(rows, cols, data);
}

/** Largest |a - b| relative to the largest |b| (entries near zero are judged on the matrix's scale). */
function maxRelError(a: Float64Array, b: Float64Array): number {
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let err = 0;
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
  return err / scale;
}

describe('ONNX Runtime Gram product', () => {
  it('loads in this environment', () => {
    expect(ortGramAvailable()).toBe(true);
  });

  it('equals the float64 path to 1e-5 relative: centred, symmetric, with rows not a multiple of the blocks', () => {
    const X = randomMat(601, 700, 1, 3);
    const c = colMeans(X);
    const fast = ortCrossGram(X, X, c, true);
    expect(fast).not.toBeNull();
    const exact = blockedCrossGram(X, X, c, true);
    expect(maxRelError(fast as Float64Array, exact)).toBeLessThan(1e-5);
    const G = fast as Float64Array;
    for (let i = 0; i < 601; i += 37)
      for (let j = 0; j < 601; j += 41) expect(G[i * 601 + j]).toBe(G[j * 601 + i]);
  });

  it('equals the float64 path for A·Bᵀ with different matrices', () => {
    const A = randomMat(90, 500, 2);
    const B = randomMat(130, 500, 3);
    const fast = ortCrossGram(A, B);
    expect(maxRelError(fast as Float64Array, blockedCrossGram(A, B))).toBeLessThan(1e-5);
  });

  it('is what crossGram uses above the threshold, and the exact path below it', () => {
    const big = randomMat(400, Math.ceil(ORT_GRAM_MIN_WORK / (400 * 400)), 4);
    const viaDispatch = crossGram(big, big, undefined, true);
    expect(viaDispatch).toEqual(ortCrossGram(big, big, undefined, true));
    const small = randomMat(30, 40, 5);
    expect(crossGram(small, small, undefined, true)).toEqual(blockedCrossGram(small, small, undefined, true));
  });

  it('gives a cached self-Gram with exact norms on the diagonal, so cache hits are recognised', () => {
    const X = randomMat(400, Math.ceil(ORT_GRAM_MIN_WORK / (400 * 400)), 6, 1);
    const g = selfGram(X);
    const exactNorms = rowSqNorms(X, g.center);
    for (let i = 0; i < 400; i++) {
      expect(g.norms[i]).toBe(exactNorms[i]);
      expect(g.G[i * 400 + i]).toBe(exactNorms[i]);
    }
    expect(selfGram(X)).toBe(g);
  });
});

describe('few query rows', () => {
  it('crossGram of 1-4 rows equals the blocked path to 1e-12', () => {
    const X = randomMat(37, 300, 7, 5);
    const c = colMeans(X);
    for (const q of [1, 3, 4]) {
      const Y = randomMat(q, 300, 8 + q, 5);
      expect(maxRelError(crossGram(Y, X, c), blockedCrossGram(Y, X, c))).toBeLessThan(1e-12);
      expect(maxRelError(crossGram(Y, X), blockedCrossGram(Y, X))).toBeLessThan(1e-12);
    }
  });

  it('recomputes when the query values or the centre change (memo hits only on equal inputs)', () => {
    const X = randomMat(20, 50, 9);
    const c = colMeans(X);
    const y = randomMat(1, 50, 10);
    const first = crossGram(y, X, c);
    expect(crossGram(y, X, c)).toEqual(first);
    y.data[7] += 1;
    expect(crossGram(y, X, c)).toEqual(blockedCrossGram(y, X, c));
    expect(crossGram(y, X, c)).not.toEqual(first);
    const c2 = Float64Array.from(c, (v) => v + 0.5);
    expect(maxRelError(crossGram(y, X, c2), blockedCrossGram(y, X, c2))).toBeLessThan(1e-12);
    // the returned array is the caller's to modify: it must not alter the memo
    const again = crossGram(y, X, c);
    again.fill(0);
    expect(crossGram(y, X, c)).toEqual(blockedCrossGram(y, X, c));
  });

  it('sqDistances of a few rows equals the Gram route, far from the origin too', () => {
    const X = randomMat(25, 200, 11, 100);
    const Y = randomMat(2, 200, 12, 100);
    const c = colMeans(X);
    const viaGram = sqDistancesFromGram(blockedCrossGram(Y, X, c), rowSqNorms(Y, c), rowSqNorms(X, c));
    expect(maxRelError(sqDistances(Y, X), viaGram)).toBeLessThan(1e-9);
  });
});

describe('row moments', () => {
  it('give each subset the variance varianceAll computes on its copied rows', () => {
    const X = randomMat(50, 64, 13, 2);
    const m = rowMoments(X);
    const idx = Int32Array.from({ length: 45 }, (_, i) => (i * 7) % 50);
    const expected = varianceAll(selectRows(X, idx));
    expect(Math.abs(varianceOfRows(m, idx) - expected)).toBeLessThan(1e-12 * expected);
    expect(
      varianceOfRows(
        m,
        Int32Array.from({ length: 50 }, (_, i) => i),
      ),
    ).toBeCloseTo(varianceAll(X), 12);
  });
});
