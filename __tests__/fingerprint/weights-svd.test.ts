/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * The weight statistics (src/fingerprint/weights.ts) against an independent exact SVD (ml-matrix): the block
 * Krylov estimate of sigma1/sigma2 stays within the accuracy its header states (1% on random matrices, whose
 * top singular values are packed closely; 1e-4 when they stand apart), never exceeds the exact values,
 * repeats bit for bit, and the float32 view of the weights gives the same statistics as float64 values.
 */
import { Matrix, SVD } from 'ml-matrix';
import { parseModel } from '../../src/model/read.js';
import { constantFloat32, constantTensor } from '../../src/model/tensor-data.js';
import {
  EXACT_SVD_MAX_WORK,
  frobeniusNorm,
  layerWeightStats,
  topSingularValues,
} from '../../src/fingerprint/weights.js';
import { Rng } from '../../src/probes/rng.js';
import { buildCnn } from '../fixtures/models.js';

function exactTop2(m: Float64Array, rows: number, cols: number): [number, number] {
  const A = new Matrix(rows, cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) A.set(r, c, m[r * cols + c]);
  const s = new SVD(A, {
    computeLeftSingularVectors: false,
    computeRightSingularVectors: false,
    autoTranspose: true,
  }).diagonal;
  const sorted = [...s].sort((a, b) => b - a);
  return [sorted[0], sorted[1]];
}

function gaussian(rows: number, cols: number, seed: number): Float64Array {
  return Float64Array.from(new Rng(seed).normals(rows * cols, 0, Math.sqrt(2 / cols)));
}

describe('topSingularValues', () => {
  test('random (He-initialised) matrices: the Krylov estimate is within 1% and never above the exact values', () => {
    for (const [rows, cols, seed] of [
      [120, 700, 1],
      [700, 120, 2], // tall: the same estimate on the other side
      [160, 1152, 3],
    ]) {
      const side = Math.min(rows, cols);
      // the estimate's path, not the exact one
      expect(side * side * Math.max(rows, cols)).toBeGreaterThan(EXACT_SVD_MAX_WORK);
      const m = gaussian(rows, cols, seed);
      const [e1, e2] = exactTop2(m, rows, cols);
      const [s1, s2] = topSingularValues(m, rows, cols);
      expect(Math.abs(s1 - e1) / e1).toBeLessThan(0.01);
      expect(Math.abs(s2 - e2) / e2).toBeLessThan(0.01);
      expect(s1).toBeLessThanOrEqual(e1 * (1 + 1e-5));
      expect(s2).toBeLessThanOrEqual(e2 * (1 + 1e-5));
      expect(s2).toBeLessThanOrEqual(s1);
    }
  });

  test('separated top values (a trained-like low-rank part plus noise) are found to 1e-4', () => {
    const rows = 150;
    const cols = 600;
    const rng = new Rng(9);
    const m = gaussian(rows, cols, 4).map((x) => 0.1 * x);
    for (const strength of [8, 5, 3]) {
      const u = rng.normals(rows, 0, 1 / Math.sqrt(rows));
      const v = rng.normals(cols, 0, 1 / Math.sqrt(cols));
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m[r * cols + c] += strength * u[r] * v[c];
    }
    const [e1, e2] = exactTop2(m, rows, cols);
    const [s1, s2] = topSingularValues(m, rows, cols);
    expect(Math.abs(s1 - e1) / e1).toBeLessThan(1e-4);
    expect(Math.abs(s2 - e2) / e2).toBeLessThan(1e-4);
  });

  test('small matrices take the exact path (float64 EVD of the Gram matrix)', () => {
    const m = gaussian(30, 50, 5);
    expect(30 * 30 * 50).toBeLessThanOrEqual(EXACT_SVD_MAX_WORK);
    const [e1, e2] = exactTop2(m, 30, 50);
    const [s1, s2] = topSingularValues(m, 30, 50);
    expect(Math.abs(s1 - e1) / e1).toBeLessThan(1e-10);
    expect(Math.abs(s2 - e2) / e2).toBeLessThan(1e-10);
  });

  test('deterministic: the same matrix gives the same bits, as float64 or float32', () => {
    const m = gaussian(200, 900, 6);
    const a = topSingularValues(m, 200, 900);
    const b = topSingularValues(m, 200, 900);
    expect(b).toEqual(a);
    const f32 = Float32Array.from(m);
    const c = topSingularValues(f32, 200, 900);
    expect(topSingularValues(f32, 200, 900)).toEqual(c);
    // float32 rounding of the input moves the estimate by far less than its accuracy
    expect(Math.abs(c[0] - a[0]) / a[0]).toBeLessThan(1e-5);
  });

  test('the JavaScript fallback (no ORT) gives the same estimate to float32 rounding', () => {
    const m = gaussian(120, 700, 7);
    const [a1, a2] = topSingularValues(m, 120, 700);
    const [j1, j2] = topSingularValues(m, 120, 700, 2, { ort: false });
    expect(Math.abs(j1 - a1) / a1).toBeLessThan(1e-5);
    expect(Math.abs(j2 - a2) / a2).toBeLessThan(1e-5);
  });

  test('rank-deficient and zero matrices do not break the estimate', () => {
    const rows = 100;
    const cols = 500;
    const m = new Float64Array(rows * cols);
    expect(topSingularValues(m, rows, cols)).toEqual([0, 0]);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m[r * cols + c] = (r + 1) * Math.sin(c + 1); // rank 1
    const [e1] = exactTop2(m, rows, cols);
    const [s1, s2] = topSingularValues(m, rows, cols);
    expect(Math.abs(s1 - e1) / e1).toBeLessThan(1e-5);
    expect(s2 / s1).toBeLessThan(1e-3);
  });
});

describe('layer weight statistics', () => {
  test('the float32 view of a weight equals its float64 values, and the norm is exact', () => {
    const model = parseModel(buildCnn(), 'cnn.onnx');
    for (const name of ['layers.0.weight', 'layers.7.weight']) {
      const v32 = constantFloat32(model, name)!;
      const v64 = constantTensor(model, name)!;
      expect(v32.values).toBeInstanceOf(Float32Array);
      expect(v32.dims).toEqual(v64.dims);
      expect(Array.from(v32.values)).toEqual(Array.from(v64.values));
      const naive = Math.sqrt(v64.values.reduce((a, b) => a + b * b, 0));
      expect(Math.abs(frobeniusNorm(v32.values) - naive) / naive).toBeLessThan(1e-12);
    }
    expect(constantFloat32(model, 'no-such-tensor')).toBeNull();
  });

  test('each row of weights:layers is [norm, sigma1, sigma2] of that weight (conv kernels as out x in*kh*kw)', () => {
    const model = parseModel(buildCnn(), 'cnn.onnx');
    const { block, names } = layerWeightStats(model);
    names.forEach((name, i) => {
      const w = constantTensor(model, name)!;
      const rows = w.dims[0];
      const cols = w.values.length / rows;
      const [e1, e2] = exactTop2(w.values, rows, cols);
      const naive = Math.sqrt(w.values.reduce((a, b) => a + b * b, 0));
      expect(block[3 * i]).toBeCloseTo(naive, 4);
      expect(Math.abs(block[3 * i + 1] - e1) / e1).toBeLessThan(1e-5);
      expect(Math.abs(block[3 * i + 2] - e2) / e2).toBeLessThan(1e-5);
    });
  });
});
