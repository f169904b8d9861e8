/**
 * The versioned JSON report: the machine-readable record of a scan (documented field by field in
 * docs/report-schema.md). Every number is finite or null and rounded to 6 significant digits, so the file is
 * valid JSON for every parser and diffs between runs show real changes, not float noise.
 */
import { roundSig } from './numbers.js';
import { onNotAssessedOf } from './levels.js';
import type {
  Explanation,
  FailOn,
  ModelEntry,
  NotAssessedReason,
  OnNotAssessed,
  ReportLevel,
  ScanReport,
} from './types.js';
import { isFailed } from './types.js';

export interface JsonDetector {
  score: number | null;
  pValue: number | null;
}

export interface JsonExplanation {
  summary: string;
  strongestSignal: string;
  drivers: {
    channel: string;
    detector: string;
    representation: string;
    score: number | null;
    pValue: number | null;
  }[];
  nearestReferences: { member: string; distance: number | null }[];
  minSupportedPValue?: number | null;
  suspectedTargetClass?: number;
  multiTarget?: { kind: 'several' | 'all-to-all'; classes: number[] };
  trigger?: {
    kind: string;
    location?: string;
    flipRate: number | null;
    zScore: number | null;
    tokens?: number[];
    words?: string[];
  };
}

export interface JsonCheck {
  check: string;
  ran: boolean;
  passes: number;
  skipped?: string;
  note?: string;
}

export interface JsonBudget {
  setting: string;
  macs: number | null;
  macsPerPass: number | null;
  passes: number;
}

export interface JsonScannedModel {
  path: string;
  sha256: string;
  /** null when not assessed. */
  riskScore: number | null;
  riskLevel: ReportLevel;
  pValue: number | null;
  flagged: boolean;
  /** Present when riskLevel is "not-assessed". */
  notAssessed?: NotAssessedReason;
  detectors: Record<string, JsonDetector>;
  explanation: JsonExplanation;
  checks?: JsonCheck[];
  budget?: JsonBudget;
  durationMs?: number | null;
}

export interface JsonFailedModel {
  path: string;
  sha256?: string;
  error: string;
  errorCode: string;
  durationMs?: number | null;
}

export interface JsonReport {
  version: number;
  tool: { name: string; version: string };
  baseline: { id: string; members: number; minRankPValue: number | null } | null;
  failOn: FailOn;
  onNotAssessed: OnNotAssessed;
  notes: string[];
  models: (JsonScannedModel | JsonFailedModel)[];
}

function explanationToJson(e: Explanation): JsonExplanation {
  const out: JsonExplanation = {
    summary: e.summary,
    strongestSignal: e.strongestSignal,
    drivers: e.drivers.map((d) => ({
      channel: d.channel,
      detector: d.detector,
      representation: d.representation,
      score: roundSig(d.score),
      pValue: roundSig(d.pValue),
    })),
    nearestReferences: e.nearestReferences.map((r) => ({ member: r.member, distance: roundSig(r.distance) })),
  };
  if (e.minSupportedPValue !== undefined) out.minSupportedPValue = roundSig(e.minSupportedPValue);
  if (e.suspectedTargetClass !== undefined) out.suspectedTargetClass = e.suspectedTargetClass;
  if (e.multiTarget) out.multiTarget = { kind: e.multiTarget.kind, classes: [...e.multiTarget.classes] };
  if (e.trigger) {
    out.trigger = {
      kind: e.trigger.kind,
      ...(e.trigger.location !== undefined ? { location: e.trigger.location } : {}),
      flipRate: roundSig(e.trigger.flipRate),
      zScore: roundSig(e.trigger.zScore),
      ...(e.trigger.tokens ? { tokens: [...e.trigger.tokens] } : {}),
      ...(e.trigger.words ? { words: [...e.trigger.words] } : {}),
    };
  }
  return out;
}

function modelToJson(m: ModelEntry): JsonScannedModel | JsonFailedModel {
  const duration = m.durationMs !== undefined ? { durationMs: roundSig(m.durationMs) } : {};
  if (isFailed(m)) {
    return {
      path: m.path,
      ...(m.sha256 !== undefined ? { sha256: m.sha256 } : {}),
      error: m.error,
      errorCode: m.errorCode,
      ...duration,
    };
  }
  const detectors: Record<string, JsonDetector> = {};
  for (const [name, d] of Object.entries(m.detectors)) {
    detectors[name] = { score: roundSig(d.score), pValue: roundSig(d.pValue) };
  }
  return {
    path: m.path,
    sha256: m.sha256,
    riskScore: roundSig(m.riskScore),
    riskLevel: m.riskLevel,
    pValue: roundSig(m.pValue),
    flagged: m.flagged,
    ...(m.riskLevel === 'not-assessed' ? { notAssessed: { ...m.notAssessed } } : {}),
    detectors,
    explanation: explanationToJson(m.explanation),
    ...(m.checks
      ? {
          checks: m.checks.map((c) => ({
            check: c.check,
            ran: c.ran,
            passes: c.passes,
            ...(c.skipped !== undefined ? { skipped: c.skipped } : {}),
            ...(c.note !== undefined ? { note: c.note } : {}),
          })),
        }
      : {}),
    ...(m.budget
      ? {
          budget: {
            setting: m.budget.setting,
            macs: roundSig(m.budget.macs),
            macsPerPass: roundSig(m.budget.macsPerPass),
            passes: m.budget.passes,
          },
        }
      : {}),
    ...duration,
  };
}

/** The report as a plain JSON value (what renderJson serialises); models keep the report's order. */
export function reportToJson(report: ScanReport): JsonReport {
  return {
    version: report.version,
    tool: { name: report.tool.name, version: report.tool.version },
    baseline: report.baseline
      ? {
          id: report.baseline.id,
          members: report.baseline.members,
          minRankPValue: roundSig(report.baseline.minRankPValue),
        }
      : null,
    failOn: report.failOn,
    onNotAssessed: onNotAssessedOf(report),
    notes: [...report.notes],
    models: report.models.map(modelToJson),
  };
}

/** The JSON report as text: two-space indented, ending in a newline. */
export function renderJson(report: ScanReport): string {
  return `${JSON.stringify(reportToJson(report), null, 2)}\n`;
}
