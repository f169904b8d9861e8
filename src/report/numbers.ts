/**
 * Number handling shared by every renderer: rounding for machine formats (JSON, SARIF properties) and
 * short human forms for tables and messages. Scores and p-values come out of floating-point pipelines, so
 * a renderer must never print NaN or 17 noise digits; non-finite values become null (JSON) or "n/a" (text).
 */

/** Significant digits kept in machine-readable output: far below detector noise, far above float noise. */
export const MACHINE_SIGNIFICANT_DIGITS = 6;

/** Round to `digits` significant digits; null for NaN and ±Infinity (JSON cannot carry them). */
export function roundSig(x: number | null, digits = MACHINE_SIGNIFICANT_DIGITS): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  if (x === 0) return 0;
  // toPrecision handles both tiny p-values (1.23457e-12) and large scores without drift.
  return Number(x.toPrecision(digits));
}

/** Shown for the score and p-value of a model that was not assessed (it has neither). */
export const NO_VALUE = '-';

/** A p-value for people: 3 significant digits, scientific below 0.001 so tiny values stay readable. */
export function formatPValue(p: number | null): string {
  if (p === null) return NO_VALUE;
  if (!Number.isFinite(p)) return 'n/a';
  if (p === 0) return '0';
  if (Math.abs(p) < 1e-3) return p.toExponential(1);
  return String(Number(p.toPrecision(3)));
}

/** A 0-100 risk score for people: whole numbers as they are, otherwise one decimal. */
export function formatRiskScore(score: number | null): string {
  if (score === null) return NO_VALUE;
  if (!Number.isFinite(score)) return 'n/a';
  return Number.isInteger(score) ? String(score) : score.toFixed(1);
}

/** A raw detector score for people: 3 significant digits. */
export function formatDetectorScore(score: number): string {
  if (!Number.isFinite(score)) return 'n/a';
  return String(Number(score.toPrecision(3)));
}
