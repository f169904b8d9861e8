/**
 * The verdict when no baseline exists: reference-free checks only. Trigger probing has a shipped null
 * model (src/selfcheck/reference-free-p.ts), so its score becomes a p-value; the final-layer weight
 * outlier has none that holds across architectures, so it is reported for context but does not move the
 * risk score. Said plainly in the explanation.
 */
import type { Fingerprint } from '../fingerprint/types.js';
import type { DetectorResult, Explanation } from '../report/types.js';
import { triggerTestP } from './final.js';
import { describeChannel, selfCheckDetails } from '../scan/explain.js';
import { triggerWordsText } from '../report/describe.js';

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
  const t = details.trigger;
  const text = t?.kind === 'tokens';
  const summary = !trig
    ? 'No baseline, and trigger probing does not apply to this model (it needs an image-like float input, or a token-id input read by an embedding, and class logits): nothing measured its behaviour.'
    : pValue <= 0.0158 && t
      ? text
        ? `Trigger probing: inserting the ${triggerWordsText(t)} anywhere in a text sends ${(100 * t.flipRate).toFixed(0)}% of texts to class ${details.suspectedTargetClass} (z = ${t.zScore.toFixed(1)}).`
        : `Trigger probing: a ${t.kind}${t.location ? ` at ${t.location}` : ''} flips ${(100 * t.flipRate).toFixed(0)}% of probes into class ${details.suspectedTargetClass} (z = ${t.zScore.toFixed(1)}).`
      : text
        ? `Trigger probing found no class that inserted words pull texts into (p = ${pValue.toPrecision(2)}).`
        : `Trigger probing found no class that stamped triggers pull inputs into (p = ${pValue.toPrecision(2)}).`;
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
