/**
 * Adam (Kingma & Ba, 2015) on a flat Float32Array of parameters, minimising: the optimiser trigger inversion
 * (trigger-inversion.ts) runs on the mask and pattern logits. A dozen lines of arithmetic over a few hundred
 * to a few thousand numbers per step; the maintained JS optimisers live inside training frameworks
 * (@tensorflow/tfjs) that would bring their own tensors and backends for this, so it is written here.
 *
 * Deterministic: no randomness, the same gradients in the same order give the same parameters bit for bit.
 */

export interface AdamOptions {
  /** Step size (default 0.1: Neural Cleanse's rate on unconstrained mask logits). */
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Adam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;
  readonly lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;

  constructor(size: number, opts: AdamOptions = {}) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
    this.lr = opts.lr ?? 0.1;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.t;
  }

  /** One descent step: params -= lr * mhat / (sqrt(vhat) + eps), in place. */
  step(params: Float32Array, grad: ArrayLike<number>): void {
    if (params.length !== this.m.length || grad.length !== this.m.length)
      throw new Error(
        `Adam: ${params.length} parameters and ${grad.length} gradients for a state of ${this.m.length}`,
      );
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    for (let i = 0; i < params.length; i++) {
      const g = grad[i];
      // A NaN gradient (a model that overflows) must not poison the state: treat it as no signal.
      const gi = Number.isFinite(g) ? g : 0;
      this.m[i] = this.beta1 * this.m[i] + (1 - this.beta1) * gi;
      this.v[i] = this.beta2 * this.v[i] + (1 - this.beta2) * gi * gi;
      params[i] -= (this.lr * (this.m[i] / c1)) / (Math.sqrt(this.v[i] / c2) + this.eps);
    }
  }
}
