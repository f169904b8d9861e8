/**
 * The terminal table the CLI prints: aligned columns, worst model first, then the models that could not be
 * scanned, a one-line summary and (when something is flagged) what to do. ANSI colour only when asked
 * (the CLI passes process.stdout.isTTY && !NO_COLOR); padding is computed on the plain text so colour never
 * breaks alignment. Untrusted strings pass through printable() so a path cannot send terminal escapes.
 */
import {
  baselineText,
  budgetText,
  checksText,
  countModels,
  notAssessedText,
  partitionModels,
  strongestSignalText,
  suspectedTriggerText,
  targetClassText,
} from './describe.js';
import { FLAGGED_MODEL_GUIDANCE, plainText } from './guidance.js';
import { isFinding, levelLabel, onNotAssessedOf } from './levels.js';
import { formatPValue, formatRiskScore } from './numbers.js';
import { printable } from './printable.js';
import type { FailOn, ReportLevel, ScanReport } from './types.js';

/** Under the table: what P-VALUE is, against the strongest signal's own p. */
export const P_VALUE_NOTE =
  "P-VALUE: the model's, all checks combined (corrected for how many ran); a signal's p is that one check's own.";

/** Widest the model column is padded to; longer paths are printed whole and push only their own row. */
export const TEXT_MAX_PATH_COLUMN = 60;

export interface TextOptions {
  color: boolean;
  /** Level that counts as failing (for the summary line); defaults to the report's failOn. */
  failOn?: FailOn;
}

const ANSI = {
  reset: '\u001b[0m',
  bold: '\u001b[1m',
  red: '\u001b[31m',
  yellow: '\u001b[33m',
  green: '\u001b[32m',
};

type Align = 'left' | 'right';
interface Cell {
  text: string;
  /** ANSI prefix applied after padding, when colour is on. */
  style?: string;
}

function width(s: string): number {
  return [...s].length;
}

function levelStyle(level: ReportLevel): string {
  if (level === 'high') return ANSI.bold + ANSI.red;
  if (level === 'medium' || level === 'not-assessed') return ANSI.bold + ANSI.yellow;
  return ANSI.green;
}

function renderRows(header: string[], rows: Cell[][], align: Align[], color: boolean): string[] {
  const widths = header.map((h, i) =>
    Math.min(
      i === 0 ? TEXT_MAX_PATH_COLUMN : Infinity,
      Math.max(width(h), ...rows.map((r) => width(r[i].text))),
    ),
  );
  const line = (cells: Cell[]) =>
    cells
      .map((c, i) => {
        const gap = ' '.repeat(Math.max(0, widths[i] - width(c.text)));
        const last = i === cells.length - 1;
        const padded = align[i] === 'right' ? gap + c.text : last ? c.text : c.text + gap;
        return color && c.style ? c.style + padded + ANSI.reset : padded;
      })
      .join('  ')
      .trimEnd();
  const head = line(header.map((h) => ({ text: h, style: ANSI.bold })));
  return [head, ...rows.map(line)];
}

/** The terminal report, ending in a newline. */
export function renderText(report: ScanReport, opts: TextOptions): string {
  const { color } = opts;
  const failOn = opts.failOn ?? report.failOn;
  const paint = (s: string, style: string) => (color ? style + s + ANSI.reset : s);
  const { scanned, failed } = partitionModels(report);
  const out: string[] = [
    `${report.tool.name} ${report.tool.version} (${printable(baselineText(report.baseline))}; fail-on: ${failOn})`,
    '',
  ];

  if (scanned.length > 0) {
    const rows: Cell[][] = scanned.map((m) => [
      { text: printable(m.path) },
      { text: formatRiskScore(m.riskScore) },
      { text: levelLabel(m.riskLevel), style: levelStyle(m.riskLevel) },
      { text: formatPValue(m.pValue) },
      { text: printable(notAssessedText(m) ?? strongestSignalText(m)) },
      // like the Markdown's suspected trigger: only for a finding (a clean model's easiest class accuses nothing)
      { text: (isFinding(m.riskLevel) && targetClassText(m)) || '-' },
    ]);
    const header = ['MODEL', 'SCORE', 'LEVEL', 'P-VALUE', 'STRONGEST SIGNAL', 'TARGET'];
    out.push(...renderRows(header, rows, ['left', 'right', 'left', 'right', 'left', 'left'], color));
    // the two p-values differ on purpose; without this line a reader takes a P-VALUE of 1 beside a signal's
    // p = 0.3 for a bug
    out.push(P_VALUE_NOTE, '');
  }

  // the trigger a reviewer reproduces first, in words (the TARGET column only names the class)
  const triggers = scanned.flatMap((m) => {
    const t = isFinding(m.riskLevel) && m.explanation.trigger ? suspectedTriggerText(m) : undefined;
    return t ? [`  ${printable(m.path)}: ${printable(t)}`] : [];
  });
  if (triggers.length > 0) out.push(paint('SUSPECTED TRIGGERS', ANSI.bold), ...triggers, '');

  if (failed.length > 0) {
    out.push(paint(`COULD NOT BE SCANNED (${failed.length})`, ANSI.bold + ANSI.red));
    const rows: Cell[][] = failed.map((m) => [
      { text: printable(m.path) },
      { text: printable(m.errorCode), style: ANSI.red },
      { text: printable(m.error) },
    ]);
    out.push(...renderRows(['MODEL', 'ERROR', 'MESSAGE'], rows, ['left', 'left', 'left'], color), '');
  }

  const notAssessed = scanned.filter((m) => m.riskLevel === 'not-assessed');
  if (notAssessed.length > 0) {
    out.push(paint(`NOT ASSESSED (${notAssessed.length}): no check with power ran`, ANSI.bold + ANSI.yellow));
    for (const m of notAssessed) {
      if (m.riskLevel !== 'not-assessed') continue;
      out.push(`  ${printable(m.path)}: ${printable(m.notAssessed.message)}`);
      out.push(`    Fix: ${printable(m.notAssessed.fix)}`);
    }
    out.push('');
  }

  const withChecks = scanned.filter((m) => m.checks && m.checks.length > 0);
  if (withChecks.length > 0) {
    out.push(paint('CHECKS (forward passes each check ran, within the scan budget)', ANSI.bold));
    for (const m of withChecks) {
      out.push(`  ${printable(m.path)}: ${printable(budgetText(m) ?? '')}`);
      out.push(`    ${printable(checksText(m) ?? '')}`);
    }
    out.push('');
  }

  const c = countModels(report, failOn);
  const summary = [`${c.scanned} of ${c.total} model${c.total === 1 ? '' : 's'} scanned`];
  if (failOn !== 'never') summary.push(`${c.failing} at or above ${levelLabel(failOn)}`);
  if (c.notAssessed > 0)
    summary.push(
      `${c.notAssessed} not assessed (${failOn !== 'never' && onNotAssessedOf(report) === 'fail' ? 'fails the gate: on-not-assessed fail' : 'passes with a warning'})`,
    );
  if (c.failed > 0) summary.push(`${c.failed} could not be scanned`);
  out.push(`${summary.join(', ')}.`);
  for (const note of report.notes) out.push(`Note: ${printable(note)}`);

  if (scanned.some((m) => isFinding(m.riskLevel))) {
    out.push('', 'What to do about a flagged model:');
    for (const step of FLAGGED_MODEL_GUIDANCE) out.push(`  - ${plainText(step)}`);
  }
  return `${out.join('\n')}\n`;
}
