/**
 * The p-value of a scan without a baseline: the reference-free checks, each already a p-value against the
 * model's own classes (no model zoo), combined by weighted Bonferroni:
 *
 *   p = min(1, min over the checks that ran of p_check / weight_check)
 *
 * which keeps the false-alarm rate at most the level whatever the dependence between the checks (the
 * weights of the checks that ran are renormalised to sum to 1).
 *
 * Trigger probing (src/selfcheck/class-anomaly.ts) watches what the model does and carries almost all the
 * weight. The final-layer check (src/fingerprint/final-layer-anomaly.ts) needs no forward pass and weighs
 * 0.02 beside it: it decides only when its own p is about fifty times smaller than trigger probing's, i.e.
 * it calls a model high on its own at p <= 3e-4 (P_HIGH x 0.02 / 1.02), while trigger probing's p is
 * inflated by 2%. Chosen leave-one-domain-out (bench/refree/final-weight.ts -> bench/results/
 * refree-final-weight.md) jointly with the trigger anomaly's MAD floors, on five domains (8x8 digits,
 * Fashion-MNIST, GTSRB DeepID, MNIST tfjs CNN/MLP, and the real-size quarter-width ResNet-18 on GTSRB),
 * with the clean bounds required on each training domain and then the best mean AUROC: every one of the
 * five folds chose 0.02. Held out, the real-size ResNet-18s (where trigger probing finds nothing and the
 * final-layer check separates every backdoor, p 2e-7..1.7e-4 against clean 0.09-0.42) go from AUROC
 * 0.62 / 0.69 and 0 of 6 backdoors high to 1.00 / 1.00 and 6 of 6 high (without / with samples), the
 * other domains within -0.011..+0.018 AUROC, and no domain gains a clean model called high: the smallest
 * final-layer p of 262 clean models (54 real-size) is 0.0088, thirty times above the 3e-4 it takes. The
 * AUROC criterion prefers any small positive weight (0.005-0.03 rank alike); 0.02 is the smallest of the
 * grid and the one at which a final-layer p the real-size backdoors reach counts as high. Larger weights
 * cost the small domains AUROC (at 0.2: 8x8 digits 0.97 -> 0.94, tfjs MLP 0.88 -> 0.84; the weight that
 * an MNIST-only study once rejected for calling a clean MLP high).
 *
 * When trigger probing did not run (a model too large for the probing budget, an input that is not
 * image-like), the final-layer check's p is reported, but the scan calls the model not assessed
 * (src/scan/assessment.ts): the weights alone never clear a model. With a baseline its score is
 * calibrated against the references like every self-check (the ensemble's self:weight-outlier channel).
 */
import type { Fingerprint } from '../fingerprint/types.js';
import { triggerTestP } from './final.js';

export type NoBaselineCheck = 'trigger' | 'weight-outlier' | 'inversion';

/**
 * Weight of each check when it ran (see the header). Trigger inversion by gradient (`scan --inversion`,
 * opt-in; src/fingerprint/inversion-selfcheck.ts) weighs as much as trigger probing: fixed a priori, not
 * fitted (bench/realsize/findings.md, "Trigger inversion by gradient"); without the option it never runs and
 * the verdict is as before.
 */
export const NO_BASELINE_WEIGHTS: Record<NoBaselineCheck, number> = {
  trigger: 1,
  'weight-outlier': 0.02,
  inversion: 1,
};

export interface NoBaselinePart {
  check: NoBaselineCheck;
  pValue: number;
  weight: number;
  targetClass?: number;
}

export interface NoBaselineP {
  pValue: number;
  /** The check whose weighted p decided (none when no check ran). */
  decidedBy: NoBaselineCheck | 'none';
  parts: NoBaselinePart[];
  /** The class the deciding check points at. */
  targetClass?: number;
}

export function noBaselineP(fp: Fingerprint): NoBaselineP {
  return combineNoBaseline(
    (['trigger', 'weight-outlier', 'inversion'] as const).flatMap((check) => {
      const c = fp.selfChecks[check];
      // trigger probing's p: its class anomaly (images) or the text null (tokens), as with a baseline
      // (text models on the user's texts: the score with natural keywords left out, token-keywords.ts)
      const p = check === 'trigger' ? triggerTestP(fp, { keywordAdjusted: true }) : c?.pValue;
      const target = c?.keywordAdjusted?.targetClass ?? c?.targetClass;
      return c && p !== undefined && Number.isFinite(p)
        ? [
            {
              check,
              pValue: p,
              ...(target !== undefined ? { targetClass: target } : {}),
            },
          ]
        : [];
    }),
  );
}

/** Weighted Bonferroni over the checks that ran (their weights renormalised to sum to 1). */
export function combineNoBaseline(
  ran: readonly { check: NoBaselineCheck; pValue: number; targetClass?: number }[],
  weights: Partial<Record<NoBaselineCheck, number>> = NO_BASELINE_WEIGHTS,
): NoBaselineP {
  // weights of the checks that ran, renormalised; checks that all weigh 0 (the final-layer check alone)
  // share the whole weight equally
  const total = ran.reduce((s, c) => s + (weights[c.check] ?? 0), 0);
  const parts: NoBaselinePart[] = ran.map((c) => ({
    ...c,
    weight: total > 0 ? (weights[c.check] ?? 0) / total : 1 / ran.length,
  }));
  if (parts.length === 0) return { pValue: 1, decidedBy: 'none', parts };
  const weighted = (x: NoBaselinePart): number => (x.weight > 0 ? x.pValue / x.weight : Infinity);
  const top = parts.reduce((a, b) => (weighted(b) < weighted(a) ? b : a));
  return {
    pValue: Math.min(1, weighted(top)),
    decidedBy: top.check,
    parts,
    ...(top.targetClass !== undefined ? { targetClass: top.targetClass } : {}),
  };
}
