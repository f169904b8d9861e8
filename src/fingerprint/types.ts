/**
 * A fingerprint: what a model does on the probes, as named feature blocks (float32 vectors), plus
 * reference-free self-check statistics. Two fingerprints compare only when their probe hashes match.
 * On-disk format in src/fingerprint/format.ts and docs/format.md.
 */
import type { TriggerEvidence } from '../selfcheck/evidence.js';

export const FINGERPRINT_FORMAT_VERSION = 1;

/**
 * What the feature blocks MEAN (FINGERPRINT_FORMAT_VERSION numbers how they are stored). Bump it whenever a
 * block's values change meaning for the same model and probes, even at the same length: a baseline's members
 * and a candidate compare only at one features version, else the p-values are wrong without any visible sign.
 * History:
 *   1  every fingerprint and baseline made before this field existed (up to 2026-11-23)
 *   2  the `trigger-map` patch map measured on up to 64 of the user's samples (was the sweep's 8 inputs)
 *   3  the `trigger-map` block also without samples: measured on up to 64 inputs of the mined base
 *   4  self:trigger = -log10 of trigger probing's zoo-free class-anomaly p-value (was the RMS of per-tier
 *      gain z); self:weight-outlier = -log10 of the final-layer row anomaly's p-value (was the robust z of
 *      the row norms); the trigger blocks' blend family draws gratings, grey and bright images too
 *   5  RGB (3-channel) inputs: the trigger blocks' patch family screens coloured corner patches too (random
 *      colours per channel, six saturated colours; src/selfcheck/colour-fills.ts); 1-channel inputs unchanged
 */
export const FEATURES_VERSION = 5;

/**
 * The features version a fingerprint header, baseline manifest or partial was made with. The one place
 * that says a record without the field predates it (version 1).
 */
export function featuresVersionOf(record: { features?: number }): number {
  return record.features ?? 1;
}

export interface FingerprintHeader {
  formatVersion: number;
  tool: { name: string; version: string };
  model: { path: string; sha256: string; signature: string; classes: number };
  probes: { hash: string; count: number; seed: number; kinds: string[] };
  /** Layers captured (tensor names), in graph order. */
  layers: string[];
  createdAt: string;
  /** FEATURES_VERSION of the tool that computed the blocks; absent in files made before it existed (= 1, see featuresVersionOf). */
  features?: number;
  /** The scan budget and what each check got (absent in files made before budgets existed). */
  budget?: BudgetRecord;
}

/** Why a check did not run on a model. */
export type SkipReason =
  /** the budget setting affords too few forward passes of this model */
  | 'budget'
  /** the check needs one float image-like input */
  | 'input-kind'
  /** the check needs class scores of at least 3 classes */
  | 'classes'
  /** the check needs one score per class ([N, classes]); the first output has more axes (a map, a sequence) */
  | 'output-kind'
  /** the caller reads nothing the check computes (a scan without a baseline does not read the patch map) */
  | 'not-read'
  /** the base inputs were the generated probes: the patch map is kept only on samples or a mined base */
  | 'base'
  /** no final linear layer was found */
  | 'no-final-layer'
  /** switched off by the caller */
  | 'disabled';

/** What one check got: forward passes it ran, and why it did not run when it did not. */
export interface CheckRecord {
  passes: number;
  skipped?: SkipReason;
}

/** The budget a fingerprint was made with (src/fingerprint/budget.ts) and what each check got. */
export interface BudgetRecord {
  /** The setting: 'fast' | 'default' | 'thorough', a number of multiply-accumulates, or 'legacy'. */
  setting: string;
  /** Its allowance in multiply-accumulates. */
  macs: number;
  /** Estimated multiply-accumulates of one forward pass of one input. */
  macsPerPass: number;
  /** By check: 'probes' (the probe pass), 'trigger-probe' (mining included), 'patch-map' (its own pass), 'final-layer-weights'. */
  checks: Record<string, CheckRecord>;
  /** Trigger probing: candidate triggers screened, of those generated (fewer: the budget cut the search). */
  triggerCandidates?: { screened: number; total: number };
  /** Trigger probing stopped refining on decisive evidence (src/selfcheck/decisive.ts). */
  stoppedEarly?: boolean;
}

/** What trigger probing found to move the model (a self-check's and a report's `trigger`). */
export interface FoundTrigger {
  kind: string;
  location?: string;
  flipRate: number;
  zScore: number;
  /** Token triggers (kind "tokens", text models): the token ids inserted, in order. */
  tokens?: number[];
  /** Their words, when a vocabulary file named them (src/probes/vocab.ts). */
  words?: string[];
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
  trigger?: FoundTrigger;
  /** Trigger probing only: what the triggers were stamped on (the user's samples, inputs mined per model from a generated pool, or the generated probes). */
  basis?: 'samples' | 'probes' | 'mined' | 'synthesised';
  /**
   * Trigger probing only: asked to synthesise its inputs (--synthesise-base) and could not, why (the inputs
   * were mined instead). Stored only here; the report's notes say it (src/scan/option-notes.ts).
   */
  notSynthesised?: string;
  /**
   * The check's own p-value, with no reference models: its statistic against the model's own other classes
   * (src/selfcheck/class-anomaly.ts, src/fingerprint/final-layer-anomaly.ts). `score` is -log10 of it.
   */
  pValue?: number;
  /** The most significant tests behind `pValue`: which test, the class it points at, its z and p. */
  evidence?: { test: string; cls: number; z: number; pValue: number }[];
  /**
   * Token trigger probing on the user's texts only: the same score with natural keywords discounted (a
   * class whose strongest word is frequent in the texts the model puts in that class and rare in the others':
   * src/selfcheck/token-keywords.ts), the class it points at, and the discounted word of the search's own
   * target class (token id, and its word with a vocabulary file), if any. Read by the no-baseline verdict only
   * (src/score/final.ts triggerTestP).
   */
  keywordAdjusted?: { score: number; targetClass: number; discounted: number[]; words?: string[] };
  /**
   * Trigger probing only: the evidence points at no single class (then `targetClass` is absent): several
   * classes stand out on their own, or one small trigger maps each class to another (all-to-all).
   */
  multiTarget?: {
    kind: 'several' | 'all-to-all';
    classes: number[];
    mapping?: { location: string; changed: number; consistent: number; spread: number; sources: number };
  };
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
  /**
   * In memory only, when asked for (FingerprintOptions.evidence): what trigger probing found, for the
   * report's pictures. Never written to a fingerprint file (format.ts writes header, selfChecks, blocks).
   */
  evidence?: TriggerEvidence;
}
