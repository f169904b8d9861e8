/**
 * The words every human-facing renderer shares: the strongest signal, the suspected target class, the
 * baseline line, the display order and the counts. One source so the PR comment, the terminal table,
 * SARIF messages and JUnit bodies describe a model the same way.
 */
import { compareLevels, reachesFailOn } from './levels.js';
import { formatPValue } from './numbers.js';
import type { BaselineSummary, FailedModel, FailOn, ScanReport, ScannedModel } from './types.js';
import { isFailed } from './types.js';

/** Characters of a baseline id shown to people (like a short git hash: enough to tell baselines apart). */
export const SHORT_ID_CHARS = 12;

/** The strongest signal as a short phrase, e.g. "knn on logits (p = 1.2e-4)"; "none" when nothing stood out. */
export function strongestSignalText(m: ScannedModel): string {
  const { strongestSignal, drivers } = m.explanation;
  const driver = drivers.find((d) => d.channel === strongestSignal) ?? drivers[0];
  const name = strongestSignal || driver?.channel || '';
  if (!name) return 'none';
  return driver ? `${name} (p = ${formatPValue(driver.pValue)})` : name;
}

/**
 * "class 7" when trigger probing found a class the model flips into, "classes 3, 7 (several targets)" or
 * "all-to-all (no single target)" when it found no single one, else undefined.
 */
export function targetClassText(m: ScannedModel): string | undefined {
  const multi = m.explanation.multiTarget;
  if (multi?.kind === 'several') return `classes ${multi.classes.join(', ')} (several targets)`;
  if (multi) return 'all-to-all (no single target)';
  const c = m.explanation.suspectedTargetClass;
  return c === undefined ? undefined : `class ${c}`;
}

/**
 * "class 7: patch at bottom-right 3x3, flips 92%": the suspected target and the trigger that moved it (issue
 * 6: what a reviewer of a flagged model needs to reproduce the finding), or undefined when none was named.
 */
export function suspectedTriggerText(m: ScannedModel): string | undefined {
  const target = targetClassText(m);
  const t = m.explanation.trigger;
  if (!target || !t) return target;
  const where = t.location ? ` at ${t.location}` : '';
  const flips = Number.isFinite(t.flipRate) ? `, flips ${Math.round(100 * t.flipRate)}%` : '';
  return `${target}: ${t.kind}${where}${flips}`;
}

/** A baseline id shortened for people; a "sha256:" style prefix is dropped first. */
export function shortBaselineId(id: string): string {
  const bare = id.includes(':') ? id.slice(id.lastIndexOf(':') + 1) : id;
  return bare.slice(0, SHORT_ID_CHARS);
}

/** One line that says what the scores were compared against. */
export function baselineText(baseline: BaselineSummary | null): string {
  if (!baseline) return 'no baseline: reference-free checks only';
  const noun = baseline.members === 1 ? 'clean model' : 'clean models';
  return `baseline ${shortBaselineId(baseline.id)} of ${baseline.members} ${noun}`;
}

export interface PartitionedModels {
  /** Scanned models, worst first: level, then risk score, then path for a stable order. */
  scanned: ScannedModel[];
  /** Models that could not be scanned, in report order. */
  failed: FailedModel[];
}

export function partitionModels(report: ScanReport): PartitionedModels {
  const scanned: ScannedModel[] = [];
  const failed: FailedModel[] = [];
  for (const m of report.models) {
    if (isFailed(m)) failed.push(m);
    else scanned.push(m);
  }
  scanned.sort(
    (a, b) =>
      compareLevels(a.riskLevel, b.riskLevel) ||
      b.riskScore - a.riskScore ||
      (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
  return { scanned, failed };
}

export interface ReportCounts {
  total: number;
  scanned: number;
  /** Scanned models at or above the fail-on level. */
  failing: number;
  failed: number;
}

export function countModels(report: ScanReport, failOn: FailOn): ReportCounts {
  const { scanned, failed } = partitionModels(report);
  return {
    total: report.models.length,
    scanned: scanned.length,
    failing: scanned.filter((m) => reachesFailOn(m.riskLevel, failOn)).length,
    failed: failed.length,
  };
}
