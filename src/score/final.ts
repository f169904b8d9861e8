/**
 * The final verdict of a scan with a baseline, and where reference-free trigger probing enters it.
 *   1. The ensemble: the model's fingerprint against the clean references (src/score/ensemble.ts). Trigger
 *      probing is already inside it, calibrated against the user's own references: its score (an identity
 *      channel on self:trigger) and its per-class gain curves (the trigger block's channels).
 *   2. Trigger probing's reference-free p-value, against the null fitted on the zoo's clean models
 *      (src/selfcheck/reference-free-p.ts).
 * TRIGGER_POLICY_WITH_BASELINE decides how 2 enters: 'bonferroni' (shipped) gives
 * p = min(1, 2 * min(p_ensemble, p_trigger)), which keeps the false-alarm rate at most the sum of the two
 * tests' rates under any dependence; 'report' gives the ensemble's p and reports the trigger p beside it.
 * Measured on the zoo, 80 references (bench/results/detect.md prints both rows on every run): with the v2
 * trigger score and its refitted null, Bonferroni raised AUROC with samples (CNN 0.939 -> 0.956, MLP 0.998 ->
 * 1.000) and with generated probes on the CNN (0.815 -> 0.818), lowered it with generated probes on the MLP
 * (0.941 -> 0.926), and called no clean test model high either way. (With the v1 score and its provisional
 * null it had lowered the CNN with samples, 0.924 -> 0.884: the choice rests on the null being well fitted.)
 * Without a baseline the reference-free p is the verdict (src/score/reference-free.ts).
 */
import type { Fingerprint } from '../fingerprint/types.js';
import { triggerPValue } from '../selfcheck/reference-free-p.js';
import { triggerNullFor } from '../selfcheck/base-inputs.js';
import { levelOf, riskScore, type RiskLevel } from './risk.js';

/** Number of tests the Bonferroni correction divides by (policy 'bonferroni'). */
export const FINAL_TESTS = 2;

export type TriggerPolicy = 'report' | 'bonferroni';
/** How the reference-free trigger test enters a verdict with a baseline (see the header). */
export const TRIGGER_POLICY_WITH_BASELINE: TriggerPolicy = 'bonferroni';

export interface FinalVerdict {
  pValue: number;
  riskScore: number;
  riskLevel: RiskLevel;
  /** The trigger test's p-value, when the model could be probed. */
  triggerPValue?: number;
  /** Which test decided the verdict. */
  decidedBy: 'ensemble' | 'trigger';
}

/** The trigger test's p-value under the null model that matches what the triggers were stamped on. */
export function triggerTestP(fp: Fingerprint): number | undefined {
  const trig = fp.selfChecks['trigger'];
  const classes = fp.header.model.classes;
  if (!trig || classes < 2) return undefined;
  return triggerPValue(trig.score, classes, triggerNullFor(trig.basis ?? 'probes'));
}

export function finalVerdict(
  ensembleP: number,
  fp: Fingerprint,
  policy: TriggerPolicy = TRIGGER_POLICY_WITH_BASELINE,
): FinalVerdict {
  const pt = triggerTestP(fp);
  const combine = policy === 'bonferroni' && pt !== undefined;
  const p = combine ? Math.min(1, FINAL_TESTS * Math.min(ensembleP, pt)) : ensembleP;
  const score = riskScore(p);
  return {
    pValue: p,
    riskScore: score,
    riskLevel: levelOf(score),
    ...(pt !== undefined ? { triggerPValue: pt } : {}),
    decidedBy: combine && pt < ensembleP ? 'trigger' : 'ensemble',
  };
}
