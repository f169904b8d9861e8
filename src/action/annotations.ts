/**
 * One annotation per model, on the model's file: failure for high risk and for models that could not be
 * scanned, warning for medium, notice for low; a model that was not assessed is a failure when it fails the
 * gate (on-not-assessed fail, the default) and a warning otherwise, with why and the fix. The same list feeds the check run and, when the check run
 * cannot be written (read-only token), workflow-command annotations. Most severe first, so the first
 * batch of 50 carries what matters.
 */
import { formatPValue, formatRiskScore } from '../report/numbers.js';
import { isFailed, type ModelEntry, type NotAssessedModel } from '../report/types.js';
import { MAX_ANNOTATION_TEXT_BYTES, MAX_CHECK_TITLE_CHARS } from './github-limits.js';
import { trimBytes, trimChars } from './text.js';

export type AnnotationLevel = 'failure' | 'warning' | 'notice';

export interface ModelAnnotation {
  path: string;
  level: AnnotationLevel;
  title: string;
  message: string;
  rawDetails?: string;
}

const LEVEL_OF = { high: 'failure', medium: 'warning', low: 'notice' } as const;
const SEVERITY: Record<AnnotationLevel, number> = { failure: 0, warning: 1, notice: 2 };

function notAssessedAnnotation(m: NotAssessedModel): ModelAnnotation {
  return {
    path: m.path,
    level: m.flagged ? 'failure' : 'warning',
    title: trimChars(
      `Not assessed for a backdoor${m.flagged ? ' (fails the gate)' : ''}: ${m.notAssessed.reason}`,
      MAX_CHECK_TITLE_CHARS,
    ),
    message: trimBytes(
      `${m.notAssessed.message}\nFix: ${m.notAssessed.fix}\nA model no check with power ran on has no risk level: it is unverified, not low risk.`,
      MAX_ANNOTATION_TEXT_BYTES,
    ),
    rawDetails: trimBytes(
      JSON.stringify({ sha256: m.sha256, checks: m.checks, budget: m.budget }, null, 2),
      MAX_ANNOTATION_TEXT_BYTES,
    ),
  };
}

export function annotationFor(m: ModelEntry): ModelAnnotation {
  if (isFailed(m)) {
    return {
      path: m.path,
      level: 'failure',
      title: trimChars(`Model could not be scanned (${m.errorCode})`, MAX_CHECK_TITLE_CHARS),
      message: trimBytes(
        `${m.error}\nA model that cannot be scanned is treated as a failure: the gate does not pass it unchecked.`,
        MAX_ANNOTATION_TEXT_BYTES,
      ),
    };
  }
  if (m.riskLevel === 'not-assessed') return notAssessedAnnotation(m);
  const e = m.explanation;
  const lines = [
    `Risk ${formatRiskScore(m.riskScore)}/100 (${m.riskLevel}), p-value ${formatPValue(m.pValue)}${m.flagged ? ' — reaches fail-on' : ''}.`,
    e.summary,
  ];
  if (e.strongestSignal) lines.push(`Strongest signal: ${e.strongestSignal}.`);
  if (e.suspectedTargetClass !== undefined) lines.push(`Suspected target class: ${e.suspectedTargetClass}.`);
  if (e.multiTarget)
    lines.push(
      e.multiTarget.kind === 'several'
        ? `No single target: classes ${e.multiTarget.classes.join(', ')} each stand out.`
        : 'No single target: a small trigger maps each class to another (all-to-all).',
    );
  const details = JSON.stringify(
    {
      sha256: m.sha256,
      detectors: m.detectors,
      drivers: e.drivers,
      nearestReferences: e.nearestReferences,
      trigger: e.trigger,
    },
    null,
    2,
  );
  return {
    path: m.path,
    level: LEVEL_OF[m.riskLevel],
    title: trimChars(
      `${m.riskLevel} backdoor risk ${formatRiskScore(m.riskScore)}/100`,
      MAX_CHECK_TITLE_CHARS,
    ),
    message: trimBytes(lines.join('\n'), MAX_ANNOTATION_TEXT_BYTES),
    rawDetails: trimBytes(details, MAX_ANNOTATION_TEXT_BYTES),
  };
}

export function annotationsFor(models: ModelEntry[]): ModelAnnotation[] {
  return models
    .map(annotationFor)
    .sort((a, b) => SEVERITY[a.level] - SEVERITY[b.level] || a.path.localeCompare(b.path));
}
