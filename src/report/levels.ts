/**
 * Risk levels and the fail-on threshold: which models a renderer reports as failures, in one place so
 * SARIF, JUnit, Markdown and text always agree with each other and with the scan's exit code.
 */
import type { FailOn, RiskLevel } from './types.js';

const LEVEL_RANK: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2 };

/** Whether a model at `level` reaches the fail-on threshold (`never` is never reached). */
export function reachesFailOn(level: RiskLevel, failOn: FailOn): boolean {
  if (failOn === 'never') return false;
  return LEVEL_RANK[level] >= LEVEL_RANK[failOn];
}

/** Higher level first; used to order tables so the worst model is read first. */
export function compareLevels(a: RiskLevel, b: RiskLevel): number {
  return LEVEL_RANK[b] - LEVEL_RANK[a];
}

/** The level as a table shows it: HIGH and MEDIUM in capitals so they stand out without colour or emoji. */
export function levelLabel(level: RiskLevel): string {
  return level === 'low' ? 'low' : level.toUpperCase();
}
