/**
 * JUnit XML as GitLab (artifacts:reports:junit) and Jenkins (junit step) read it: one testsuite, one
 * testcase per model named by its path. A model at or above the fail-on level is a <failure>; a model that
 * could not be scanned is an <error>; a model that was not assessed is a <failure> when it fails the gate
 * (on-not-assessed fail, the default) and <skipped> otherwise (it was not tested: never a pass); everything
 * else passes. The failure body carries score, level, p-value and the strongest drivers, or why the model
 * was not assessed and the fix, so the CI page explains itself.
 */
import { baselineText, countModels, targetClassText } from './describe.js';
import { failsGate, levelLabel, onNotAssessedOf } from './levels.js';
import { formatDetectorScore, formatPValue, formatRiskScore } from './numbers.js';
import type {
  AssessedModel,
  FailedModel,
  FailOn,
  ModelEntry,
  NotAssessedModel,
  ScanReport,
  ScannedModel,
} from './types.js';
import { isFailed } from './types.js';
import { escapeXmlAttr, escapeXmlText } from './xml.js';

/** Drivers listed in a failure body: enough to explain, short enough to read on a CI page. */
export const JUNIT_MAX_DRIVERS = 5;
const SUITE_NAME = 'model-fingerprint';

export interface JunitOptions {
  /** Level at which a model counts as a failure; defaults to the report's failOn. */
  failOn?: FailOn;
}

function seconds(ms: number | undefined): string {
  return ms !== undefined && Number.isFinite(ms) && ms >= 0 ? (ms / 1000).toFixed(3) : '0';
}

function notAssessedBody(m: NotAssessedModel): string {
  return [
    'Level: NOT ASSESSED (no risk score: no check with power ran)',
    `Why: ${m.notAssessed.message}`,
    `Fix: ${m.notAssessed.fix}`,
    `sha256: ${m.sha256}`,
  ].join('\n');
}

function failureBody(m: AssessedModel, report: ScanReport): string {
  const lines = [
    `Risk score: ${formatRiskScore(m.riskScore)}/100`,
    `Level: ${levelLabel(m.riskLevel)}`,
    `p-value: ${formatPValue(m.pValue)} (${baselineText(report.baseline)})`,
    `Strongest signal: ${m.explanation.strongestSignal || 'none'}`,
  ];
  const target = targetClassText(m);
  if (target) lines.push(`Suspected target: ${target}`);
  if (m.explanation.summary) lines.push(`Summary: ${m.explanation.summary}`);
  const drivers = m.explanation.drivers.slice(0, JUNIT_MAX_DRIVERS);
  if (drivers.length > 0) {
    lines.push('Drivers:');
    for (const d of drivers) {
      lines.push(`  ${d.channel}: score ${formatDetectorScore(d.score)}, p = ${formatPValue(d.pValue)}`);
    }
  }
  lines.push(`sha256: ${m.sha256}`);
  return lines.join('\n');
}

function testcase(m: ModelEntry | ScannedModel, report: ScanReport, failOn: FailOn): string {
  const open = `    <testcase classname="${SUITE_NAME}" name="${escapeXmlAttr(m.path)}" time="${seconds(m.durationMs)}"`;
  if (isFailed(m)) return `${open}>\n${errorElement(m)}\n    </testcase>`;
  if (m.riskLevel === 'not-assessed')
    return notAssessedCase(open, m, failsGate(m.riskLevel, failOn, onNotAssessedOf(report)));
  if (!failsGate(m.riskLevel, failOn)) return `${open}/>`;
  const message = `backdoor risk ${formatRiskScore(m.riskScore)}/100 (${levelLabel(m.riskLevel)})`;
  return (
    `${open}>\n      <failure message="${escapeXmlAttr(message)}" type="backdoor-risk-${m.riskLevel}">` +
    `${escapeXmlText(failureBody(m, report))}</failure>\n    </testcase>`
  );
}

function notAssessedCase(open: string, m: NotAssessedModel, fails: boolean): string {
  const message = `not assessed: ${m.notAssessed.message}`;
  const element = fails
    ? `      <failure message="${escapeXmlAttr(message)}" type="not-assessed">${escapeXmlText(notAssessedBody(m))}</failure>`
    : `      <skipped message="${escapeXmlAttr(message)}"/>`;
  return `${open}>\n${element}\n    </testcase>`;
}

function errorElement(m: FailedModel): string {
  return (
    `      <error message="${escapeXmlAttr(m.error)}" type="${escapeXmlAttr(m.errorCode)}">` +
    `${escapeXmlText(`${m.error}\nerror code: ${m.errorCode}`)}</error>`
  );
}

/** The JUnit XML document, models in report order, ending in a newline. */
export function renderJunit(report: ScanReport, opts: JunitOptions = {}): string {
  const failOn = opts.failOn ?? report.failOn;
  const counts = countModels(report, failOn);
  const totalMs = report.models.reduce(
    (sum, m) => sum + (m.durationMs !== undefined && Number.isFinite(m.durationMs) ? m.durationMs : 0),
    0,
  );
  const skipped = counts.notAssessed - counts.notAssessedFailing;
  const attrs =
    `name="${SUITE_NAME}" tests="${counts.total}" failures="${counts.failing + counts.notAssessedFailing}" ` +
    `errors="${counts.failed}" time="${seconds(totalMs)}"`;
  const cases = report.models.map((m) => testcase(m, report, failOn));
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites ${attrs}>`,
    `  <testsuite ${attrs} skipped="${skipped}">`,
    ...cases,
    // the report's notes (no baseline, options a model could not use as asked), where CI pages show output
    ...(report.notes.length > 0
      ? [`    <system-out>${escapeXmlText(report.notes.join('\n'))}</system-out>`]
      : []),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
