/**
 * Counts over a scan report that the action publishes: models per risk level, flagged and unscannable
 * models, the highest risk score. One place, so the check title, the summary, the comment and the step
 * outputs always agree.
 */
import { isFailed, type RiskLevel, type ScanReport } from '../report/types.js';

export interface Tally {
  scanned: number;
  failed: number;
  flagged: number;
  byLevel: Record<RiskLevel, number>;
  /** Highest risk score over scanned models; null when none was scanned. */
  maxScore: number | null;
  maxLevel: RiskLevel | null;
}

export function tally(report: ScanReport): Tally {
  const t: Tally = {
    scanned: 0,
    failed: 0,
    flagged: 0,
    byLevel: { high: 0, medium: 0, low: 0 },
    maxScore: null,
    maxLevel: null,
  };
  for (const m of report.models) {
    if (isFailed(m)) {
      t.failed += 1;
      continue;
    }
    t.scanned += 1;
    t.byLevel[m.riskLevel] += 1;
    if (m.flagged) t.flagged += 1;
    if (t.maxScore === null || m.riskScore > t.maxScore) {
      t.maxScore = m.riskScore;
      t.maxLevel = m.riskLevel;
    }
  }
  return t;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One line, e.g. "3 models scanned: 1 high, 0 medium, 2 low risk; 1 could not be scanned". */
export function describeTally(t: Tally, failOn: string): string {
  const parts = [
    `${plural(t.scanned, 'model')} scanned: ${t.byLevel.high} high, ${t.byLevel.medium} medium, ${t.byLevel.low} low risk`,
  ];
  if (t.failed) parts.push(`${t.failed} could not be scanned`);
  if (t.flagged) parts.push(`${t.flagged} reach${t.flagged === 1 ? 'es' : ''} fail-on ${failOn}`);
  return parts.join('; ');
}
