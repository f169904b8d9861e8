/**
 * The p-value of a scan without a baseline: the reference-free checks, each already a p-value against the
 * model's own classes (no model zoo), combined by weighted Bonferroni:
 *
 *   p = min(1, min over the checks that ran of p_check / weight_check)
 *
 * which keeps the false-alarm rate at most the level whatever the dependence between the checks (the
 * weights of the checks that ran are renormalised to sum to 1).
 *
 * Trigger probing (src/selfcheck/class-anomaly.ts) watches what the model does and carries the verdict
 * whenever it ran. The final-layer check (src/fingerprint/final-layer-anomaly.ts) needs no forward pass,
 * so it runs on every model whose last layer is linear, also where trigger probing cannot (a model too
 * large for the probing budget, an input that is not image-like): then it is the verdict. Beside trigger
 * probing it gets no weight: measured on the MNIST zoo (bench/refree.ts), its per-class anomaly separated
 * backdoored from clean models at AUROC 0.42-0.62 per feature and, at weight 0.2, called a clean MLP high
 * that trigger probing called low: it cost false alarms and added no power. It is still computed and
 * reported (the "final-layer" detector of the report), and with a baseline its score is calibrated against
 * the references like every self-check (the ensemble's self:weight-outlier channel).
 */
import type { Fingerprint } from '../fingerprint/types.js';
import { triggerTestP } from './final.js';

export type NoBaselineCheck = 'trigger' | 'weight-outlier';

/** Weight of each check when both ran (see the header). */
export const NO_BASELINE_WEIGHTS: Record<NoBaselineCheck, number> = { trigger: 1, 'weight-outlier': 0 };

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
    (['trigger', 'weight-outlier'] as const).flatMap((check) => {
      const c = fp.selfChecks[check];
      // trigger probing's p: its class anomaly (images) or the text null (tokens), as with a baseline
      const p = check === 'trigger' ? triggerTestP(fp) : c?.pValue;
      return c && p !== undefined && Number.isFinite(p)
        ? [
            {
              check,
              pValue: p,
              ...(c.targetClass !== undefined ? { targetClass: c.targetClass } : {}),
            },
          ]
        : [];
    }),
  );
}

/** Weighted Bonferroni over the checks that ran (their weights renormalised to sum to 1). */
export function combineNoBaseline(
  ran: readonly { check: NoBaselineCheck; pValue: number; targetClass?: number }[],
  weights: Record<NoBaselineCheck, number> = NO_BASELINE_WEIGHTS,
): NoBaselineP {
  // weights of the checks that ran, renormalised; checks that all weigh 0 (the final-layer check alone)
  // share the whole weight equally
  const total = ran.reduce((s, c) => s + weights[c.check], 0);
  const parts: NoBaselinePart[] = ran.map((c) => ({
    ...c,
    weight: total > 0 ? weights[c.check] / total : 1 / ran.length,
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
