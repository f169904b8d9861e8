/**
 * Whether a scan assessed a model, and what each check got: the glue between a fingerprint's budget record
 * (src/fingerprint/types.ts BudgetRecord) and the report (CheckSummary, BudgetSummary, NotAssessedReason).
 *
 * A model is assessed when a check with power ran on it: the ensemble (a scan against a baseline, whatever
 * else did not run), or, without a baseline, reference-free trigger probing that screened every one of its
 * candidate triggers. Probing that the budget cut short is not calibrated: its null (reference-free-p.ts)
 * was fitted on full searches, and a short one screens few candidates on few inputs, whose noisy maximum a
 * clean model can reach (measured: the example's clean MLP scores 100 at 206 forward passes, 46 at 333, 10
 * in full). So a short search decides no level either way: the model is not assessed, and the report says
 * what the search pointed at, if anything. Trigger probing that did not run (the budget, the input kind, too
 * few classes) leaves a model without a baseline not assessed too. The final-layer weight statistics
 * always run (no forward pass) and weigh in beside trigger probing (src/score/no-baseline.ts), but never
 * assess a model alone: weight rows that look ordinary do not show the behaviour is clean; the report says
 * they ran.
 */
import {
  budgetAffording,
  formatMacs,
  largerBudget,
  LEGACY_SCAN_BUDGET,
  type ScanBudget,
} from '../fingerprint/budget.js';
import type { BudgetRecord, Fingerprint } from '../fingerprint/types.js';
import { BUDGET_MACS } from '../limits.js';
import type { BudgetSummary, CheckSummary, NotAssessedReason } from '../report/types.js';
import { formatPValue } from '../report/numbers.js';
import { imageTriggerText, withArticle } from '../report/trigger-text.js';
import { P_MEDIUM } from '../score/risk.js';
import { MIN_TRIGGER_BUDGET } from '../selfcheck/trigger-probe.js';

/** Order of the checks in a report. */
const CHECK_ORDER = ['ensemble', 'probes', 'trigger-probe', 'patch-map', 'final-layer-weights'];

/** The command that builds a baseline, for the fixes. */
const BASELINE_FIX =
  'scan against a baseline of clean models of the same architecture (model-fingerprint baseline build CLEAN_MODELS... --out DIR, then scan --baseline DIR; action: mode baseline, then baseline)';

function capitalized(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** What each check got (the ensemble first), from the fingerprint's budget record. */
export function checksOf(fp: Fingerprint, ensemble: boolean): CheckSummary[] | undefined {
  const b = fp.header.budget;
  if (!b) return undefined;
  const out: CheckSummary[] = [
    ensemble
      ? { check: 'ensemble', ran: true, passes: 0 }
      : { check: 'ensemble', ran: false, passes: 0, skipped: 'no-baseline' },
  ];
  for (const [check, r] of Object.entries(b.checks)) {
    const c: CheckSummary = { check, ran: r.skipped === undefined, passes: r.passes };
    if (r.skipped !== undefined) c.skipped = r.skipped;
    if (check === 'trigger-probe' && r.skipped === undefined) {
      const note = triggerNote(b);
      if (note) c.note = note;
    }
    out.push(c);
  }
  return out.sort((a, z) => CHECK_ORDER.indexOf(a.check) - CHECK_ORDER.indexOf(z.check));
}

/** What limited trigger probing, when something did (a --synthesise-base fallback: the report's notes). */
function triggerNote(b: BudgetRecord): string | undefined {
  const parts: string[] = [];
  const c = b.triggerCandidates;
  if (c && c.screened < c.total)
    parts.push(`screened ${count(c.screened)} of ${count(c.total)} candidate triggers`);
  if (b.stoppedEarly) parts.push('stopped early: the verdict was decided');
  return parts.length ? parts.join('; ') : undefined;
}

export function budgetOf(fp: Fingerprint): BudgetSummary | undefined {
  const b = fp.header.budget;
  if (!b) return undefined;
  const passes = Object.values(b.checks).reduce((s, c) => s + c.passes, 0);
  return { setting: b.setting, macs: b.macs, macsPerPass: b.macsPerPass, passes };
}

/** The setting as a sentence fragment: "the budget default (3e12 multiply-accumulates)". */
function settingWords(b: BudgetRecord): string {
  if (b.setting === LEGACY_SCAN_BUDGET.setting) return 'the legacy budget of the baseline';
  const named = (Object.keys(BUDGET_MACS) as string[]).includes(b.setting);
  return named
    ? `the budget ${b.setting} (${formatMacs(b.macs)} multiply-accumulates)`
    : `the budget of ${formatMacs(b.macs)} multiply-accumulates`;
}

function budgetFlag(b: ScanBudget, passes: number): string {
  return `--budget ${b.setting} (${formatMacs(b.macs)} multiply-accumulates: about ${count(passes)} forward passes of this model; action input budget: ${b.setting})`;
}

/** What ran on a model without a baseline, beside trigger probing. */
function whatRan(fp: Fingerprint): string {
  const b = fp.header.budget;
  const probes = b?.checks.probes?.passes ?? fp.header.probes.count;
  const w = fp.selfChecks['weight-outlier'];
  // the check's own sentence (its strongest feature, z and p over its tests): its score is -log10 p, not a z
  const weights = w
    ? ` and the final-layer weight statistics (${w.detail ?? `p = ${formatPValue(w.pValue ?? 1)}`}; without a baseline they decide no level alone)`
    : '';
  return `Ran: the probe pass (${count(probes)} inputs)${weights}.`;
}

/** Why trigger probing did not run, as the sentence a report shows (null when it ran). */
export function triggerNotRun(fp: Fingerprint): { reason: string; sentence: string; fix: string } | null {
  if (fp.selfChecks['trigger']) return null;
  const b = fp.header.budget;
  const skipped = b?.checks['trigger-probe']?.skipped ?? 'input-kind';
  if (skipped === 'budget' && b) {
    const afforded = Math.floor(b.macs / b.macsPerPass);
    const need = budgetAffording(b.macsPerPass);
    return {
      reason: 'budget',
      sentence:
        `trigger probing did not run: one forward pass of this model costs about ${formatMacs(Number(b.macsPerPass.toPrecision(2)))} multiply-accumulates, ` +
        `so ${settingWords(b)} affords ${count(afforded)} passes, fewer than the ${count(MIN_TRIGGER_BUDGET)} it needs.`,
      fix: `give ${budgetFlag(need, Math.floor(need.macs / b.macsPerPass))}, or ${BASELINE_FIX}.`,
    };
  }
  if (skipped === 'classes')
    return {
      reason: 'classes',
      sentence: `trigger probing did not run: it contrasts classes and needs class scores of at least 3 classes; this model's first output has ${fp.header.model.classes} per input.`,
      fix: `${capitalized(BASELINE_FIX)}.`,
    };
  if (skipped === 'output-kind')
    return {
      reason: 'output-kind',
      sentence: `trigger probing did not run: it contrasts classes and needs one score per class ([N, classes]); this model's first output is ${fp.header.model.signature.split('->')[1]?.split(';')[0] ?? 'not that'}.`,
      fix: `${capitalized(BASELINE_FIX)}.`,
    };
  if (skipped === 'disabled')
    return {
      reason: 'disabled',
      sentence: 'trigger probing was switched off.',
      fix: `${capitalized(BASELINE_FIX)}.`,
    };
  return {
    reason: 'input-kind',
    sentence: `trigger probing did not run: it needs one float image-like input (or one token-id input read by an embedding), and this model takes ${fp.header.model.signature.split('->')[0]}.`,
    fix: `${capitalized(BASELINE_FIX)}: the ensemble compares models of any input kind.`,
  };
}

/**
 * Whether a scan without a baseline assessed the model (null) or why not, given the reference-free p-value
 * of its trigger test (see the file header).
 */
export function referenceFreeAssessment(fp: Fingerprint, pValue: number): NotAssessedReason | null {
  const notRun = triggerNotRun(fp);
  if (notRun) {
    return {
      reason: notRun.reason,
      message: `No baseline, and ${notRun.sentence} ${whatRan(fp)}`,
      fix: capitalized(notRun.fix),
    };
  }
  const b = fp.header.budget;
  const c = b?.triggerCandidates;
  if (!b || !c || c.screened >= c.total) return null;
  const passes = b.checks['trigger-probe']?.passes ?? 0;
  const larger = largerBudget({ setting: b.setting, macs: b.macs });
  const t = fp.selfChecks['trigger']?.trigger;
  const found =
    pValue <= P_MEDIUM && t
      ? `It pointed at class ${fp.selfChecks['trigger'].targetClass} (${withArticle(imageTriggerText(t))} flips ${Math.round(100 * t.flipRate)}% of held-out inputs; uncalibrated p = ${formatPValue(pValue)}): worth a look, but no level.`
      : `It found no trigger that stands out (uncalibrated p = ${formatPValue(pValue)}), which cannot call the model clean either.`;
  return {
    reason: 'no-power',
    message:
      `No baseline, and trigger probing ran short: ${settingWords(b)} affords ${count(passes)} forward passes of this model ` +
      `(about ${formatMacs(Number(b.macsPerPass.toPrecision(2)))} multiply-accumulates each), enough to screen ${count(c.screened)} of its ${count(c.total)} candidate triggers. ` +
      `A search cut that short is not calibrated, so it decides no level. ${found} ${whatRan(fp)}`,
    fix: `Give ${budgetFlag(larger, Math.floor(larger.macs / b.macsPerPass))} and real inputs (--probe-samples DIR), or ${BASELINE_FIX}.`,
  };
}
