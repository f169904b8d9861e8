/**
 * Counts over a scan report that the action publishes: models per level (not assessed included), flagged
 * and unscannable models, the highest risk score and the worst level. One place, so the check title, the
 * summary, the comment and the step outputs always agree.
 */
import { worseLevel } from '../report/levels.js';
import { isFailed, type ReportLevel, type ScanReport } from '../report/types.js';

export interface Tally {
  scanned: number;
  failed: number;
  flagged: number;
  /** Of flagged: models flagged because they were not assessed (on-not-assessed fail). */
  flaggedNotAssessed: number;
  byLevel: Record<ReportLevel, number>;
  /** Highest risk score over assessed models; null when none was assessed. */
  maxScore: number | null;
  /** Worst level over scanned models (high, medium, not-assessed, low); null when none was scanned. */
  maxLevel: ReportLevel | null;
}

export function tally(report: ScanReport): Tally {
  const t: Tally = {
    scanned: 0,
    failed: 0,
    flagged: 0,
    flaggedNotAssessed: 0,
    byLevel: { high: 0, medium: 0, 'not-assessed': 0, low: 0 },
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
    if (m.flagged && m.riskLevel === 'not-assessed') t.flaggedNotAssessed += 1;
    if (m.riskScore !== null && (t.maxScore === null || m.riskScore > t.maxScore)) t.maxScore = m.riskScore;
    t.maxLevel = t.maxLevel === null ? m.riskLevel : worseLevel(t.maxLevel, m.riskLevel);
  }
  return t;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One line, e.g. "3 models scanned: 1 high, 0 medium, 2 low risk; 1 could not be scanned". */
export function describeTally(t: Tally, failOn: string): string {
  const notAssessed = t.byLevel['not-assessed'] ? `, ${t.byLevel['not-assessed']} not assessed` : '';
  const parts = [
    `${plural(t.scanned, 'model')} scanned: ${t.byLevel.high} high, ${t.byLevel.medium} medium, ${t.byLevel.low} low risk${notAssessed}`,
  ];
  if (t.failed) parts.push(`${t.failed} could not be scanned`);
  const reach = t.flagged - t.flaggedNotAssessed;
  if (reach) parts.push(`${reach} reach${reach === 1 ? 'es' : ''} fail-on ${failOn}`);
  if (t.flaggedNotAssessed)
    parts.push(
      `${t.flaggedNotAssessed} not assessed, which fail${t.flaggedNotAssessed === 1 ? 's' : ''} the gate`,
    );
  return parts.join('; ');
}
