/**
 * Risk levels and the fail-on threshold: which models a renderer reports as failures, in one place so
 * SARIF, JUnit, Markdown and text always agree with each other and with the scan's exit code.
 */
import type { RiskLevel } from './types.js';

// The fail-on rule lives with the risk bands; the scan's `flagged` and every renderer use that one copy.
export { reachesFailOn } from '../score/risk.js';

const LEVEL_RANK: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2 };

/** Higher level first; used to order tables so the worst model is read first. */
export function compareLevels(a: RiskLevel, b: RiskLevel): number {
  return LEVEL_RANK[b] - LEVEL_RANK[a];
}

/** The level as a table shows it: HIGH and MEDIUM in capitals so they stand out without colour or emoji. */
export function levelLabel(level: RiskLevel): string {
  return level === 'low' ? 'low' : level.toUpperCase();
}
