/**
 * Risk levels and the fail-on threshold: which models a renderer reports as failures, in one place so
 * SARIF, JUnit, Markdown and text always agree with each other and with the scan's exit code. A model that
 * was not assessed has its own level, ranked between medium and low: it is no finding, but no pass either.
 */
import { DEFAULT_ON_NOT_ASSESSED, NOT_ASSESSED } from '../score/risk.js';
import type { FailOn, OnNotAssessed, ReportLevel, ScanReport } from './types.js';

// The fail-on rule lives with the risk bands; the scan's `flagged` and every renderer use that one copy.
export { failsGate, reachesFailOn } from '../score/risk.js';

const LEVEL_RANK: Record<ReportLevel, number> = { low: 0, [NOT_ASSESSED]: 1, medium: 2, high: 3 };

/** Higher level first; used to order tables so the worst model is read first. */
export function compareLevels(a: ReportLevel, b: ReportLevel): number {
  return LEVEL_RANK[b] - LEVEL_RANK[a];
}

/** The worse of two levels. */
export function worseLevel(a: ReportLevel, b: ReportLevel): ReportLevel {
  return LEVEL_RANK[b] > LEVEL_RANK[a] ? b : a;
}

/**
 * The level as a table shows it: HIGH, MEDIUM and NOT ASSESSED in capitals so they stand out without colour
 * or emoji.
 */
export function levelLabel(level: ReportLevel): string {
  if (level === NOT_ASSESSED) return 'NOT ASSESSED';
  return level === 'low' ? 'low' : level.toUpperCase();
}

/**
 * Whether a level is a finding a reviewer has to decide about (medium or high): the only models a report
 * names a suspected target and trigger for, and shows pictures of. A low model's "most reachable class" is no
 * accusation, and a model that was not assessed has no finding.
 */
export function isFinding(level: ReportLevel): level is 'medium' | 'high' {
  return level === 'medium' || level === 'high';
}

/** The report's on-not-assessed setting (absent in reports made without one: the default). */
export function onNotAssessedOf(report: Pick<ScanReport, 'onNotAssessed'>): OnNotAssessed {
  return report.onNotAssessed ?? DEFAULT_ON_NOT_ASSESSED;
}

export type { FailOn };
