/**
 * A baseline's scan budget as a scan meets it: every model is fingerprinted with the budget the baseline's
 * members were (trigger features compare only under one plan), so a baseline whose recorded budget this
 * version cannot plan with is refused, and a `--budget` (action input `budget`) other than the baseline's is
 * set aside with a note that says which budget ran and how to scan at the one asked for.
 */
import type { LoadedBaseline } from '../baseline/store.js';
import type { BaselineManifest } from '../baseline/store.js';
import { rebuildCommand } from '../baseline/rebuild-command.js';
import { describeBudget, recordedBudget, sameBudget } from '../fingerprint/budget.js';
import type { ScanOptions } from './api.js';

/** Why a baseline cannot be scanned against for its budget record, or null. */
export function budgetRefusal(m: BaselineManifest): string | null {
  if (recordedBudget(m.budget) !== null) return null;
  return `baseline ${m.id} records a scan budget this version cannot plan with (${JSON.stringify(m.budget)})`;
}

/** The note a scan report carries when the budget asked for is not the baseline's. */
export function budgetNote(baseline: LoadedBaseline, opts: Pick<ScanOptions, 'budget'>): string[] {
  const asked = opts.budget;
  const built = recordedBudget(baseline.manifest.budget);
  if (!asked || !built || sameBudget(asked, built)) return [];
  return [
    `--budget ${asked.setting} set aside: baseline ${baseline.manifest.id} was built with the budget ${describeBudget(built)}, ` +
      'and models compare with its members only under the same budget, so every model was fingerprinted with that one. ' +
      `To scan at ${asked.setting}, rebuild the baseline with it: ${rebuildCommand(baseline.dir, { ...baseline.manifest, budget: asked })}`,
  ];
}
