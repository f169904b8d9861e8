/** Probe sets: the seeded inputs every model of one architecture is fed (see generate.ts). */
import type { ElementType } from '../model/types.js';

export type ProbeKind = 'gaussian' | 'uniform' | 'edge' | 'pattern' | 'samples';

export interface ProbeSpec {
  /** Number of probes (default DEFAULT_PROBE_COUNT). */
  count?: number;
  /** Generator seed (default 0). */
  seed?: number;
  /** Kinds to draw, or 'mixed' (the default, a documented blend: see generate.ts MIXED_WEIGHTS). */
  kinds?: ProbeKind[] | 'mixed';
  /** Value range for float inputs (default [0, 1], image-like). uint8 inputs always use [0, 255]. */
  range?: [number, number];
  /** Sizes for symbolic non-batch dims, by dim name (e.g. {sequence: 128}) or "input.axis" (e.g. {"ids.1": 128}). */
  dims?: Record<string, number>;
  /** Vocabulary size for integer token-id inputs (inferred from a Gather embedding when absent). */
  vocab?: number;
  /**
   * A folder of .npy/.png/.jpg samples (used by the 'samples' kind); for a token-id input a folder of .txt
   * (one text per line) and int32/int64 .npy files, or one such file (text-samples.ts).
   */
  samplesDir?: string;
  /**
   * The text model's vocabulary file (vocab.ts): tokenises .txt samples and names the words trigger probing
   * finds. It enters the probe-set hash only through the samples it tokenised.
   */
  vocabFile?: string;
  /**
   * Per-channel normalisation the model expects (torchvision's Normalize done outside the export): its one
   * float input is fed `(x - mean[c]) / std[c]` of the probe value x (in `range`). One value: every channel.
   * See normalize.ts.
   */
  normalize?: NormalizeSpec;
  /**
   * No samples: trigger probing stamps its triggers on inputs synthesised from the model by gradient
   * (--synthesise-base, src/selfcheck/synthesise.ts) instead of inputs mined from a generated pool. Opt-in.
   */
  synthesiseBase?: boolean;
  /**
   * Text models: gradient-based trigger inversion through the embedding as a further candidate source of
   * the token trigger search (--token-inversion, src/selfcheck/token-invert.ts). Opt-in.
   */
  tokenInversion?: boolean;
}

export interface NormalizeSpec {
  mean: number[];
  std: number[];
}

/**
 * A normalisation resolved for one input (normalize.ts resolveNormalization): element i of a probe is in
 * channel floor(i / inner) % channels and is fed `x * scale[c] + shift[c]` = `(x - mean[c]) / std[c]`.
 */
export interface InputNormalization {
  channels: number;
  /** Elements of one channel before the next begins: H*W for CHW, 1 for HWC, the whole probe for one channel. */
  inner: number;
  scale: number[];
  shift: number[];
}

export type ProbeData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array;

export interface ProbeInput {
  name: string;
  dtype: ElementType;
  /** Shape of one probe (no batch axis). */
  sampleShape: number[];
  /** 'dynamic': symbolic batch axis; 'fixed': numeric batch axis of fixedBatch; 'none': no batch axis. */
  batch: 'dynamic' | 'fixed' | 'none';
  fixedBatch?: number;
  /** count x prod(sampleShape) values, probe-major. */
  data: ProbeData;
  /** Applied (float inputs only) where the data becomes an ORT tensor; `data` itself stays in probe space. */
  normalize?: InputNormalization;
}

export interface ProbeSet {
  count: number;
  seed: number;
  /** The kinds drawn (resolved from the spec). */
  kinds: ProbeKind[];
  /** The kind of each probe, in order. */
  probeKinds: ProbeKind[];
  range: [number, number];
  inputs: ProbeInput[];
  /**
   * sha256 over what determines the probes (generator version, seed, kinds, shapes, range, vocab, samples,
   * and the input normalisation when there is one).
   */
  hash: string;
  /**
   * Up to MAX_TRIGGER_SAMPLES of the user's samples (all of the folder's, evenly spaced when there are more),
   * for the single float input: the base inputs of reference-free trigger probing, which gains power from
   * more real inputs than the probe set holds. Absent without a samples folder. Covered by `hash` (the
   * samples' digest is in it).
   */
  triggerSamples?: { data: Float32Array; count: number };
  /**
   * The same for a token-id input: up to MAX_TRIGGER_SAMPLES of the user's texts as ids (count x seq), the
   * texts token trigger probing inserts its candidate words into. Absent without samples.
   */
  triggerTokens?: { data: Int32Array; count: number };
}
