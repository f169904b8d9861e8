/**
 * The text of the sticky comment, the job summary and the check-run summary: the core's Markdown report
 * (its table, baseline line, notes and advice on flagged models) plus what only the action knows: the
 * link to the check run and how to accept a reviewed model into the baseline from a workflow.
 */
import type { ScanReport } from '../report/types.js';
import type { Tally } from './tally.js';

export const ACCEPT_IN_WORKFLOW =
  'In a workflow, a reviewed model joins the baseline by running this action with `mode: baseline` on the default branch (see docs/action.md).';

export function composeReportMarkdown(
  report: ScanReport,
  t: Tally,
  reportMarkdown: string,
  checkUrl?: string,
): string {
  const parts = [reportMarkdown.trimEnd()];
  if (t.flagged || t.byLevel.medium || t.byLevel.high) parts.push('', ACCEPT_IN_WORKFLOW);
  if (checkUrl) parts.push('', `Per-model annotations: [check run](${checkUrl}).`);
  if (report.models.length === 0)
    parts.push('', 'Nothing matched, so nothing was scanned: the check is neutral.');
  return parts.join('\n') + '\n';
}
