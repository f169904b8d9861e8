/**
 * Isolation Forest (Liu, Ting & Zhou, 2008) as scikit-learn builds it: 100 trees, each on a subsample of
 * psi = min(256, n) rows drawn without replacement, random feature and a uniform random threshold between
 * the node's min and max, depth limit ceil(log2 psi); path length = depth + c(leaf size), with
 * c(m) = 2(ln(m - 1) + γ) - 2(m - 1)/m, c(2) = 1, c(≤1) = 0. The score is 2^(-E[h] / c(psi)) = -score_samples.
 * Seeded with the project's generator (not Math.random): reproducible, not numpy's stream.
 */
import { Rng } from '../probes/rng.js';
import {
  checkFitInput,
  checkScoreInput,
  notFitted,
  num,
  type Detector,
  type DetectorParams,
  type DetectorState,
} from './detector.js';
import { type Mat } from './linalg.js';

export const IFOREST_DEFAULT_TREES = 100;
export const IFOREST_MAX_SAMPLES = 256;
const EULER_GAMMA = 0.5772156649015329;

/** Average path length of an unsuccessful BST search among m points (the c(m) normaliser). */
export function averagePathLength(m: number): number {
  if (m <= 1) return 0;
  if (m === 2) return 1;
  return 2 * (Math.log(m - 1) + EULER_GAMMA) - (2 * (m - 1)) / m;
}

interface Forest {
  /** Node arrays over all trees; a leaf has feature -1 and its path contribution in `value`. */
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  roots: Int32Array;
  psi: number;
}

class ForestBuilder {
  feature: number[] = [];
  threshold: number[] = [];
  left: number[] = [];
  right: number[] = [];
  value: number[] = [];

  constructor(
    private readonly X: Mat,
    private readonly rng: Rng,
    private readonly maxDepth: number,
  ) {}

  build(idx: Int32Array, depth: number): number {
    const node = this.feature.length;
    this.feature.push(-1);
    this.threshold.push(0);
    this.left.push(-1);
    this.right.push(-1);
    this.value.push(depth + averagePathLength(idx.length));
    if (depth >= this.maxDepth || idx.length <= 1) return node;
    const { cols: d, data } = this.X;
    // draw features until one varies in this node (scikit-learn skips constant features the same way)
    const tried = new Uint8Array(d);
    let nTried = 0;
    while (nTried < d) {
      const f = this.rng.int(d);
      if (tried[f]) continue;
      tried[f] = 1;
      nTried++;
      let lo = Infinity;
      let hi = -Infinity;
      for (let t = 0; t < idx.length; t++) {
        const v = data[idx[t] * d + f];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (!(hi > lo)) continue;
      let thr = lo + (hi - lo) * this.rng.next();
      if (thr >= hi) thr = lo;
      let nl = 0;
      for (let t = 0; t < idx.length; t++) if (data[idx[t] * d + f] <= thr) nl++;
      const li = new Int32Array(nl);
      const ri = new Int32Array(idx.length - nl);
      let a = 0;
      let b = 0;
      for (let t = 0; t < idx.length; t++) {
        if (data[idx[t] * d + f] <= thr) li[a++] = idx[t];
        else ri[b++] = idx[t];
      }
      this.feature[node] = f;
      this.threshold[node] = thr;
      this.left[node] = this.build(li, depth + 1);
      this.right[node] = this.build(ri, depth + 1);
      return node;
    }
    return node;
  }
}

export class IsolationForestDetector implements Detector {
  readonly name = 'isolation_forest' as const;
  private readonly trees: number;
  private readonly seed: number;
  private forest: Forest | null = null;
  private d = 0;

  constructor(params: DetectorParams = {}) {
    this.trees = Math.max(1, Math.floor(num(params, 'trees', IFOREST_DEFAULT_TREES)));
    this.seed = Math.floor(num(params, 'seed', 0));
  }

  fit(X: Mat): void {
    checkFitInput(X, this.name, 2);
    const n = X.rows;
    const psi = Math.min(IFOREST_MAX_SAMPLES, n);
    const rng = new Rng(this.seed);
    const builder = new ForestBuilder(X, rng, Math.ceil(Math.log2(Math.max(2, psi))));
    const roots = new Int32Array(this.trees);
    const perm = new Int32Array(n);
    for (let t = 0; t < this.trees; t++) {
      for (let i = 0; i < n; i++) perm[i] = i;
      // partial Fisher-Yates: the first psi entries are a uniform sample without replacement
      for (let i = 0; i < psi; i++) {
        const j = i + rng.int(n - i);
        const tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
      }
      roots[t] = builder.build(perm.slice(0, psi), 0);
    }
    this.d = X.cols;
    this.forest = {
      feature: Int32Array.from(builder.feature),
      threshold: Float64Array.from(builder.threshold),
      left: Int32Array.from(builder.left),
      right: Int32Array.from(builder.right),
      value: Float64Array.from(builder.value),
      roots,
      psi,
    };
  }

  score(Y: Mat): Float64Array {
    const f = this.forest;
    if (!f) throw notFitted(this.name);
    checkScoreInput(Y, this.name, this.d);
    const d = this.d;
    const out = new Float64Array(Y.rows);
    const norm = averagePathLength(f.psi);
    for (let i = 0; i < Y.rows; i++) {
      let total = 0;
      for (let t = 0; t < f.roots.length; t++) {
        let node = f.roots[t];
        while (f.feature[node] >= 0) {
          node = Y.data[i * d + f.feature[node]] <= f.threshold[node] ? f.left[node] : f.right[node];
        }
        total += f.value[node];
      }
      const mean = total / f.roots.length;
      out[i] = norm > 0 ? Math.pow(2, -mean / norm) : 0.5;
    }
    return out;
  }

  state(): DetectorState {
    const f = this.forest;
    if (!f) throw notFitted(this.name);
    return {
      name: this.name,
      params: { trees: this.trees, seed: this.seed },
      data: {
        d: this.d,
        psi: f.psi,
        feature: f.feature,
        threshold: f.threshold,
        left: f.left,
        right: f.right,
        value: f.value,
        roots: f.roots,
      },
    };
  }

  static fromState(s: DetectorState): IsolationForestDetector {
    const det = new IsolationForestDetector(s.params);
    const d = s.data;
    det.d = d.d as number;
    det.forest = {
      feature: d.feature as Int32Array,
      threshold: d.threshold as Float64Array,
      left: d.left as Int32Array,
      right: d.right as Int32Array,
      value: d.value as Float64Array,
      roots: d.roots as Int32Array,
      psi: d.psi as number,
    };
    return det;
  }
}
