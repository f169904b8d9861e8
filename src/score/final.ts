/**
 * The final verdict of a scan with a baseline: two tests of one model, combined by Bonferroni.
 *   1. The ensemble: the model's fingerprint against the clean references (src/score/ensemble.ts).
 *   2. Reference-free trigger probing, against its shipped null model (src/selfcheck/reference-free-p.ts).
 * p = min(1, 2 * min(p_ensemble, p_trigger)). Bonferroni holds under any dependence between the two, so the
 * false-alarm rate on clean models stays at most the sum of the two tests' rates. Why both: with a small
 * baseline the ensemble's p-value cannot go below the rank floor 1/(n+1) without the fitted tail, and one
 * unusual clean reference can mask a backdoor; the trigger test needs no references at all, but misses
 * what only a comparison shows (blended and warped triggers, adaptive attackers tuned against probing).
 */
import type { Fingerprint } from '../fingerprint/types.js';
import { triggerPValue } from '../selfcheck/reference-free-p.js';
import { triggerNullFor } from '../selfcheck/base-inputs.js';
import { levelOf, riskScore, type RiskLevel } from './risk.js';

/** Number of tests the Bonferroni correction divides by. */
export const FINAL_TESTS = 2;

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

export function finalVerdict(ensembleP: number, fp: Fingerprint): FinalVerdict {
  const pt = triggerTestP(fp);
  const best = pt !== undefined ? Math.min(ensembleP, pt) : ensembleP;
  const p = pt !== undefined ? Math.min(1, FINAL_TESTS * best) : ensembleP;
  const score = riskScore(p);
  return {
    pValue: p,
    riskScore: score,
    riskLevel: levelOf(score),
    ...(pt !== undefined ? { triggerPValue: pt } : {}),
    decidedBy: pt !== undefined && pt < ensembleP ? 'trigger' : 'ensemble',
  };
}
