/**
 * A small seeded autoencoder trained in TypeScript: standardised inputs z -> tanh(W1 z + b1) -> W2 h + b2,
 * mean squared reconstruction loss, full-batch Adam. The score is the mean squared reconstruction error of
 * a row in its original units: a model whose fingerprint the clean references' structure cannot explain
 * reconstructs badly. When rows have more than `maxDim` features (default AE_DEFAULT_MAX_DIM = 32) the
 * network works on the first min(maxDim, n - 1) principal-component scores (tens of references cannot train
 * a 16384-wide layer) and the error adds what those components leave out, i.e. it is the reconstruction
 * error of the composite encoder PCA -> network, measured in the full feature space.
 * Hand-written (about 100 lines) rather than pulling TensorFlow.js into the action for a 2-layer network.
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
import { fitPca, pcaFromState, pcaToState, pcaTransform, type PcaModel } from './pca.js';

export const AE_DEFAULT_MAX_DIM = 32;
export const AE_DEFAULT_EPOCHS = 300;
export const AE_DEFAULT_LEARNING_RATE = 0.01;
/** Standard deviations below this count as zero (that feature is then only centred). */
const STD_FLOOR = 1e-12;

interface Net {
  p: number;
  h: number;
  w1: Float64Array; // h x p
  b1: Float64Array;
  w2: Float64Array; // p x h
  b2: Float64Array;
}

function forward(net: Net, z: Float64Array, zo: number, hid: Float64Array, out: Float64Array): void {
  const { p, h, w1, b1, w2, b2 } = net;
  for (let a = 0; a < h; a++) {
    let s = b1[a];
    for (let j = 0; j < p; j++) s += w1[a * p + j] * z[zo + j];
    hid[a] = Math.tanh(s);
  }
  for (let j = 0; j < p; j++) {
    let s = b2[j];
    for (let a = 0; a < h; a++) s += w2[j * h + a] * hid[a];
    out[j] = s;
  }
}

export class AutoencoderDetector implements Detector {
  readonly name = 'autoencoder' as const;
  private readonly hiddenParam: number;
  private readonly epochs: number;
  private readonly lr: number;
  private readonly maxDim: number;
  private readonly seed: number;
  private d = 0;
  private pca: PcaModel | null = null;
  private mean: Float64Array | null = null;
  private std: Float64Array | null = null;
  private net: Net | null = null;

  constructor(params: DetectorParams = {}) {
    this.hiddenParam = Math.floor(num(params, 'hidden', 0));
    this.epochs = Math.max(1, Math.floor(num(params, 'epochs', AE_DEFAULT_EPOCHS)));
    this.lr = num(params, 'learningRate', AE_DEFAULT_LEARNING_RATE);
    this.maxDim = Math.floor(num(params, 'maxDim', AE_DEFAULT_MAX_DIM));
    this.seed = Math.floor(num(params, 'seed', 0));
  }

  /** Reduced (optional PCA) and standardised copy of Y, rows x p. */
  private prepare(Y: Mat): Float64Array {
    return this.standardise(this.pca ? pcaTransform(this.pca, Y) : Y);
  }

  private standardise(R: Mat): Float64Array {
    const p = R.cols;
    const out = new Float64Array(R.rows * p);
    const mean = this.mean as Float64Array;
    const std = this.std as Float64Array;
    for (let i = 0; i < R.rows; i++)
      for (let j = 0; j < p; j++) out[i * p + j] = (R.data[i * p + j] - mean[j]) / std[j];
    return out;
  }

  fit(X: Mat): void {
    checkFitInput(X, this.name, 2);
    this.d = X.cols;
    const reduced =
      X.cols > this.maxDim ? fitPca(X, { maxComponents: Math.min(this.maxDim, X.rows - 1) }) : null;
    this.pca = reduced ? reduced.model : null;
    const R = reduced ? reduced.trainScores : X;
    const n = R.rows;
    const p = R.cols;
    const mean = new Float64Array(p);
    const std = new Float64Array(p);
    for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) mean[j] += R.data[i * p + j] / n;
    for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) std[j] += (R.data[i * p + j] - mean[j]) ** 2 / n;
    for (let j = 0; j < p; j++) std[j] = Math.sqrt(std[j]) > STD_FLOOR ? Math.sqrt(std[j]) : 1;
    this.mean = mean;
    this.std = std;
    const Z = this.standardise(R);
    const h = this.hiddenParam > 0 ? this.hiddenParam : Math.max(2, Math.min(16, Math.floor(p / 4)));
    const rng = new Rng(this.seed);
    const net: Net = {
      p,
      h,
      w1: Float64Array.from({ length: h * p }, () => rng.normal(0, Math.sqrt(1 / p))),
      b1: new Float64Array(h),
      w2: Float64Array.from({ length: p * h }, () => rng.normal(0, Math.sqrt(1 / h))),
      b2: new Float64Array(p),
    };
    this.train(net, Z, n);
    this.net = net;
  }

  private train(net: Net, Z: Float64Array, n: number): void {
    const { p, h } = net;
    const params = [net.w1, net.b1, net.w2, net.b2];
    const grads = params.map((a) => new Float64Array(a.length));
    const m1 = params.map((a) => new Float64Array(a.length));
    const m2 = params.map((a) => new Float64Array(a.length));
    const hid = new Float64Array(h);
    const out = new Float64Array(p);
    const dOut = new Float64Array(p);
    const dHid = new Float64Array(h);
    const beta1 = 0.9;
    const beta2 = 0.999;
    for (let epoch = 1; epoch <= this.epochs; epoch++) {
      for (const g of grads) g.fill(0);
      const [gw1, gb1, gw2, gb2] = grads;
      for (let i = 0; i < n; i++) {
        forward(net, Z, i * p, hid, out);
        for (let j = 0; j < p; j++) dOut[j] = (2 * (out[j] - Z[i * p + j])) / (n * p);
        dHid.fill(0);
        for (let j = 0; j < p; j++) {
          gb2[j] += dOut[j];
          for (let a = 0; a < h; a++) {
            gw2[j * h + a] += dOut[j] * hid[a];
            dHid[a] += dOut[j] * net.w2[j * h + a];
          }
        }
        for (let a = 0; a < h; a++) {
          const g = dHid[a] * (1 - hid[a] * hid[a]);
          gb1[a] += g;
          for (let j = 0; j < p; j++) gw1[a * p + j] += g * Z[i * p + j];
        }
      }
      const c1 = 1 - Math.pow(beta1, epoch);
      const c2 = 1 - Math.pow(beta2, epoch);
      for (let t = 0; t < params.length; t++) {
        const w = params[t];
        const g = grads[t];
        for (let q = 0; q < w.length; q++) {
          m1[t][q] = beta1 * m1[t][q] + (1 - beta1) * g[q];
          m2[t][q] = beta2 * m2[t][q] + (1 - beta2) * g[q] * g[q];
          w[q] -= (this.lr * (m1[t][q] / c1)) / (Math.sqrt(m2[t][q] / c2) + 1e-8);
        }
      }
    }
  }

  /**
   * Squared norm of each centred row outside the kept principal components: the part the PCA front end
   * drops, which the composite encoder (PCA then network) therefore fails to reconstruct as well.
   */
  private residualEnergy(Y: Mat): Float64Array {
    const pca = this.pca as PcaModel;
    const Z = pcaTransform(pca, Y);
    const { cols: d, data } = Y;
    const out = new Float64Array(Y.rows);
    for (let i = 0; i < Y.rows; i++) {
      let total = 0;
      for (let j = 0; j < d; j++) total += (data[i * d + j] - pca.mean[j]) ** 2;
      let kept = 0;
      for (let c = 0; c < Z.cols; c++) kept += Z.data[i * Z.cols + c] ** 2;
      out[i] = Math.max(0, total - kept);
    }
    return out;
  }

  score(Y: Mat): Float64Array {
    const net = this.net;
    if (!net) throw notFitted(this.name);
    checkScoreInput(Y, this.name, this.d);
    const Z = this.prepare(Y);
    const p = net.p;
    const std = this.std as Float64Array;
    const resid = this.pca ? this.residualEnergy(Y) : null;
    const hid = new Float64Array(net.h);
    const out = new Float64Array(p);
    const res = new Float64Array(Y.rows);
    for (let i = 0; i < Y.rows; i++) {
      forward(net, Z, i * p, hid, out);
      let s = 0;
      // error in the network's input units (PCA scores, not standardised) so it adds to the PCA residual
      for (let j = 0; j < p; j++) s += ((out[j] - Z[i * p + j]) * std[j]) ** 2;
      if (resid) s += resid[i];
      res[i] = s / this.d;
    }
    return res;
  }

  state(): DetectorState {
    const net = this.net;
    if (!net || !this.mean || !this.std) throw notFitted(this.name);
    return {
      name: this.name,
      params: {
        hidden: this.hiddenParam,
        epochs: this.epochs,
        learningRate: this.lr,
        maxDim: this.maxDim,
        seed: this.seed,
      },
      data: {
        d: this.d,
        pca: this.pca ? pcaToState(this.pca) : null,
        mean: this.mean,
        std: this.std,
        p: net.p,
        h: net.h,
        w1: net.w1,
        b1: net.b1,
        w2: net.w2,
        b2: net.b2,
      },
    };
  }

  static fromState(s: DetectorState): AutoencoderDetector {
    const det = new AutoencoderDetector(s.params);
    const d = s.data;
    det.d = d.d as number;
    det.pca = d.pca ? pcaFromState(d.pca as { [key: string]: unknown }) : null;
    det.mean = d.mean as Float64Array;
    det.std = d.std as Float64Array;
    det.net = {
      p: d.p as number,
      h: d.h as number,
      w1: d.w1 as Float64Array,
      b1: d.b1 as Float64Array,
      w2: d.w2 as Float64Array,
      b2: d.b2 as Float64Array,
    };
    return det;
  }
}
