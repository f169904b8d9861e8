/**
 * The words every human-facing renderer shares: the strongest signal, the suspected target class, the
 * baseline line, the display order and the counts. One source so the PR comment, the terminal table,
 * SARIF messages and JUnit bodies describe a model the same way.
 */
import { compareLevels, failsGate, onNotAssessedOf } from './levels.js';
import { formatPValue } from './numbers.js';
import type { BaselineSummary, FailedModel, FailOn, ScanReport, ScannedModel } from './types.js';
import { isFailed } from './types.js';
import { imageTriggerText } from './trigger-text.js';

/** Characters of a baseline id shown to people (like a short git hash: enough to tell baselines apart). */
export const SHORT_ID_CHARS = 12;

/** The strongest signal as a short phrase, e.g. "knn on logits (p = 1.2e-4)"; "none" when nothing stood out. */
export function strongestSignalText(m: ScannedModel): string {
  const { strongestSignal, drivers } = m.explanation;
  const driver = drivers.find((d) => d.channel === strongestSignal) ?? drivers[0];
  const name = strongestSignal || driver?.channel || '';
  if (!name) return 'none';
  return driver ? `${name} (p = ${formatPValue(driver.pValue)})` : name;
}

/**
 * "not assessed: trigger probing did not run (budget)": what a table shows in place of the strongest signal of
 * a model that was not assessed.
 */
export function notAssessedText(m: ScannedModel): string | undefined {
  if (m.riskLevel !== 'not-assessed') return undefined;
  return `not assessed: ${NOT_ASSESSED_WORDS[m.notAssessed.reason] ?? m.notAssessed.reason}`;
}

/** A not-assessed reason (NotAssessedReason.reason) in a few words. */
export const NOT_ASSESSED_WORDS: Record<string, string> = {
  budget: 'the budget affords too few forward passes for trigger probing',
  'input-kind': 'trigger probing does not apply to this input kind',
  classes: 'trigger probing needs at least 3 classes',
  'output-kind': 'trigger probing needs one score per class',
  'no-power': 'trigger probing ran too short to decide',
};

/** One line: what each check got ("trigger probing 4,812 passes, patch map not run (budget)"), or undefined. */
export function checksText(m: ScannedModel): string | undefined {
  if (!m.checks || m.checks.length === 0) return undefined;
  const parts = m.checks
    .filter((c) => c.check !== 'probes')
    .map((c) => {
      const name = CHECK_WORDS[c.check] ?? c.check;
      if (!c.ran) return `${name} not run (${SKIP_WORDS[c.skipped ?? ''] ?? c.skipped ?? 'not run'})`;
      const passes = c.passes > 0 ? ` ${c.passes.toLocaleString('en-US')} passes` : ' ran';
      return `${name}${passes}${c.note ? ` (${c.note})` : ''}`;
    });
  return parts.join(', ');
}

/** The budget line: "budget default: 5,374 forward passes of 5.6e8 multiply-accumulates each". */
export function budgetText(m: ScannedModel): string | undefined {
  const b = m.budget;
  if (!b) return undefined;
  const setting = b.setting === 'legacy' ? 'legacy (the baseline predates --budget)' : b.setting;
  return `budget ${setting}: ${b.passes.toLocaleString('en-US')} forward passes of ${shortMacs(b.macsPerPass)} multiply-accumulates each`;
}

/** 5.56e8 -> "5.6e8"; small counts as they are. */
export function shortMacs(x: number): string {
  return x < 1e4 ? String(Math.round(x)) : x.toExponential(1).replace('e+', 'e');
}

/** The checks' names in words. */
export const CHECK_WORDS: Record<string, string> = {
  ensemble: 'ensemble',
  probes: 'probe pass',
  'trigger-probe': 'trigger probing',
  'patch-map': 'patch map',
  'final-layer-weights': 'final-layer weights',
};

/** Why a check did not run (src/fingerprint/types.ts SkipReason), in a few words. */
export const SKIP_WORDS: Record<string, string> = {
  budget: 'budget',
  'input-kind': 'input kind',
  classes: 'fewer than 3 classes',
  'output-kind': 'output kind',
  'not-read': 'not read without a baseline',
  base: 'generated probes',
  'no-final-layer': 'no final linear layer',
  disabled: 'disabled',
  'no-baseline': 'no baseline',
};

/**
 * "class 7" when trigger probing found a class the model flips into, "classes 3, 7 (several targets)" or
 * "all-to-all (no single target)" when it found no single one, else undefined.
 */
export function targetClassText(m: ScannedModel): string | undefined {
  const multi = m.explanation.multiTarget;
  if (multi?.kind === 'several') return `classes ${multi.classes.join(', ')} (several targets)`;
  if (multi) return 'all-to-all (no single target)';
  const c = m.explanation.suspectedTargetClass;
  return c === undefined ? undefined : `class ${c}`;
}

/**
 * "class 7: bright 3x3 patch at the bottom-right corner (row 11, column 11), flips 92%": the suspected target and the trigger that moved it (issue
 * 6: what a reviewer of a flagged model needs to reproduce the finding), or undefined when none was named.
 */
export function suspectedTriggerText(m: ScannedModel): string | undefined {
  const target = targetClassText(m);
  const t = m.explanation.trigger;
  if (!target || !t) return target;
  const flips = Number.isFinite(t.flipRate) ? `, flips ${Math.round(100 * t.flipRate)}%` : '';
  if (t.kind === 'tokens') return `${target}: ${triggerWordsText(t)} inserted anywhere${flips}`;
  return `${target}: ${imageTriggerText(t)}${flips}`;
}

/**
 * A text model's trigger: 'words "cf mn"' when the scan had the vocabulary file, else the token ids
 * ("token ids 1042 17"), which the model's own tokenizer maps back to words.
 */
export function triggerWordsText(t: { tokens?: number[]; words?: string[] }): string {
  if (t.words && t.words.length > 0) return `${t.words.length > 1 ? 'words' : 'word'} "${t.words.join(' ')}"`;
  if (t.tokens && t.tokens.length > 0)
    return `${t.tokens.length > 1 ? 'token ids' : 'token id'} ${t.tokens.join(' ')}`;
  return 'inserted tokens';
}

/** A baseline id shortened for people; a "sha256:" style prefix is dropped first. */
export function shortBaselineId(id: string): string {
  const bare = id.includes(':') ? id.slice(id.lastIndexOf(':') + 1) : id;
  return bare.slice(0, SHORT_ID_CHARS);
}

/** One line that says what the scores were compared against. */
export function baselineText(baseline: BaselineSummary | null): string {
  if (!baseline) return 'no baseline: reference-free checks only';
  const noun = baseline.members === 1 ? 'clean model' : 'clean models';
  return `baseline ${shortBaselineId(baseline.id)} of ${baseline.members} ${noun}`;
}

export interface PartitionedModels {
  /** Scanned models, worst first: level, then risk score, then path for a stable order. */
  scanned: ScannedModel[];
  /** Models that could not be scanned, in report order. */
  failed: FailedModel[];
}

export function partitionModels(report: ScanReport): PartitionedModels {
  const scanned: ScannedModel[] = [];
  const failed: FailedModel[] = [];
  for (const m of report.models) {
    if (isFailed(m)) failed.push(m);
    else scanned.push(m);
  }
  scanned.sort(
    (a, b) =>
      compareLevels(a.riskLevel, b.riskLevel) ||
      (b.riskScore ?? 0) - (a.riskScore ?? 0) ||
      (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
  return { scanned, failed };
}

export interface ReportCounts {
  total: number;
  scanned: number;
  /** Scanned models at or above the fail-on level. */
  failing: number;
  failed: number;
  /** Scanned models no check with power ran on. */
  notAssessed: number;
  /** Of notAssessed: those that fail the gate (on-not-assessed fail). */
  notAssessedFailing: number;
}

export function countModels(report: ScanReport, failOn: FailOn): ReportCounts {
  const { scanned, failed } = partitionModels(report);
  const onNotAssessed = onNotAssessedOf(report);
  const notAssessed = scanned.filter((m) => m.riskLevel === 'not-assessed');
  return {
    total: report.models.length,
    scanned: scanned.length,
    failing: scanned.filter((m) => m.riskLevel !== 'not-assessed' && failsGate(m.riskLevel, failOn)).length,
    failed: failed.length,
    notAssessed: notAssessed.length,
    notAssessedFailing: notAssessed.filter((m) => failsGate(m.riskLevel, failOn, onNotAssessed)).length,
  };
}
