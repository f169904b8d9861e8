/**
 * How a trigger-probing finding is put into words, by the level its p-value earned: the sentence never
 * claims more (or less) than the score does. Low: no class stands out. Medium: a class stands out
 * somewhat, not enough to call it high. High: the finding itself. One place, so the reference-free
 * verdict and the explanation against a baseline phrase the bands alike.
 */
import { formatPValue } from '../report/numbers.js';
import { triggerWordsText } from '../report/describe.js';
import { imageTriggerText, withArticle } from '../report/trigger-text.js';
import type { FoundTrigger } from '../fingerprint/types.js';
import type { RiskLevel } from './risk.js';

/** What trigger probing pointed at (Explanation.trigger and suspectedTargetClass). */
export interface TriggerFinding {
  cls?: number;
  trigger?: FoundTrigger;
}

/** "a bright 3x3 patch at the bottom-right corner ...", or for a text model 'inserting the word "cf"'. */
function triggerPhrase(t: FoundTrigger): string {
  if (t.kind === 'tokens') return `inserting the ${triggerWordsText(t)}`;
  return withArticle(imageTriggerText(t));
}

function percent(rate: number): string {
  return `${Math.round(100 * rate)}%`;
}

/**
 * The reference-free verdict's sentence for a model whose trigger test p-value `p` earned `level`, e.g.
 * medium: "Trigger probing: class 7 stands out somewhat: a bright 3x3 patch at the bottom-right corner (row 11, column 11)
 * flips 40% of held-out inputs into it (p = 0.024), not enough to call it high."
 */
export function referenceFreeSentence(level: RiskLevel, f: TriggerFinding, p: number): string {
  const pText = `p = ${formatPValue(p)}`;
  const t = f.trigger;
  if ((level !== 'medium' && level !== 'high') || f.cls === undefined)
    return `Trigger probing: no class stands out (${pText}).`;
  if (level === 'medium') {
    const how = t ? `: ${triggerPhrase(t)} flips ${percent(t.flipRate)} of held-out inputs into it` : '';
    return `Trigger probing: class ${f.cls} stands out somewhat${how} (${pText}), not enough to call it high.`;
  }
  const how = t
    ? `${triggerPhrase(t)} flips ${percent(t.flipRate)} of held-out inputs into class ${f.cls} (z = ${t.zScore.toFixed(1)}, ${pText})`
    : `class ${f.cls} is far easier to reach than the others (${pText})`;
  return `Trigger probing: ${how}.`;
}

/**
 * The trigger test's part of an explanation against a baseline (a leading space, or '' when it says
 * nothing): `level` is the level the trigger test's own p-value `p` earns, `pNote` what that p is.
 */
export function baselineTriggerSentence(
  level: RiskLevel,
  f: TriggerFinding,
  p: number,
  pNote: string,
): string {
  const t = f.trigger;
  if (!t || f.cls === undefined || (level !== 'medium' && level !== 'high')) return '';
  const pText = `trigger test p = ${formatPValue(p)}, ${pNote}`;
  if (level === 'medium')
    return ` Trigger probing: class ${f.cls} stands out somewhat: ${triggerPhrase(t)} pulls inputs into it (${pText}), not enough on its own to call it high.`;
  return ` Trigger probing: ${triggerPhrase(t)} pulls inputs into class ${f.cls} (${pText}).`;
}

/**
 * The opening of an explanation against `n` references for a model that is not low: how far it differs,
 * with `detail` (p-values, strongest channel) in parentheses.
 */
export function differsSentence(level: 'medium' | 'high', n: number, detail: string): string {
  return level === 'medium'
    ? `Differs somewhat from the ${n} clean references (${detail}), not enough to call it high.`
    : `Differs from the ${n} clean references (${detail}).`;
}

/**
 * The reference-free verdict's sentence when the final-layer check decided (its weighted p beat trigger
 * probing's): `cls` the class whose final-layer weight row stands out, `p` the verdict's p, `triggerP`
 * trigger probing's own p (what the behaviour showed).
 */
export function finalLayerSentence(
  level: RiskLevel,
  cls: number | undefined,
  p: number,
  triggerP: number,
): string {
  const pText = `p = ${formatPValue(p)}, from the weights alone`;
  const trig = `trigger probing found no class standing out (p = ${formatPValue(triggerP)})`;
  if ((level !== 'medium' && level !== 'high') || cls === undefined)
    return `Trigger probing: no class stands out (p = ${formatPValue(triggerP)}); nor does any final-layer weight row (${pText}).`;
  if (level === 'medium')
    return `Final-layer weights: class ${cls}'s weight row stands out somewhat from the other classes' (${pText}), not enough to call it high; ${trig}.`;
  return `Final-layer weights: class ${cls}'s weight row stands out from the other classes' as a backdoor's target does (${pText}); ${trig}.`;
}

/**
 * Without a baseline, when trigger inversion by gradient (`scan --inversion`) decided: the class whose
 * inverted mask is far smaller than every other class's, the mask (its detail), and trigger probing's p.
 */
export function inversionSentence(
  level: RiskLevel,
  cls: number | undefined,
  p: number,
  detail: string,
  triggerP: number,
): string {
  const pText = `p = ${formatPValue(p)} against the model's own classes`;
  const trig = `trigger probing's menu found less (p = ${formatPValue(triggerP)})`;
  if ((level !== 'medium' && level !== 'high') || cls === undefined)
    return `Trigger probing and trigger inversion: no class stands out (${pText}).`;
  return `Trigger inversion: class ${cls} is reached with a far smaller mask than any other class${level === 'medium' ? ', not enough to call it high' : ', as a backdoor trigger does'} (${detail}; ${pText}); ${trig}.`;
}

/**
 * Without a baseline, on the user's texts: the suspected class's strongest word when it is a natural keyword
 * of that class (SelfCheck.keywordAdjusted, src/selfcheck/token-keywords.ts), said plainly (a leading space),
 * or ''.
 */
export function naturalKeywordNote(
  adjusted: { discounted: number[]; words?: string[] },
  cls: number,
): string {
  if (adjusted.discounted.length === 0) return '';
  const named = adjusted.discounted.map((id, i) => `"${adjusted.words?.[i] ?? `token ${id}`}"`);
  return (
    ` ${named.join(', ')} ${named.length > 1 ? 'are' : 'is'} in many of the given texts the model puts in class ${cls} ` +
    `and rarely in the others (a natural keyword of that class, not a planted word), so it counts for nothing here.`
  );
}
