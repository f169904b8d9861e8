/**
 * The scan report: the one data structure every renderer (JSON, SARIF, JUnit, Markdown, text) and every
 * publisher (CLI, GitHub Action) reads. Versioned; documented in docs/report-schema.md.
 */
export const REPORT_VERSION = 2;

import type { FailOn, OnNotAssessed, ReportLevel, RiskLevel } from '../score/risk.js';
import { NOT_ASSESSED } from '../score/risk.js';
import type { FoundTrigger } from '../fingerprint/types.js';

export type { FailOn, OnNotAssessed, ReportLevel, RiskLevel };

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
  trigger?: FoundTrigger;
}

/** One check of a scan on one model: whether it ran, the forward passes it got, why not. */
export interface CheckSummary {
  /** 'ensemble', 'probes', 'trigger-probe', 'patch-map' or 'final-layer-weights'. */
  check: string;
  ran: boolean;
  /** Forward passes of the model it ran (inputs through the model; 0 for checks that run none). */
  passes: number;
  /** Why it did not run (src/fingerprint/types.ts SkipReason), when it did not. */
  skipped?: string;
  /** What limited it, or what it found, in one phrase for a person (e.g. "screened 120 of 250 candidates"). */
  note?: string;
}

/** The scan budget a model was fingerprinted with and what it spent (src/fingerprint/budget.ts). */
export interface BudgetSummary {
  /** 'fast' | 'default' | 'thorough', a number of multiply-accumulates, or 'legacy'. */
  setting: string;
  /** The setting's allowance for the forward-pass checks, in multiply-accumulates. */
  macs: number;
  /** Estimated multiply-accumulates of one forward pass of this model. */
  macsPerPass: number;
  /** Forward passes run on this model, every check together. */
  passes: number;
}

/** Why a model was not assessed, and what would assess it. */
export interface NotAssessedReason {
  /** 'budget' | 'input-kind' | 'classes' | 'no-power' (trigger probing ran too short to call it clean). */
  reason: string;
  /** What did and did not run, in sentences. */
  message: string;
  /** What to do: a larger budget, a baseline, samples. */
  fix: string;
}

interface ScannedModelBase {
  /** The path as given on the command line (or the repository path in the action). */
  path: string;
  sha256: string;
  /** Whether the model fails the gate: reaches the fail-on level, or is not assessed under on-not-assessed fail. */
  flagged: boolean;
  detectors: Record<string, DetectorResult>;
  explanation: Explanation;
  /** Wall time spent on this model (ms), when measured: JUnit's `time` attribute. */
  durationMs?: number;
  /** Each check: ran or not, forward passes, why not. */
  checks?: CheckSummary[];
  budget?: BudgetSummary;
}

/** A model some check with power ran on: a risk score and level. */
export interface AssessedModel extends ScannedModelBase {
  riskScore: number;
  riskLevel: RiskLevel;
  pValue: number;
}

/** A model no check with power ran on: no risk score, no risk level (never "low"). */
export interface NotAssessedModel extends ScannedModelBase {
  riskScore: null;
  riskLevel: typeof NOT_ASSESSED;
  pValue: null;
  notAssessed: NotAssessedReason;
}

export type ScannedModel = AssessedModel | NotAssessedModel;

export function isAssessed(m: ScannedModel): m is AssessedModel {
  return m.riskLevel !== NOT_ASSESSED;
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
  /** What a not-assessed model does to the gate; absent = 'fail' (src/score/risk.ts DEFAULT_ON_NOT_ASSESSED). */
  onNotAssessed?: OnNotAssessed;
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
