/**
 * The Markdown the pull-request comment and the job summary show: a table of models (worst first; a flagged
 * model's suspected target class and trigger), the baseline line, what to do about a flagged model, and the models that could not be scanned. Paths and
 * error messages come from the pull request, so they are escaped: a path cannot end a table cell, open a
 * link or inject HTML.
 */
import { MARKDOWN_MAX_FAILED, MARKDOWN_MAX_ROWS } from '../limits.js';
import {
  budgetText,
  checksText,
  countModels,
  notAssessedText,
  partitionModels,
  shortBaselineId,
  strongestSignalText,
  suspectedTriggerText,
} from './describe.js';
import {
  FLAGGED_MODEL_GUIDANCE,
  FLAGGED_MODEL_GUIDANCE_TITLE,
  UNSCANNABLE_MODEL_GUIDANCE,
} from './guidance.js';
import { isFinding, levelLabel, onNotAssessedOf } from './levels.js';
import { formatPValue, formatRiskScore } from './numbers.js';
import { printable } from './printable.js';
import type { FailOn, ScanReport, ScannedModel } from './types.js';
import { textHeatMap } from './heatmap-text.js';
import { REPORT_HTML, suspectedClasses, wantsPictures, type EvidenceByPath } from './pictures.js';

export interface MarkdownOptions {
  /** Heading line; defaults to "Model fingerprint scan". Pass '' for none. */
  heading?: string;
  /** Level that counts as failing (for the summary line); defaults to the report's failOn. */
  failOn?: FailOn;
  /** What trigger probing found per model (ScanOptions.onEvidence): flagged models get their patch map. */
  evidence?: EvidenceByPath;
  /** Where the HTML report with the pictures is (the action's workflow artifact). */
  htmlReport?: { url: string; name: string };
}

/** Most flagged models whose patch map the Markdown shows (the HTML report has them all). */
export const MARKDOWN_MAX_MAPS = 5;
/** A link target the comment may carry: http(s), nothing Markdown could read as the end of the link. */
const SAFE_URL = /^https?:\/\/[^\s()<>[\]`]+$/;

// Characters written as HTML character references inside <code>: Markdown never acts on a reference, and a
// table row is never split at one.
const CODE_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '|': '&#124;',
  '\\': '&#92;',
  '`': '&#96;',
  '*': '&#42;',
  _: '&#95;',
  '[': '&#91;',
  ']': '&#93;',
  '~': '&#126;',
};

/**
 * A path as inline code that survives a GFM table. Normally a code span: pipes are backslash-escaped (GFM
 * splits cells before it parses code spans, and removes the backslash inside them), and the fence is one
 * backtick longer than the longest backtick run, padded with spaces when the path starts or ends with one.
 * A backslash right before a pipe cannot be written in a code span inside a table (GFM reads "\\|" as an
 * escaped backslash and a cell boundary), so such a path becomes <code> with character references.
 */
export function markdownCode(s: string): string {
  const safe = printable(s);
  if (/\\\|/.test(safe)) {
    return `<code>${safe.replace(/[&<>|\\`*_[\]~]/g, (c) => CODE_ENTITIES[c])}</code>`;
  }
  const text = safe.replace(/\|/g, '\\|');
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/**
 * Plain text in Markdown: the punctuation Markdown or HTML could act on is escaped. Parentheses are left
 * alone: with brackets escaped they cannot form a link, and an escaped ")" would leak its backslash into a
 * bare URL that GitHub autolinks.
 */
export function markdownText(s: string): string {
  return printable(s).replace(/[\\`*_{}[\]<>#+!|~&]/g, (c) => `\\${c}`);
}

function levelCell(m: ScannedModel): string {
  return m.riskLevel === 'low' ? 'low' : `**${levelLabel(m.riskLevel)}**`;
}

/** What a not-assessed model gets in place of a signal: why not. */
function signalCell(m: ScannedModel): string {
  return markdownText(notAssessedText(m) ?? strongestSignalText(m));
}

/**
 * The suspected trigger of a medium or high model (what a reviewer checks first); a low model's easiest class
 * is no finding, so its cell stays empty rather than invite a second look.
 */
function triggerCell(m: ScannedModel): string {
  const text = isFinding(m.riskLevel) ? suspectedTriggerText(m) : undefined;
  return text ? markdownText(text) : '-';
}

function table(models: ScannedModel[]): string[] {
  const rows = models
    .slice(0, MARKDOWN_MAX_ROWS)
    .map(
      (m) =>
        `| ${markdownCode(m.path)} | ${formatRiskScore(m.riskScore)} | ${levelCell(m)} | ` +
        `${signalCell(m)} | ${triggerCell(m)} |`,
    );
  const lines = [
    '| Model | Risk score | Level | Strongest signal | Suspected trigger |',
    '| --- | ---: | --- | --- | --- |',
    ...rows,
  ];
  if (models.length > MARKDOWN_MAX_ROWS) {
    lines.push('', `_…and ${models.length - MARKDOWN_MAX_ROWS} more models: see the JSON or SARIF report._`);
  }
  return lines;
}

/**
 * Where a picture would need a URL: the patch map of each flagged model's suspected class as a Unicode
 * block heat map (src/report/heatmap-text.ts) in a code block, and the link to the HTML report.
 */
function pictureLines(models: ScannedModel[], opts: MarkdownOptions): string[] {
  const out: string[] = [];
  const flagged = models.filter(wantsPictures);
  const maps = flagged.flatMap((m) => {
    const e = opts.evidence?.get(m.path);
    const cls = e ? suspectedClasses(m, e)[0] : undefined;
    const map = e?.map && cls !== undefined ? textHeatMap(e.map, e.classes, cls) : undefined;
    return map && cls !== undefined ? [{ m, cls, map }] : [];
  });
  if (maps.length > 0) {
    out.push('#### Where a patch sends inputs into the suspected class', '');
    for (const { m, cls, map } of maps.slice(0, MARKDOWN_MAX_MAPS)) {
      out.push(`${markdownCode(m.path)}, class ${cls}:`, '', '```text', ...map.lines, '```', '');
      out.push(markdownText(map.legend), '');
    }
    if (maps.length > MARKDOWN_MAX_MAPS)
      out.push(`_…and ${maps.length - MARKDOWN_MAX_MAPS} more in the HTML report._`, '');
  }
  const link = opts.htmlReport;
  if (link && SAFE_URL.test(link.url)) {
    const what =
      flagged.length > 0
        ? 'Pictures of the suspected triggers (inputs before and after stamping, patch maps)'
        : 'The report as a web page';
    out.push(
      `${what}: [HTML report](${link.url}), the workflow run's artifact ${markdownCode(link.name)} (open \`${REPORT_HTML}\`).`,
      '',
    );
  }
  return out;
}

function summaryLine(report: ScanReport, failOn: FailOn): string {
  const c = countModels(report, failOn);
  const parts = [`${c.scanned} of ${c.total} model${c.total === 1 ? '' : 's'} scanned`];
  if (failOn === 'never') parts.push('fail-on: never');
  else parts.push(`${c.failing} at or above **${levelLabel(failOn)}**`);
  if (c.notAssessed > 0)
    parts.push(
      `${c.notAssessed} **not assessed**${failOn !== 'never' && onNotAssessedOf(report) === 'fail' ? ' (fails the gate)' : ''}`,
    );
  if (c.failed > 0) parts.push(`${c.failed} could not be scanned`);
  return `${parts.join(', ')}.`;
}

/** Why each not-assessed model was not, and what would assess it. */
function notAssessedSection(models: ScannedModel[]): string[] {
  const na = models.filter((m) => m.riskLevel === 'not-assessed');
  if (na.length === 0) return [];
  const out = [`#### Not assessed (${na.length})`, ''];
  for (const m of na.slice(0, MARKDOWN_MAX_FAILED)) {
    if (m.riskLevel !== 'not-assessed') continue;
    out.push(
      `- ${markdownCode(m.path)}: ${markdownText(m.notAssessed.message)} **Fix:** ${markdownText(m.notAssessed.fix)}`,
    );
  }
  if (na.length > MARKDOWN_MAX_FAILED) out.push(`- _…and ${na.length - MARKDOWN_MAX_FAILED} more._`);
  out.push('');
  return out;
}

/** The scan budget and what each check got, folded away: one line per model. */
function checksSection(models: ScannedModel[]): string[] {
  const rows = models.filter((m) => m.checks && m.checks.length > 0).slice(0, MARKDOWN_MAX_ROWS);
  if (rows.length === 0) return [];
  return [
    '<details><summary>Checks and scan budget</summary>',
    '',
    ...rows.map(
      (m) =>
        `- ${markdownCode(m.path)}: ${markdownText(budgetText(m) ?? '')}; ${markdownText(checksText(m) ?? '')}`,
    ),
    '',
    '</details>',
    '',
  ];
}

/** The PR-comment Markdown, ending in a newline. */
export function renderMarkdown(report: ScanReport, opts: MarkdownOptions = {}): string {
  const failOn = opts.failOn ?? report.failOn;
  const heading = opts.heading ?? 'Model fingerprint scan';
  const { scanned, failed } = partitionModels(report);
  const out: string[] = [];
  if (heading) out.push(`### ${markdownText(heading)}`, '');
  out.push(summaryLine(report, failOn), '');
  if (scanned.length > 0) out.push(...table(scanned), '');
  const b = report.baseline;
  const baseline = b
    ? `Baseline ${markdownCode(shortBaselineId(b.id))}: ${b.members} clean model${b.members === 1 ? '' : 's'} ` +
      `(smallest p-value it supports: ${formatPValue(b.minRankPValue)}).`
    : '**No baseline: reference-free checks only.** Scores are not compared with clean models.';
  out.push(baseline, '');
  for (const note of report.notes) out.push(`> ${markdownText(note)}`, '');
  out.push(...pictureLines(scanned, opts));
  out.push(...notAssessedSection(scanned));

  if (scanned.some((m) => isFinding(m.riskLevel))) {
    out.push(`#### ${FLAGGED_MODEL_GUIDANCE_TITLE}`, '');
    FLAGGED_MODEL_GUIDANCE.forEach((step, i) => out.push(`${i + 1}. ${step}`));
    out.push('');
  }

  if (failed.length > 0) {
    out.push(`#### Could not be scanned (${failed.length})`, '');
    for (const m of failed.slice(0, MARKDOWN_MAX_FAILED)) {
      out.push(`- ${markdownCode(m.path)}: ${markdownText(m.error)} (${markdownCode(m.errorCode)})`);
    }
    if (failed.length > MARKDOWN_MAX_FAILED)
      out.push(`- _…and ${failed.length - MARKDOWN_MAX_FAILED} more._`);
    out.push('', UNSCANNABLE_MODEL_GUIDANCE, '');
  }
  out.push(...checksSection(scanned));
  return `${out.join('\n').trimEnd()}\n`;
}
