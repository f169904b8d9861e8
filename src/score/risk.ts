/**
 * From an honest p-value to the 0-100 risk score and its band. riskScore = round(100 · log10(1/p) / 3),
 * clamped to 0-100, so p = 0.1 -> 33, 0.01 -> 67, 0.001 -> 100. Bands: 0-30 low, 31-60 medium, 61-100 high.
 * Because the score is a fixed function of a calibrated p-value, a band boundary is a p-value boundary:
 * a clean model lands in "high" with probability about P_HIGH (~1.5%), in "medium" or above with ~12%.
 */

export type RiskLevel = 'low' | 'medium' | 'high';
/** The level at which a scan fails; 'never' disables failing. */
export type FailOn = RiskLevel | 'never';

/**
 * The state of a model on which no check with power ran (no baseline, and trigger probing did not run or
 * ran too short to call it clean): it gets no risk score and no risk level, never "low".
 */
export const NOT_ASSESSED = 'not-assessed';
/** A scanned model's level in a report: a risk level, or not assessed. */
export type ReportLevel = RiskLevel | typeof NOT_ASSESSED;
/**
 * What a not-assessed model does to a scan with a fail-on level (not 'never'): 'fail' (the default) fails
 * it like a flagged model, since a gate that passes what it could not examine is worse than none; 'warn'
 * passes it with a warning.
 */
export type OnNotAssessed = 'fail' | 'warn';
export const DEFAULT_ON_NOT_ASSESSED: OnNotAssessed = 'fail';
export const ON_NOT_ASSESSED_VALUES: readonly OnNotAssessed[] = ['fail', 'warn'];

/** The p-value that maps to a risk score of 100. */
export const RISK_P_AT_MAX = 1e-3;
export const LOW_MAX_SCORE = 30;
export const MEDIUM_MAX_SCORE = 60;

export function riskScore(p: number): number {
  if (!(p > 0)) return 100;
  const s = Math.round((100 * Math.log10(1 / p)) / -Math.log10(RISK_P_AT_MAX));
  return Math.min(100, Math.max(0, s));
}

export function levelOf(score: number): RiskLevel {
  if (score <= LOW_MAX_SCORE) return 'low';
  if (score <= MEDIUM_MAX_SCORE) return 'medium';
  return 'high';
}

const RANK: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2 };

/** Whether a verdict at `level` fails a scan configured with fail-on `failOn`. */
export function reachesFailOn(level: RiskLevel, failOn: FailOn): boolean {
  if (failOn === 'never') return false;
  return RANK[level] >= RANK[failOn];
}

/**
 * Whether a model at `level` fails the gate: a risk level by fail-on, a not-assessed model by
 * `onNotAssessed` (unless fail-on is 'never', which fails nothing).
 */
export function failsGate(
  level: ReportLevel,
  failOn: FailOn,
  onNotAssessed: OnNotAssessed = DEFAULT_ON_NOT_ASSESSED,
): boolean {
  if (level === NOT_ASSESSED) return failOn !== 'never' && onNotAssessed === 'fail';
  return reachesFailOn(level, failOn);
}

/** The (unrounded) p-value at which the score equals `score`. */
export function pValueForScore(score: number): number {
  return Math.pow(10, (-score * -Math.log10(RISK_P_AT_MAX)) / 100);
}

/** Largest p-value that still rounds to a medium score (31): p <= P_MEDIUM means medium or high. */
export const P_MEDIUM = pValueForScore(LOW_MAX_SCORE + 0.5);
/** Largest p-value that still rounds to a high score (61): p <= P_HIGH means high. */
export const P_HIGH = pValueForScore(MEDIUM_MAX_SCORE + 0.5);
