/**
 * Early stopping of trigger probing's refinement on decisive evidence. The reference-free verdict itself is
 * decided before refinement (class-anomaly.ts reads the screened candidates only), so refinement only
 * sharpens the trigger the report shows; it stops once the refined triggers are strong enough that the
 * earlier zoo-fitted null (reference-free-p.ts) would put them at p <= RISK_P_AT_MAX, the top of the risk
 * scale: a finding that clear gains nothing from more passes, and the rest of the budget is saved.
 * Refinement only ever raises the score (it keeps a better trigger, never a worse one). Counts, not time:
 * the same model stops at the same round.
 *
 * The other way, "decisively clean", has no such bound: any trigger not yet tried could be the backdoor's,
 * so the search runs its whole budget unless it finds one.
 */
import { RISK_P_AT_MAX } from '../score/risk.js';
import { triggerNullFor, type TriggerBaseKind } from './base-inputs.js';

/** The score whose reference-free p-value is `p` with `classes` classes on this base (inverse of triggerPValue). */
export function scoreAtPValue(p: number, classes: number, basis: TriggerBaseKind): number {
  const n = triggerNullFor(basis);
  const location = n.location + n.scale * Math.log(classes / n.classes);
  // p = 1 - exp(-exp(-z))  <=>  z = -ln(-ln(1 - p))
  return location + n.scale * -Math.log(-Math.log1p(-p));
}

/** The score at which refinement stops: where the reference-free verdict is risk 100 whatever comes next. */
export function decisiveTriggerScore(classes: number, basis: TriggerBaseKind): number {
  return scoreAtPValue(RISK_P_AT_MAX, classes, basis);
}
