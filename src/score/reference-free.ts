/**
 * The verdict when no baseline exists: the reference-free checks, each a p-value against the model's own
 * other classes with no model zoo (trigger probing: src/selfcheck/class-anomaly.ts; the final layer's
 * weight rows: src/fingerprint/final-layer-anomaly.ts), combined by weighted Bonferroni
 * (src/score/no-baseline.ts). Said plainly in the explanation.
 */
import type { Fingerprint } from '../fingerprint/types.js';
import type { DetectorResult, Explanation } from '../report/types.js';
import { noBaselineP } from './no-baseline.js';
import { describeChannel, selfCheckDetails } from '../scan/explain.js';

export interface ReferenceFreeVerdict {
  pValue: number;
  detectors: Record<string, DetectorResult>;
  explanation: Explanation;
}

/** A check's p-value at or below this is named in the summary. */
const HIGH_P = 0.0158;

export function referenceFreeVerdict(fp: Fingerprint): ReferenceFreeVerdict {
  const detectors: Record<string, DetectorResult> = {};
  const trig = fp.selfChecks['trigger'];
  const weights = fp.selfChecks['weight-outlier'];
  const v = noBaselineP(fp);
  const pValue = v.pValue;
  for (const part of v.parts) {
    const check = fp.selfChecks[part.check];
    detectors[part.check === 'trigger' ? 'trigger-probe' : 'final-layer'] = {
      score: check.score,
      pValue: part.pValue,
    };
  }
  const details = selfCheckDetails(fp);
  const t = details.trigger;
  const triggerP = trig?.pValue;
  const summary =
    v.parts.length === 0
      ? 'No baseline, and neither trigger probing nor the final-layer check applies to this model: nothing measured it.'
      : pValue <= HIGH_P && v.decidedBy === 'trigger' && details.multiTarget
        ? `Trigger probing: no single target: ${trig?.detail ?? ''} (p = ${(triggerP ?? 1).toPrecision(2)} against the model's own classes).`
        : pValue <= HIGH_P && v.decidedBy === 'trigger' && t
          ? `Trigger probing: a ${t.kind}${t.location ? ` at ${t.location}` : ''} flips ${(100 * t.flipRate).toFixed(0)}% of probes into class ${details.suspectedTargetClass} (z = ${t.zScore.toFixed(1)}, p = ${(triggerP ?? 1).toPrecision(2)} against the model's own classes).`
          : pValue <= HIGH_P && v.decidedBy === 'weight-outlier' && weights
            ? `Final-layer weights: ${weights.detail ?? `class ${weights.targetClass} stands out`}.`
            : `No class stands out from the model's own classes (${v.parts
                .map(
                  (x) =>
                    `${x.check === 'trigger' ? 'trigger probing' : 'final-layer weights'} p = ${x.pValue.toPrecision(2)}`,
                )
                .join(', ')}).`;
  const basisNote =
    trig?.basis === 'probes' || trig?.basis === 'mined'
      ? ' Triggers were stamped on generated inputs: give in-distribution samples (--probe-samples DIR) for full power.'
      : '';
  const deciding = v.decidedBy === 'weight-outlier' ? weights : trig;
  const representation = v.decidedBy === 'weight-outlier' ? 'self:weight-outlier' : 'self:trigger';
  return {
    pValue,
    detectors,
    explanation: {
      summary: summary + basisNote,
      strongestSignal:
        v.decidedBy === 'weight-outlier'
          ? describeChannel('identity', 'self:weight-outlier')
          : trig
            ? describeChannel('trigger-probe', 'self:trigger')
            : 'none',
      drivers: deciding
        ? [
            {
              channel: v.decidedBy === 'weight-outlier' ? 'final-layer' : 'trigger-probe',
              detector: v.decidedBy === 'weight-outlier' ? 'final-layer' : 'trigger-probe',
              representation,
              score: deciding.score,
              pValue,
            },
          ]
        : [],
      nearestReferences: [],
      ...details,
    },
  };
}
