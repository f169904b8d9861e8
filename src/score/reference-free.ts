/**
 * The verdict when no baseline exists: the reference-free checks, each a p-value against the model's own
 * other classes with no model zoo (trigger probing: src/selfcheck/class-anomaly.ts; the final layer's
 * weight rows: src/fingerprint/final-layer-anomaly.ts), combined by weighted Bonferroni
 * (src/score/no-baseline.ts). Said plainly in the explanation.
 */
import type { Fingerprint } from '../fingerprint/types.js';
import type { DetectorResult, Explanation } from '../report/types.js';
import { noBaselineScore } from './final.js';
import { noBaselineP } from './no-baseline.js';
import {
  finalLayerSentence,
  inversionSentence,
  naturalKeywordNote,
  referenceFreeSentence,
} from './finding-words.js';
import { levelOf, riskScore } from './risk.js';
import { formatPValue } from '../report/numbers.js';
import { describeChannel, selfCheckDetails } from '../scan/explain.js';
import { triggerNotRun } from '../scan/assessment.js';

/** The detector name of each no-baseline check in the report. */
const DETECTOR = {
  trigger: 'trigger-probe',
  'weight-outlier': 'final-layer',
  inversion: 'trigger-inversion',
} as const;

export interface ReferenceFreeVerdict {
  pValue: number;
  detectors: Record<string, DetectorResult>;
  explanation: Explanation;
}

export function referenceFreeVerdict(fp: Fingerprint): ReferenceFreeVerdict {
  const detectors: Record<string, DetectorResult> = {};
  const trig = fp.selfChecks['trigger'];
  const weights = fp.selfChecks['weight-outlier'];
  const v = noBaselineP(fp);
  const pValue = v.pValue;
  for (const part of v.parts) {
    const check = fp.selfChecks[part.check];
    detectors[DETECTOR[part.check]] = {
      score: noBaselineScore(check),
      pValue: part.pValue,
    };
  }
  const details = selfCheckDetails(fp);
  const level = levelOf(riskScore(pValue));
  // the final-layer check decided beside trigger probing (src/score/no-baseline.ts): its class is the
  // suspect, and trigger probing's trigger is named only when it points at the same class
  const byWeights = trig !== undefined && v.decidedBy === 'weight-outlier';
  // Likewise when a natural keyword was discounted (text models on the user's texts): the discounted score's
  // class is the suspect, and the raw search's trigger (built on that keyword) is not named.
  const adjusted = !byWeights && v.decidedBy === 'trigger' ? trig?.keywordAdjusted : undefined;
  const discounted = adjusted !== undefined && adjusted.discounted.length > 0;
  if ((byWeights || discounted) && !details.multiTarget) {
    if (v.targetClass !== undefined) details.suspectedTargetClass = v.targetClass;
    if (discounted || trig.targetClass !== v.targetClass) delete details.trigger;
  }
  const keywordNote =
    adjusted && trig.targetClass !== undefined ? naturalKeywordNote(adjusted, trig.targetClass) : '';
  // Without trigger probing the scan reports the model as not assessed (src/scan/assessment.ts) and why:
  // the final-layer check alone decides no level (it is reported, and a baseline calibrates it).
  const text = trig?.trigger?.kind === 'tokens';
  const triggerP = v.parts.find((x) => x.check === 'trigger')?.pValue ?? 1;
  const inv = fp.selfChecks['inversion'];
  const byInversion = trig !== undefined && v.decidedBy === 'inversion';
  if (byInversion && !details.multiTarget && v.targetClass !== undefined) {
    details.suspectedTargetClass = v.targetClass;
    if (trig.targetClass !== v.targetClass) delete details.trigger;
  }
  const summary = !trig
    ? `No baseline, and ${triggerNotRun(fp)?.sentence ?? 'trigger probing did not run.'}`
    : byInversion && !details.multiTarget
      ? inversionSentence(level, v.targetClass, pValue, inv?.detail ?? '', triggerP)
      : byWeights && !details.multiTarget
        ? finalLayerSentence(level, v.targetClass, pValue, triggerP)
        : details.multiTarget && (level === 'medium' || level === 'high')
          ? `Trigger probing: no single target: ${trig.detail ?? ''} (p = ${formatPValue(pValue)} against the model's own classes)${level === 'medium' ? ', not enough to call it high' : ''}.`
          : referenceFreeSentence(
              level,
              { cls: details.suspectedTargetClass, trigger: details.trigger },
              pValue,
            );
  const basisNote =
    trig?.basis === 'probes' || trig?.basis === 'mined'
      ? text
        ? ' Trigger words were inserted into texts generated from the model: give real texts (--probe-samples with a .txt file, one text per line, and --vocab-file) for full power.'
        : ' Triggers were stamped on generated inputs: give in-distribution samples (--probe-samples DIR) for full power.'
      : '';
  // --inversion asked for and the model could not be inverted: the report says so and why
  const inversionNote =
    inv && inv.pValue === undefined ? ` Trigger inversion ${inv.detail ?? 'not assessed'}.` : '';
  const deciding = v.decidedBy === 'weight-outlier' ? weights : byInversion ? inv : trig;
  const representation =
    v.decidedBy === 'weight-outlier'
      ? 'self:weight-outlier'
      : byInversion
        ? 'self:inversion'
        : 'self:trigger';
  // the check that decided, named as the report's detectors name it (the inversion's too: a reviewer told
  // "trigger probing" would look for a menu trigger that did not decide)
  const decidingDetector =
    v.decidedBy === 'weight-outlier'
      ? DETECTOR['weight-outlier']
      : byInversion
        ? DETECTOR.inversion
        : DETECTOR.trigger;
  return {
    pValue,
    detectors,
    explanation: {
      summary: summary + keywordNote + basisNote + inversionNote,
      strongestSignal:
        v.decidedBy === 'weight-outlier'
          ? describeChannel('identity', 'self:weight-outlier')
          : byInversion
            ? describeChannel(DETECTOR.inversion, representation)
            : trig
              ? describeChannel('trigger-probe', 'self:trigger', text)
              : 'none',
      drivers: deciding
        ? [
            {
              channel: decidingDetector,
              detector: decidingDetector,
              representation,
              score: noBaselineScore(deciding),
              pValue,
            },
          ]
        : [],
      nearestReferences: [],
      ...details,
    },
  };
}
