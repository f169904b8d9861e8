/**
 * The verdict when no baseline exists: reference-free checks only. Trigger probing has a shipped null
 * model (src/selfcheck/reference-free-p.ts), so its score becomes a p-value; the final-layer weight
 * outlier has none that holds across architectures, so it is reported for context but does not move the
 * risk score. Said plainly in the explanation.
 */
import type { Fingerprint } from '../fingerprint/types.js';
import type { DetectorResult, Explanation } from '../report/types.js';
import { triggerTestP } from './final.js';
import { referenceFreeSentence } from './finding-words.js';
import { levelOf, riskScore } from './risk.js';
import { describeChannel, selfCheckDetails } from '../scan/explain.js';
import { triggerNotRun } from '../scan/assessment.js';

export interface ReferenceFreeVerdict {
  pValue: number;
  detectors: Record<string, DetectorResult>;
  explanation: Explanation;
}

export function referenceFreeVerdict(fp: Fingerprint): ReferenceFreeVerdict {
  const detectors: Record<string, DetectorResult> = {};
  const trig = fp.selfChecks['trigger'];
  const pt = triggerTestP(fp);
  const pValue = pt ?? 1;
  if (trig && pt !== undefined) detectors['trigger-probe'] = { score: trig.score, pValue };
  const details = selfCheckDetails(fp);
  const text = details.trigger?.kind === 'tokens';
  // Without trigger probing the scan reports the model as not assessed (src/scan/assessment.ts) and why.
  const summary = !trig
    ? `No baseline, and ${triggerNotRun(fp)?.sentence ?? 'trigger probing did not run.'}`
    : referenceFreeSentence(
        levelOf(riskScore(pValue)),
        { cls: details.suspectedTargetClass, trigger: details.trigger },
        pValue,
      );
  const basisNote =
    trig?.basis === 'probes' || trig?.basis === 'mined'
      ? text
        ? ' Trigger words were inserted into texts generated from the model: give real texts (--probe-samples with a .txt file, one text per line, and --vocab-file) for full power.'
        : ' Triggers were stamped on generated inputs: give in-distribution samples (--probe-samples DIR) for full power.'
      : '';
  return {
    pValue,
    detectors,
    explanation: {
      summary: summary + basisNote,
      strongestSignal: trig ? describeChannel('trigger-probe', 'self:trigger', text) : 'none',
      drivers: trig
        ? [
            {
              channel: 'trigger-probe',
              detector: 'trigger-probe',
              representation: 'self:trigger',
              score: trig.score,
              pValue,
            },
          ]
        : [],
      nearestReferences: [],
      ...details,
    },
  };
}
