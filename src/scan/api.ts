/**
 * The core's entry points as the CLI and the action call them. Types only: the implementations live in
 * src/scan/scan.ts and src/baseline/*.ts. Keeping the shapes here lets the shells (CLI, action) depend on
 * an interface at their I/O edge.
 */
import type { FailOn, OnNotAssessed, ScanReport, ScannedModel } from '../report/types.js';
import type { TriggerEvidence } from '../selfcheck/evidence.js';
import type { ScanBudget } from '../fingerprint/budget.js';

export interface ProbeOptions {
  /** Number of probes (default DEFAULT_PROBE_COUNT). */
  count?: number;
  seed?: number;
  /** Probe kinds, e.g. ["gaussian","uniform","edge","pattern"]. */
  kinds?: string[];
  /** Value range of float inputs, default [0, 1]. */
  range?: [number, number];
  /** Folder of user probe samples (.npy, PNG, JPEG). */
  samplesDir?: string;
  /** Values for symbolic non-batch dims, e.g. { seq: 32 }. */
  dims?: Record<string, number>;
  /** Vocabulary size for integer token-id inputs. */
  vocab?: number;
  /**
   * A text model's vocabulary file (src/probes/vocab.ts: one token per line, the line number is the id, or a
   * JSON object {"token": id}): names the trigger words trigger probing finds and tokenises .txt samples. A
   * baseline keeps a copy.
   */
  vocabFile?: string;
  /**
   * Per-channel normalisation the model expects of its one float image input (torchvision's Normalize
   * applied outside the export): it is fed `(x - mean[c]) / std[c]` of probe/sample values x in `range`.
   * One value applies to every channel. Stored in a baseline with the other probe settings.
   */
  normalize?: { mean: number[]; std: number[] };
  /**
   * No samples: trigger probing stamps its triggers on inputs synthesised from the model (--synthesise-base,
   * src/selfcheck/synthesise.ts) instead of mined ones. Opt-in; stored in a baseline with the other settings.
   */
  synthesiseBase?: boolean;
  /**
   * Text models: trigger inversion through the embedding beside the token search (--token-inversion,
   * src/selfcheck/token-invert.ts). Opt-in; stored in a baseline with the other settings.
   */
  tokenInversion?: boolean;
}

export interface EngineOptions {
  probes?: ProbeOptions;
  /** Layers to capture: names, or "auto". */
  layers?: string[] | 'auto';
  batchSize?: number;
  /** Workspace root: model paths resolving outside it (or through symlinks leaving it) are refused. */
  workspace?: string;
  /**
   * The scan budget (src/fingerprint/budget.ts); default: the default setting. A scan against a baseline
   * uses the baseline's, and notes it when this one differs.
   */
  budget?: ScanBudget;
  /**
   * Fixed per-model time allowance in seconds (default MODEL_TIME_LIMIT_MS / 1000), on top of the work the
   * budget plans. Only how long a model may take; never what is computed.
   */
  timeLimitS?: number;
  /**
   * No baseline, image models: trigger inversion by gradient beside trigger probing in the verdict
   * (--inversion, src/fingerprint/inversion-selfcheck.ts). Opt-in; ignored with a baseline.
   */
  inversion?: boolean;
}

export type ProgressEvent =
  | { kind: 'start'; total: number }
  | { kind: 'model-done'; path: string; index: number; total: number; ms: number; error?: string };

export interface ScanOptions extends EngineOptions {
  /** Baseline directory; null or undefined: reference-free checks only (said plainly in the report's notes). */
  baselineDir?: string | null;
  failOn: FailOn;
  /** What a model that was not assessed does to the gate (default 'fail'). */
  onNotAssessed?: OnNotAssessed;
  onProgress?: (e: ProgressEvent) => void;
  /**
   * Receives, per scanned model that trigger probing ran on, what it found (the trigger, the inputs it was
   * stamped on, the patch map) with the model's level, for the report's pictures; the JSON report does not
   * carry it. Absent: nothing is kept. Keep only what you will show: the inputs can be large.
   */
  onEvidence?: EvidenceSink;
}

/** Called with a model's path (as given to the scan), its trigger evidence and its risk level (or not assessed). */
export type EvidenceSink = (
  path: string,
  evidence: TriggerEvidence,
  level: ScannedModel['riskLevel'],
) => void;

export type ScanFn = (paths: string[], opts: ScanOptions) => Promise<ScanReport>;

export interface BaselineBuildOptions extends EngineOptions {
  out: string;
  onProgress?: (e: ProgressEvent) => void;
}

export interface BaselineInfo {
  id: string;
  dir: string;
  members: { path: string; sha256: string }[];
  signature: string;
  probeHash: string;
  /** 1/(n+1): the smallest p-value reachable by rank alone. */
  minRankPValue: number;
  /** Whether the high band (p <= ~0.016) is reachable, by rank or through the fitted tail. */
  highReachable: boolean;
}

export type BuildBaselineFn = (paths: string[], opts: BaselineBuildOptions) => Promise<BaselineInfo>;
export type AddToBaselineFn = (
  dir: string,
  paths: string[],
  opts: Omit<BaselineBuildOptions, 'out'> & { out?: string },
) => Promise<BaselineInfo>;
/** Loads and verifies a baseline (content hash); throws InputError('baseline-invalid' | 'baseline-missing'). */
export type VerifyBaselineFn = (dir: string) => Promise<BaselineInfo>;
