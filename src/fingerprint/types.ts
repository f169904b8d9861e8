/**
 * A fingerprint: what a model does on the probes, as named feature blocks (float32 vectors), plus
 * reference-free self-check statistics. Two fingerprints compare only when their probe hashes match.
 * On-disk format in src/fingerprint/format.ts and docs/format.md.
 */
export const FINGERPRINT_FORMAT_VERSION = 1;

export interface FingerprintHeader {
  formatVersion: number;
  tool: { name: string; version: string };
  model: { path: string; sha256: string; signature: string; classes: number };
  probes: { hash: string; count: number; seed: number; kinds: string[] };
  /** Layers captured (tensor names), in graph order. */
  layers: string[];
  createdAt: string;
}

/**
 * Reference-free statistics computed from the model alone (trigger probing, final-layer weight anomaly).
 * Each `score` is higher = more suspicious and comparable across models of one architecture.
 */
export interface SelfCheck {
  score: number;
  /** Suspected target class, when the check points at one. */
  targetClass?: number;
  detail?: string;
  /** Trigger probing only: what moved the model. */
  trigger?: { kind: string; location?: string; flipRate: number; zScore: number };
  /** Trigger probing only: what the triggers were stamped on (the user's samples, inputs mined per model from a generated pool, or the generated probes). */
  basis?: 'samples' | 'probes' | 'mined';
}

export interface Fingerprint {
  header: FingerprintHeader;
  /**
   * Feature blocks by name. Conventions:
   *   "logits"            probes x classes, class-aligned (comparable across independently trained models)
   *   "softmax-stats"     per-class summaries of the softmax over the probes
   *   "gram:<layer>"      upper triangle of the probe-by-probe linear-CKA-normalised Gram matrix
   *   "sorted:<layer>"    per-probe sorted-activation quantiles (hidden units are permuted across models)
   *   "raw:<layer>"       raw activations (only comparable for one training run's descendants)
   *   "weights:final"     per-class statistics of the final layer's weight rows and bias
   *   "weights:layers"    per-layer norms and top singular values
   *   "trigger"           per-class flip rates / logit gains under stamped candidate triggers
   */
  blocks: Record<string, Float32Array>;
  selfChecks: Record<string, SelfCheck>;
}
