/**
 * The linear algebra under every detector: blocked Gram products, the flat-array eigendecomposition and the
 * fold Gram matrices derived from a parent's, each against a direct computation.
 */
import {
  crossGram,
  mat,
  selectRows,
  selectRowsSharingGram,
  selfGram,
  sqDistances,
  symEig,
  type Mat,
} from '../../src/detect/linalg.js';
import { fitPca, pcaTransform } from '../../src/detect/pca.js';
import { Rng } from '../../src/probes/rng.js';

function gaussian(n: number, d: number, seed: number, offset = 0): Mat {
  const rng = new Rng(seed);
  return mat(
    n,
    d,
    Float32Array.from({ length: n * d }, () => rng.normal() + offset),
  );
}

function naiveCross(A: Mat, B: Mat): Float64Array {
  const out = new Float64Array(A.rows * B.rows);
  for (let i = 0; i < A.rows; i++)
    for (let j = 0; j < B.rows; j++) {
      let s = 0;
      for (let k = 0; k < A.cols; k++) s += A.data[i * A.cols + k] * B.data[j * B.cols + k];
      out[i * B.rows + j] = s;
    }
  return out;
}

describe('linalg', () => {
  it('crossGram (odd sizes, several column blocks, symmetric or not) equals the naive product', () => {
    const A = gaussian(7, 600, 1);
    const B = gaussian(5, 600, 2);
    const got = crossGram(A, B);
    naiveCross(A, B).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 9));
    const sym = crossGram(A, A, undefined, true);
    naiveCross(A, A).forEach((v, i) => expect(sym[i]).toBeCloseTo(v, 9));
  });

  it('squared distances are right even far from the origin', () => {
    const A = gaussian(6, 40, 3, 1000);
    const D = sqDistances(A, A);
    for (let i = 0; i < 6; i++)
      for (let j = 0; j < 6; j++) {
        let s = 0;
        for (let k = 0; k < 40; k++) s += (A.data[i * 40 + k] - A.data[j * 40 + k]) ** 2;
        expect(D[i * 6 + j]).toBeCloseTo(s, 6);
      }
  });

  it('symEig: A v = λ v, orthonormal vectors, descending values', () => {
    const n = 40;
    const rng = new Rng(4);
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        const v = rng.normal();
        A[i * n + j] = v;
        A[j * n + i] = v;
      }
    const { values, vectors } = symEig(A, n);
    for (let c = 0; c < n; c++) {
      if (c > 0) expect(values[c]).toBeLessThanOrEqual(values[c - 1]);
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += A[r * n + k] * vectors[k * n + c];
        expect(s).toBeCloseTo(values[c] * vectors[r * n + c], 10);
      }
      for (let c2 = 0; c2 <= c; c2++) {
        let dot = 0;
        for (let r = 0; r < n; r++) dot += vectors[r * n + c] * vectors[r * n + c2];
        expect(dot).toBeCloseTo(c === c2 ? 1 : 0, 10);
      }
    }
  });

  it("a fold's Gram derived from the parent's equals a freshly computed one", () => {
    const X = gaussian(30, 50, 5, 3);
    selfGram(X);
    const idx = [0, 3, 4, 8, 9, 15, 22, 29];
    const derived = selfGram(selectRowsSharingGram(X, idx));
    const fresh = selfGram(selectRows(X, idx));
    derived.G.forEach((v, i) => expect(v).toBeCloseTo(fresh.G[i], 9));
  });

  it('dual (Gram) and primal (covariance) PCA give the same scores up to sign', () => {
    const X = gaussian(20, 30, 6); // rows < features: dual
    const dual = fitPca(X, { maxComponents: 5 });
    const Xt = gaussian(40, 8, 7); // rows > features: primal
    const primal = fitPca(Xt, { maxComponents: 5 });
    expect(dual.model.components).toBeNull();
    expect(primal.model.components).not.toBeNull();
    // training scores from the decomposition equal projecting the rows again
    for (const f of [dual, primal]) {
      const again = pcaTransform(f.model, f === dual ? X : Xt);
      again.data.forEach((v, i) => expect(v).toBeCloseTo(f.trainScores.data[i], 8));
    }
  });
});

describe('Gram cache', () => {
  it('recomputes when the same buffer is mutated after a fit', () => {
    const X = gaussian(10, 20, 8);
    const before = Float64Array.from(selfGram(X).G);
    X.data[3 * 20 + 5] += 2;
    const after = selfGram(X).G;
    expect(after[3 * 10 + 3]).not.toBeCloseTo(before[3 * 10 + 3], 3);
  });
});
