/**
 * One-Class SVM (Schölkopf et al., 2001) with an RBF kernel, solved by SMO exactly as libsvm (and so
 * scikit-learn's OneClassSVM) does: the same initial point (the first floor(nu·l) alphas at 1), second-order
 * working-set selection (WSS3, Fan et al. 2005), shrinking with the same schedule, the kernel cached in
 * float32 (libsvm's Qfloat), stopping tolerance 1e-3 and rho from the free alphas. gamma "scale" is
 * 1 / (d · Var(X)) over all entries. The score reported is -decision_function = rho - Σ αᵢ K(xᵢ, x).
 *
 * Hand-written because no maintained JavaScript package implements libsvm's one-class solver
 * (libsvm-js is an unmaintained emscripten build without one-class decision values we could match).
 */
import { InputError } from '../errors.js';
import {
  checkFitInput,
  checkScoreInput,
  notFitted,
  num,
  type Detector,
  type DetectorParams,
  type DetectorState,
} from './detector.js';
import {
  crossGram,
  mat,
  rowSqNorms,
  selfGram,
  sqDistancesFromGram,
  colMeans,
  selectRows,
  varianceAll,
  rowMoments,
  varianceOfRows,
  type Mat,
  type RowMoments,
} from './linalg.js';
import { foldCount, foldSplit } from './neighbors.js';

export const OCSVM_DEFAULT_NU = 0.1;
/** libsvm's default stopping tolerance (scikit-learn's tol=1e-3). */
export const OCSVM_TOLERANCE = 1e-3;
/** libsvm's TAU: the floor of a non-positive quadratic coefficient. */
const TAU = 1e-12;
/** Iteration cap: far above what SMO needs here, only guards against a non-terminating loop. */
const OCSVM_MAX_ITER = 10_000_000;

const LOWER = 0;
const UPPER = 1;
const FREE = 2;

export interface OcsvmSolution {
  alpha: Float64Array;
  rho: number;
  iterations: number;
}

/**
 * libsvm's Solver for the one-class problem: min ½ αᵀQα, 0 ≤ α ≤ 1, Σα = nu·l, with y ≡ +1, p ≡ 0.
 * Q is the full l x l kernel matrix in float32 (row-major, original order).
 */
export function solveOneClass(
  Q: Float32Array,
  l: number,
  nu: number,
  eps = OCSVM_TOLERANCE,
  shrinking = true,
): OcsvmSolution {
  const alpha = new Float64Array(l);
  const nUpper = Math.floor(nu * l);
  for (let i = 0; i < nUpper; i++) alpha[i] = 1;
  if (nUpper < l) alpha[nUpper] = nu * l - nUpper;

  const C = 1;
  const status = new Uint8Array(l);
  const updateStatus = (i: number): void => {
    status[i] = alpha[i] >= C ? UPPER : alpha[i] <= 0 ? LOWER : FREE;
  };
  for (let i = 0; i < l; i++) updateStatus(i);
  const act = new Int32Array(l); // position -> original index (libsvm's active_set)
  for (let i = 0; i < l; i++) act[i] = i;
  let activeSize = l;
  const QD = new Float64Array(l);
  for (let i = 0; i < l; i++) QD[i] = Q[i * l + i];

  const G = new Float64Array(l);
  const Gbar = new Float64Array(l);
  for (let i = 0; i < l; i++) {
    if (status[i] !== LOWER) {
      const ai = alpha[i];
      const o = i * l;
      for (let j = 0; j < l; j++) G[j] += ai * Q[o + j];
      if (status[i] === UPPER) for (let j = 0; j < l; j++) Gbar[j] += C * Q[o + j];
    }
  }
  // Q entry between positions a and b under the current permutation
  const q = (a: number, b: number): number => Q[act[a] * l + act[b]];

  const swap = (i: number, j: number): void => {
    let t = G[i];
    G[i] = G[j];
    G[j] = t;
    t = Gbar[i];
    Gbar[i] = Gbar[j];
    Gbar[j] = t;
    t = alpha[i];
    alpha[i] = alpha[j];
    alpha[j] = t;
    t = QD[i];
    QD[i] = QD[j];
    QD[j] = t;
    const s = status[i];
    status[i] = status[j];
    status[j] = s;
    const a = act[i];
    act[i] = act[j];
    act[j] = a;
  };

  const reconstructGradient = (): void => {
    if (activeSize === l) return;
    for (let j = activeSize; j < l; j++) G[j] = Gbar[j];
    let nrFree = 0;
    for (let j = 0; j < activeSize; j++) if (status[j] === FREE) nrFree++;
    if (nrFree * l > 2 * activeSize * (l - activeSize)) {
      for (let i = activeSize; i < l; i++) {
        for (let j = 0; j < activeSize; j++) if (status[j] === FREE) G[i] += alpha[j] * q(i, j);
      }
    } else {
      for (let i = 0; i < activeSize; i++) {
        if (status[i] === FREE) {
          const ai = alpha[i];
          for (let j = activeSize; j < l; j++) G[j] += ai * q(i, j);
        }
      }
    }
  };

  let unshrink = false;
  const beShrunk = (i: number, gmax1: number, gmax2: number): boolean => {
    if (status[i] === UPPER) return -G[i] > gmax1;
    if (status[i] === LOWER) return G[i] > gmax2;
    return false;
  };
  const doShrinking = (): void => {
    let gmax1 = -Infinity;
    let gmax2 = -Infinity;
    for (let i = 0; i < activeSize; i++) {
      if (status[i] !== UPPER && -G[i] >= gmax1) gmax1 = -G[i];
      if (status[i] !== LOWER && G[i] >= gmax2) gmax2 = G[i];
    }
    if (!unshrink && gmax1 + gmax2 <= eps * 10) {
      unshrink = true;
      reconstructGradient();
      activeSize = l;
    }
    for (let i = 0; i < activeSize; i++) {
      if (beShrunk(i, gmax1, gmax2)) {
        activeSize--;
        while (activeSize > i) {
          if (!beShrunk(activeSize, gmax1, gmax2)) {
            swap(i, activeSize);
            break;
          }
          activeSize--;
        }
      }
    }
  };

  const ws = { i: -1, j: -1 };
  const selectWorkingSet = (): boolean => {
    let gmax = -Infinity;
    let gmax2 = -Infinity;
    let gmaxIdx = -1;
    let gminIdx = -1;
    let objDiffMin = Infinity;
    for (let t = 0; t < activeSize; t++) {
      if (status[t] !== UPPER && -G[t] >= gmax) {
        gmax = -G[t];
        gmaxIdx = t;
      }
    }
    const i = gmaxIdx;
    const rowI = i >= 0 ? act[i] * l : 0;
    for (let j = 0; j < activeSize; j++) {
      if (status[j] !== LOWER) {
        const gradDiff = gmax + G[j];
        if (G[j] >= gmax2) gmax2 = G[j];
        if (gradDiff > 0) {
          const quad = QD[i] + QD[j] - 2.0 * Q[rowI + act[j]];
          const objDiff = quad > 0 ? -(gradDiff * gradDiff) / quad : -(gradDiff * gradDiff) / TAU;
          if (objDiff <= objDiffMin) {
            gminIdx = j;
            objDiffMin = objDiff;
          }
        }
      }
    }
    if (gmax + gmax2 < eps || gminIdx === -1) return false;
    ws.i = gmaxIdx;
    ws.j = gminIdx;
    return true;
  };

  let iter = 0;
  let counter = Math.min(l, 1000) + 1;
  for (;;) {
    if (iter >= OCSVM_MAX_ITER) break;
    if (--counter === 0) {
      counter = Math.min(l, 1000);
      if (shrinking) doShrinking();
    }
    if (!selectWorkingSet()) {
      reconstructGradient();
      activeSize = l;
      if (!selectWorkingSet()) break;
      counter = 1;
    }
    iter++;
    const i = ws.i;
    const j = ws.j;
    const rowI = act[i] * l;
    const rowJ = act[j] * l;
    const oldAi = alpha[i];
    const oldAj = alpha[j];
    let quad = QD[i] + QD[j] - 2 * Q[rowI + act[j]];
    if (quad <= 0) quad = TAU;
    const delta = (G[i] - G[j]) / quad;
    const sum = alpha[i] + alpha[j];
    alpha[i] -= delta;
    alpha[j] += delta;
    if (sum > C) {
      if (alpha[i] > C) {
        alpha[i] = C;
        alpha[j] = sum - C;
      }
    } else if (alpha[j] < 0) {
      alpha[j] = 0;
      alpha[i] = sum;
    }
    if (sum > C) {
      if (alpha[j] > C) {
        alpha[j] = C;
        alpha[i] = sum - C;
      }
    } else if (alpha[i] < 0) {
      alpha[i] = 0;
      alpha[j] = sum;
    }
    const dai = alpha[i] - oldAi;
    const daj = alpha[j] - oldAj;
    for (let k = 0; k < activeSize; k++) G[k] += Q[rowI + act[k]] * dai + Q[rowJ + act[k]] * daj;
    const ui = status[i] === UPPER;
    const uj = status[j] === UPPER;
    updateStatus(i);
    updateStatus(j);
    if (ui !== (status[i] === UPPER)) {
      const sgn = ui ? -C : C;
      for (let k = 0; k < l; k++) Gbar[k] += sgn * Q[rowI + act[k]];
    }
    if (uj !== (status[j] === UPPER)) {
      const sgn = uj ? -C : C;
      for (let k = 0; k < l; k++) Gbar[k] += sgn * Q[rowJ + act[k]];
    }
  }

  // rho (libsvm's calculate_rho with y ≡ +1)
  let nrFree = 0;
  let ub = Infinity;
  let lb = -Infinity;
  let sumFree = 0;
  for (let i = 0; i < activeSize; i++) {
    const g = G[i];
    if (status[i] === UPPER) lb = Math.max(lb, g);
    else if (status[i] === LOWER) ub = Math.min(ub, g);
    else {
      nrFree++;
      sumFree += g;
    }
  }
  const rho = nrFree > 0 ? sumFree / nrFree : (ub + lb) / 2;
  const out = new Float64Array(l);
  for (let i = 0; i < l; i++) out[act[i]] = alpha[i];
  return { alpha: out, rho, iterations: iter };
}

/**
 * The float32 RBF kernel of the references `rows`, from the n x n centred Gram matrix G and its diagonal:
 * each squared distance max(0, gᵢ + gⱼ - 2Gᵢⱼ) is formed as it is read (the value sqDistancesFromGram
 * would store), so neither an n x n distance matrix (800 MB at 10,000 references) nor a fold-sized copy
 * of one is held.
 */
function rbfKernelOn(
  G: Float64Array,
  norms: Float64Array,
  n: number,
  rows: Int32Array,
  gamma: number,
): Float32Array {
  const m = rows.length;
  const K = new Float32Array(m * m);
  for (let a = 0; a < m; a++) {
    const i = rows[a];
    const o = i * n;
    for (let b = 0; b < m; b++) {
      const j = rows[b];
      const v = norms[i] + norms[j] - 2 * G[o + j];
      K[a * m + b] = Math.exp(-gamma * (v > 0 ? v : 0));
    }
  }
  return K;
}

/** Squared distances D2[rowsA, rowsB] formed from the Gram matrix (see rbfKernelOn). */
function sqDistancesOn(
  G: Float64Array,
  norms: Float64Array,
  n: number,
  rowsA: Int32Array,
  rowsB: Int32Array,
): Float64Array {
  const out = new Float64Array(rowsA.length * rowsB.length);
  for (let a = 0; a < rowsA.length; a++) {
    const i = rowsA[a];
    for (let b = 0; b < rowsB.length; b++) {
      const j = rowsB[b];
      const v = norms[i] + norms[j] - 2 * G[i * n + j];
      out[a * rowsB.length + b] = v > 0 ? v : 0;
    }
  }
  return out;
}

function allRows(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

export class OcsvmDetector implements Detector {
  readonly name = 'ocsvm' as const;
  private readonly nu: number;
  private readonly gammaParam: number; // 0 = "scale"
  private gammaValue = 0;
  private sv: Mat | null = null;
  private coef: Float64Array | null = null;
  private rho = 0;
  private center: Float64Array | null = null;
  /** Squared norms of the centred support vectors: fixed once fitted, so computed once, not per score. */
  private svNorms: Float64Array | null = null;

  constructor(params: DetectorParams = {}) {
    this.nu = num(params, 'nu', OCSVM_DEFAULT_NU);
    this.gammaParam = num(params, 'gamma', 0);
    if (!(this.nu > 0 && this.nu <= 1))
      throw new InputError('bad-argument', `ocsvm: nu must be in (0, 1], got ${this.nu}`);
  }

  /** The RBF gamma in use (resolved from "scale" at fit time). */
  get gamma(): number {
    return this.gammaValue;
  }

  get nSupport(): number {
    if (!this.sv) throw notFitted(this.name);
    return this.sv.rows;
  }

  private resolveGamma(X: Mat): number {
    return this.gammaFromVariance(X.cols, () => varianceAll(X));
  }

  private gammaFromVariance(cols: number, variance: () => number): number {
    if (this.gammaParam > 0) return this.gammaParam;
    const v = variance();
    if (!(v > 0)) throw new InputError('degenerate-data', 'ocsvm: references have zero variance');
    return 1 / (cols * v);
  }

  fit(X: Mat): void {
    checkFitInput(X, this.name, 2);
    const gamma = this.resolveGamma(X);
    const n = X.rows;
    const g = selfGram(X);
    const sol = solveOneClass(rbfKernelOn(g.G, g.norms, n, allRows(n), gamma), n, this.nu);
    const keep: number[] = [];
    for (let i = 0; i < n; i++) if (sol.alpha[i] > 0) keep.push(i);
    this.gammaValue = gamma;
    this.sv = selectRows(X, keep);
    this.coef = Float64Array.from(keep, (i) => sol.alpha[i]);
    this.rho = sol.rho;
    this.center = colMeans(this.sv);
    this.svNorms = rowSqNorms(this.sv, this.center);
  }

  /** scikit-learn's decision_function: Σ αᵢ K(svᵢ, y) - rho (positive = inlier). */
  decisionFunction(Y: Mat): Float64Array {
    if (!this.sv || !this.coef || !this.center) throw notFitted(this.name);
    checkScoreInput(Y, this.name, this.sv.cols);
    const m = this.sv.rows;
    const D2 = sqDistancesFromGram(
      crossGram(Y, this.sv, this.center),
      rowSqNorms(Y, this.center),
      this.svNorms ?? (this.svNorms = rowSqNorms(this.sv, this.center)),
    );
    const out = new Float64Array(Y.rows);
    for (let i = 0; i < Y.rows; i++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += this.coef[j] * Math.exp(-this.gammaValue * D2[i * m + j]);
      out[i] = s - this.rho;
    }
    return out;
  }

  /** scikit-learn's score_samples: Σ αᵢ K(svᵢ, y) = decision_function + rho. */
  scoreSamples(Y: Mat): Float64Array {
    const d = this.decisionFunction(Y);
    for (let i = 0; i < d.length; i++) d[i] += this.rho;
    return d;
  }

  score(Y: Mat): Float64Array {
    const d = this.decisionFunction(Y);
    for (let i = 0; i < d.length; i++) d[i] = -d[i];
    return d;
  }

  /** Out-of-fold scores from one kernel matrix: each fold's SVM is solved on a sub-block of it. */
  crossFit(X: Mat, folds: Int32Array): Float64Array {
    checkFitInput(X, this.name, 2);
    const n = X.rows;
    // kernel entries formed from the Gram matrix as they are read: no n x n distance matrix is held
    const g = selfGram(X);
    const out = new Float64Array(n);
    const K = foldCount(folds);
    const moments = this.gammaParam > 0 ? null : rowMoments(X);
    for (let f = 0; f < K; f++) {
      const { train, test } = foldSplit(folds, f);
      if (test.length === 0) continue;
      const gamma = this.gammaFromVariance(X.cols, () => varianceOfRows(moments as RowMoments, train));
      const nt = train.length;
      const sol = solveOneClass(rbfKernelOn(g.G, g.norms, n, train, gamma), nt, this.nu);
      const Dte = sqDistancesOn(g.G, g.norms, n, test, train);
      for (let t = 0; t < test.length; t++) {
        let s = 0;
        for (let j = 0; j < nt; j++)
          if (sol.alpha[j] > 0) s += sol.alpha[j] * Math.exp(-gamma * Dte[t * nt + j]);
        out[test[t]] = sol.rho - s;
      }
    }
    return out;
  }

  state(): DetectorState {
    if (!this.sv || !this.coef) throw notFitted(this.name);
    return {
      name: this.name,
      params: { nu: this.nu, gamma: this.gammaParam },
      data: {
        gamma: this.gammaValue,
        rho: this.rho,
        rows: this.sv.rows,
        cols: this.sv.cols,
        sv: this.sv.data,
        coef: this.coef,
      },
    };
  }

  static fromState(s: DetectorState): OcsvmDetector {
    const det = new OcsvmDetector(s.params);
    const d = s.data;
    det.gammaValue = d.gamma as number;
    det.rho = d.rho as number;
    det.sv = mat(d.rows as number, d.cols as number, d.sv as Float32Array | Float64Array);
    det.coef = d.coef as Float64Array;
    det.center = colMeans(det.sv);
    return det;
  }
}
