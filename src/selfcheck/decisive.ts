/**
 * Early stopping of trigger probing on decisive evidence: the score at which the reference-free verdict can
 * no longer change. Without a baseline the verdict is the trigger test's p-value under the shipped null
 * (reference-free-p.ts), a decreasing function of the score, and the risk score is 100 for every
 * p <= RISK_P_AT_MAX. Refinement only ever raises the score (it keeps a better trigger, never a worse one), so
 * once a class reaches the score whose p is RISK_P_AT_MAX the verdict is final: high, 100. The search then
 * stops instead of spending the rest of the budget. Counts, not time: the same model stops at the same round.
 *
 * The other way, "decisively clean", has no such bound: the score is a maximum over the triggers tried so
 * far, and any trigger not yet tried could be the backdoor's, so the search runs its whole budget unless it
 * finds one.
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
