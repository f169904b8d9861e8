/**
 * The final verdict of a scan with a baseline, and where reference-free trigger probing enters it.
 *   1. The ensemble: the model's fingerprint against the clean references (src/score/ensemble.ts). Trigger
 *      probing is already inside it, calibrated against the user's own references: its score (an identity
 *      channel on self:trigger) and its per-class gain curves (the trigger block's channels).
 *   2. Trigger probing's own p-value: its class anomaly against the model's own other classes, no model
 *      zoo (src/selfcheck/class-anomaly.ts, the self-check's pValue).
 * TRIGGER_POLICY_WITH_BASELINE decides how 2 enters: 'bonferroni' (shipped) gives
 * p = min(1, 2 * min(p_ensemble, p_trigger)), which keeps the false-alarm rate at most the sum of the two
 * tests' rates under any dependence; 'report' gives the ensemble's p and reports the trigger p beside it.
 * Without a baseline the reference-free checks are the verdict (src/score/reference-free.ts,
 * src/score/no-baseline.ts).
 *
 * With a baseline the trigger test's p is the LARGER of its own p and the trigger score's p among the
 * user's own references (the ensemble's identity channel on self:trigger, TRIGGER_REFERENCE_CHANNEL): on a
 * domain where clean models have a class that stamped triggers reach unusually easily (a natural sink, a
 * collapsed training), the references show it too, and the test is judged by them. The larger of two
 * p-values is a valid p-value whenever either one is, so this keeps the false-alarm bound of the test that
 * holds for the user's models, and a trigger score beyond every reference still gets the tail.
 *
 * Separate tests of the ensemble (src/baseline/config.ts SEPARATE_TEST_CHANNELS: the position-aligned patch
 * map) join the same Bonferroni combination: p = min(1, m * min over the m tests).
 */
import type { Fingerprint, SelfCheck } from '../fingerprint/types.js';
import { triggerPValue } from '../selfcheck/reference-free-p.js';
import { triggerNullFor } from '../selfcheck/base-inputs.js';
import { levelOf, riskScore, type RiskLevel } from './risk.js';
import { channelKey } from './ensemble.js';

/** The ensemble channel that calibrates the trigger score against the baseline's references. */
export const TRIGGER_REFERENCE_CHANNEL = channelKey({ representation: 'self:trigger', detector: 'identity' });

/** Number of tests the Bonferroni correction multiplies by under 'bonferroni' without separate tests. */
export const FINAL_TESTS = 2;

export type TriggerPolicy = 'report' | 'bonferroni';
/** How the reference-free trigger test enters a verdict with a baseline (see the header). */
export const TRIGGER_POLICY_WITH_BASELINE: TriggerPolicy = 'bonferroni';

export interface FinalVerdict {
  pValue: number;
  riskScore: number;
  riskLevel: RiskLevel;
  /** The trigger test's p-value, when the model could be probed (with a baseline: the larger of its own p
   * and the references' p). */
  triggerPValue?: number;
  /**
   * Which test decided the verdict: 'ensemble', 'trigger', or the block of a separate test (e.g.
   * 'trigger-map', src/baseline/config.ts SEPARATE_TEST_CHANNELS).
   */
  decidedBy: string;
  /** The separate tests' p-values, by block (e.g. { 'trigger-map': 0.3 }). */
  separate: Record<string, number>;
  /**
   * The tests the Bonferroni correction combined, in order ('ensemble', then 'trigger' under the
   * 'bonferroni' policy, then the separate tests' blocks); their count is the factor.
   */
  combined: string[];
}

/**
 * The trigger test's own p-value (the class anomaly against the model's other classes), when the model was
 * probed with at least three classes (fewer: no contrast, no test); a text model's token probing: its score
 * against the text null.
 */
/**
 * A self-check's score as the no-baseline verdict reads it: a text model's keyword-adjusted score when there is
 * one (natural keywords discounted, src/selfcheck/token-keywords.ts), else its own score. The report shows
 * this score beside the no-baseline p, so the two agree.
 */
export function noBaselineScore(check: SelfCheck): number {
  return check.keywordAdjusted?.score ?? check.score;
}

export function triggerTestP(fp: Fingerprint, opts: { keywordAdjusted?: boolean } = {}): number | undefined {
  const trig = fp.selfChecks['trigger'];
  if (!trig) return undefined;
  // Token probing (text models) has no class-anomaly test: its score against the text null fitted on the
  // text zoo's clean models (src/selfcheck/base-inputs.ts). `keywordAdjusted` (no baseline): on the user's
  // texts, the score with natural keywords discounted (token-keywords.ts), never above the score, so the same
  // null bounds it; with a baseline the references already cancel a class's keywords (the token gain map).
  if (trig.trigger?.kind === 'tokens') {
    const classes = fp.header.model.classes;
    if (classes < 2) return undefined;
    const score = opts.keywordAdjusted ? noBaselineScore(trig) : trig.score;
    return triggerPValue(score, classes, triggerNullFor(trig.basis ?? 'probes', 'tokens'));
  }
  const p = trig.pValue;
  return p !== undefined && Number.isFinite(p) ? p : undefined;
}

/** The block a channel key ("detector@block") reads. */
function blockOfKey(key: string): string {
  return key.slice(key.indexOf('@') + 1);
}

/**
 * `triggerReferenceP`: the trigger score's p-value among the baseline's references (the ensemble's
 * TRIGGER_REFERENCE_CHANNEL), when the ensemble has that channel; the trigger test then takes the larger p.
 * `separate`: the ensemble's separate tests (EnsembleVerdict.separate, by channel key), each one more
 * test of the Bonferroni combination whatever the trigger policy.
 */
export function finalVerdict(
  ensembleP: number,
  fp: Fingerprint,
  policy: TriggerPolicy = TRIGGER_POLICY_WITH_BASELINE,
  triggerReferenceP?: number,
  separate: Record<string, number> = {},
): FinalVerdict {
  const ownP = triggerTestP(fp);
  const pt = ownP !== undefined && triggerReferenceP !== undefined ? Math.max(ownP, triggerReferenceP) : ownP;
  const candidates: [string, number][] = [['ensemble', ensembleP]];
  if (policy === 'bonferroni' && pt !== undefined) candidates.push(['trigger', pt]);
  const bySeparate = Object.fromEntries(Object.entries(separate).map(([k, v]) => [blockOfKey(k), v]));
  candidates.push(...Object.entries(bySeparate));
  // the smallest p decides (ties: the earlier test, so the ensemble before the others)
  const [decidedBy, smallest] = candidates.reduce((a, b) => (b[1] < a[1] ? b : a));
  const p = Math.min(1, candidates.length * smallest);
  const score = riskScore(p);
  return {
    pValue: p,
    riskScore: score,
    riskLevel: levelOf(score),
    ...(pt !== undefined ? { triggerPValue: pt } : {}),
    decidedBy,
    separate: bySeparate,
    combined: candidates.map(([name]) => name),
  };
}
