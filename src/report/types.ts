/**
 * The scan report: the one data structure every renderer (JSON, SARIF, JUnit, Markdown, text) and every
 * publisher (CLI, GitHub Action) reads. Versioned; documented in docs/report-schema.md.
 */
export const REPORT_VERSION = 1;

import type { FailOn, RiskLevel } from '../score/risk.js';

export type { FailOn, RiskLevel };

export interface DetectorResult {
  /** Raw detector score, higher = more anomalous. */
  score: number;
  /** Conformal p-value of the score against the clean reference population. */
  pValue: number;
}

export interface Explanation {
  /** One sentence for a person: what drove the score. */
  summary: string;
  /** The detector/representation channel with the smallest p-value. */
  strongestSignal: string;
  /** Channels ordered by p-value, smallest first (at most a handful). */
  drivers: { channel: string; detector: string; representation: string; score: number; pValue: number }[];
  /** The nearest clean reference models (by the ensemble's main representation). */
  nearestReferences: { member: string; distance: number }[];
  /** Smallest p-value this baseline can support (rank floor, before the parametric tail). */
  minSupportedPValue?: number;
  /** Reference-free trigger probing: the class the model flips into, and what moved it. */
  suspectedTargetClass?: number;
  /**
   * Reference-free trigger probing found no single target (then suspectedTargetClass is absent): several
   * classes stand out on their own (`classes`), or one small trigger maps each class to another.
   */
  multiTarget?: { kind: 'several' | 'all-to-all'; classes: number[] };
  trigger?: { kind: string; location?: string; flipRate: number; zScore: number };
}

export interface ScannedModel {
  /** The path as given on the command line (or the repository path in the action). */
  path: string;
  sha256: string;
  riskScore: number;
  riskLevel: RiskLevel;
  pValue: number;
  /** Whether the model reaches the configured fail-on level. */
  flagged: boolean;
  detectors: Record<string, DetectorResult>;
  explanation: Explanation;
  /** Wall time spent on this model (ms), when measured: JUnit's `time` attribute. */
  durationMs?: number;
}

export interface FailedModel {
  path: string;
  sha256?: string;
  /** One line that names the file and the reason. */
  error: string;
  /** Machine-readable error kind (see src/errors.ts). */
  errorCode: string;
  /** Wall time spent before the failure (ms), when measured. */
  durationMs?: number;
}

export type ModelEntry = ScannedModel | FailedModel;

export interface BaselineSummary {
  id: string;
  members: number;
  /** Smallest p-value the baseline can support by rank alone, 1/(n+1). */
  minRankPValue: number;
}

export interface ScanReport {
  version: typeof REPORT_VERSION;
  tool: { name: string; version: string };
  /** null when scanned without a baseline: only reference-free checks ran. */
  baseline: BaselineSummary | null;
  failOn: FailOn;
  models: ModelEntry[];
  /** Plain statements a reader must see (e.g. "scanned without a baseline: only reference-free checks"). */
  notes: string[];
}

export function isFailed(m: ModelEntry): m is FailedModel {
  return 'error' in m;
}

/** Exit code of a scan: 2 if any model could not be scanned, else 1 if any is flagged, else 0. */
export function exitCodeOf(report: ScanReport): 0 | 1 | 2 {
  if (report.models.some(isFailed)) return 2;
  if (report.models.some((m) => !isFailed(m) && m.flagged)) return 1;
  return 0;
}
