/**
 * The gradient component's public types: what a caller asks for (GradientSpec: an optional prelude that
 * maps parameters to the model's input, a weighted sum of objective terms, the tensors to differentiate
 * with respect to), what the builder returns (GradientGraph: the combined ONNX bytes and the names of its
 * feeds and outputs), and the one error a graph without a rule raises (GradientUnsupported).
 *
 * Conventions (docs/gradients.md): classification terms are means over the batch; terms on tensors
 * (l1, l2, tv, l2Bound) are means over the first axis of per-sample sums, so a [1,1,H,W] mask gives its sum.
 */

/**
 * A tensor an objective term reads or a gradient is taken with respect to:
 *  - 'input': the model's (first) input as the model sees it (after the prelude, if there is one);
 *  - { prelude: name }: a prelude's parameter or value ('mask', 'maskLogits', 'pattern', 'data', ...);
 *  - { model: name }: any tensor of the model's graph by name (e.g. an embedding Gather's output).
 */
export type TensorRef = 'input' | { prelude: string } | { model: string };

/** A weight: a fixed number, or a scalar float fed at every run (e.g. Neural Cleanse's changing lambda). */
export type Weight = number | { feed: string };

/** A class: fixed, or per sample from an int feed of shape [N] (class indices). */
export type ClassTarget = number | { feed: string };

export type ObjectiveTerm =
  /** mean_i logits[i, target_i] of a model output (default: the first). */
  | { kind: 'logit'; target: ClassTarget; output?: string; weight?: Weight }
  /** mean_i log_softmax(logits)[i, target_i]. */
  | { kind: 'logSoftmax'; target: ClassTarget; output?: string; weight?: Weight }
  /** mean_i -log_softmax(logits)[i, target_i]: PyTorch's cross_entropy with reduction 'mean'. */
  | { kind: 'crossEntropy'; target: ClassTarget; output?: string; weight?: Weight }
  /** mean over the first axis of sum |t|. */
  | { kind: 'l1'; of: TensorRef; weight?: Weight }
  /** mean over the first axis of sum t^2 (the squared L2 norm). */
  | { kind: 'l2'; of: TensorRef; weight?: Weight }
  /**
   * Total variation of an image tensor [N, C, H, W]: mean over N of sum |dh|^p + sum |dw|^p over the
   * differences of vertical and horizontal neighbours (p = 1: anisotropic L1; p = 2: squared).
   */
  | { kind: 'tv'; of: TensorRef; p?: 1 | 2; weight?: Weight }
  /** mean over the first axis of relu(sum t^2 - bound^2): zero inside the L2 ball of radius `bound`. */
  | { kind: 'l2Bound'; of: TensorRef; bound: number; weight?: Weight }
  /**
   * DeepInversion's feature-statistics term: for each (inference) BatchNormalization whose input depends
   * on the differentiated tensors, ||batch mean - running mean||_2 + ||batch var - running var||_2 of its
   * input over (N, spatial), the variance biased. `nodes` restricts it to BN nodes by name (default all).
   */
  | { kind: 'bnStats'; nodes?: string[]; weight?: Weight };

/**
 * A prelude: a small graph from parameter feeds (and the clean inputs, 'data' [N, C, H, W] in probe space)
 * to the model's input. The image it builds, x', is optionally clamped and then normalised
 * ((x' - mean) / std per channel) into the model's input space. Parameters are unconstrained logits;
 * values are what they mean (names in parentheses are the feeds / the readable values):
 *  - 'identity': x' = data (optimise 'data' itself, e.g. DeepInversion in probe space);
 *  - 'patch' (Neural Cleanse): x' = (1 - m) * data + m * p, m = sigmoid('maskLogits' [1,1,H,W]) ('mask'),
 *    p = sigmoid('patternLogits' [1,C,H,W]) ('pattern');
 *  - 'blend': x' = (1 - a) * data + a * p, a = sigmoid('alphaLogit' [1]) ('alpha'), p as above;
 *  - 'colour': x' = data * (1 + 'contrast' [1,C,1,1]) + 'brightness' [1,C,1,1] (per-channel gain and shift;
 *    a single brightness/contrast is the same value on every channel);
 *  - 'additive': x' = data + d, d = 'delta' [1,C,H,W] (its bound is an l2Bound term on { prelude: 'delta' }),
 *    blurred by a fixed separable Gaussian of `blurSigma` pixels when given ('smooth', read as 'perturbation').
 */
export interface PreludeSpec {
  kind: 'identity' | 'patch' | 'blend' | 'colour' | 'additive';
  /** Per-channel normalisation applied last (the model expects normalised inputs). */
  normalize?: { mean: number[]; std: number[] };
  /** Clamp x' into [lo, hi] before normalising (e.g. [0, 1] pixels). */
  clamp?: [number, number];
  /** 'additive' only: sigma (pixels) of the Gaussian that smooths the perturbation. */
  blurSigma?: number;
}

export interface GradientSpec {
  /** Maps parameter feeds to the model's (first, float32 image) input; absent: the input is fed directly. */
  prelude?: PreludeSpec;
  /** The objective: the weighted sum of these terms (weights default to 1). */
  terms: ObjectiveTerm[];
  /** What to differentiate with respect to (default: ['input'], or every prelude parameter with a prelude). */
  wrt?: TensorRef[];
}

/** How a feed is given to GradientSession.run. */
export type FeedKind =
  /** A float32 tensor (FloatTensor). */
  | 'float'
  /** A scalar float32 (a number). */
  | 'scalar'
  /** Class indices, one per sample (number[]; fed as int64 [N]). */
  | 'classes'
  /** An int64 tensor for a model input of integer type (token ids). */
  | 'int';

export interface FeedInfo {
  /** The name the graph uses. */
  graphName: string;
  kind: FeedKind;
  /** Declared shape (symbolic dims as strings). */
  shape: (number | string | null)[];
}

/** The built graph: bytes for ONNX Runtime and the map from the caller's names to the graph's. */
export interface GradientGraph {
  bytes: Uint8Array;
  /** Feeds by the caller's name (the model's input names, prelude feeds, weight and target feeds). */
  feeds: Record<string, FeedInfo>;
  /** The scalar objective's output name. */
  objective: string;
  /** Each term's unweighted value (a scalar), in the order of spec.terms. */
  terms: string[];
  /** Gradient outputs by key: 'input', a prelude name, or a model tensor name. */
  grads: Record<string, string>;
  /** The model's own float32 outputs (logits), computed by the same forward pass. */
  outputs: Record<string, string>;
  /** BatchNormalization nodes a bnStats term matched (empty when the graph has none). */
  bnNodes: string[];
  /** Nodes of the forward graph, and of the whole gradient graph. */
  forwardNodes: number;
  totalNodes: number;
  /** The model's ai.onnx opset (the backward ops are written in it). */
  opset: number;
}

/** One reason the graph cannot be differentiated: the operator, the node, and why. */
export interface UnsupportedItem {
  op: string;
  node: string;
  why: string;
}

/**
 * The graph needs a gradient this module has no rule for (an operator, an attribute value, an opset, a
 * data type or a shape it cannot resolve). Names every offending node, so a caller can say what it could
 * not do; callers fall back to what they did without gradients.
 */
export class GradientUnsupported extends Error {
  readonly items: UnsupportedItem[];
  constructor(file: string, items: UnsupportedItem[]) {
    const shown = items
      .slice(0, 8)
      .map((i) => `${i.op} ("${i.node}"): ${i.why}`)
      .join('; ');
    const more = items.length > 8 ? `; and ${items.length - 8} more` : '';
    super(`${file}: no gradient for ${shown}${more}`);
    this.name = 'GradientUnsupported';
    this.items = items;
  }

  /** The distinct operators named. */
  get ops(): string[] {
    return [...new Set(this.items.map((i) => i.op))];
  }
}

/** A mistake in the GradientSpec itself (an unknown tensor, a prelude on a model it cannot fit). */
export class GradientSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GradientSpecError';
  }
}

/** A float32 tensor in and out of a gradient session. */
export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

/** What GradientSession.run takes per feed: see FeedKind. */
export type Feed = FloatTensor | number | readonly number[] | { data: BigInt64Array; dims: number[] };

export interface GradientResult {
  objective: number;
  /** Unweighted term values, in the order of spec.terms. */
  terms: number[];
  grads: Record<string, FloatTensor>;
  outputs: Record<string, FloatTensor>;
}
