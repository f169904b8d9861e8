/**
 * One entry point for every report format, so the CLI and the action choose a format by name and never
 * import the renderers one by one. Pure: no I/O, no @actions.
 */
import { InputError } from '../errors.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { renderSarif } from './sarif.js';
import { renderText } from './text.js';
import type { FailOn, ScanReport } from './types.js';
import type { EvidenceByPath } from './pictures.js';

export const REPORT_FORMATS = ['json', 'sarif', 'junit', 'markdown', 'text'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The usual file extension of each format, for `--output` defaults. */
export const REPORT_EXTENSIONS: Record<ReportFormat, string> = {
  json: '.json',
  sarif: '.sarif',
  junit: '.xml',
  markdown: '.md',
  text: '.txt',
};

export function isReportFormat(s: string): s is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(s);
}

/** A --format value checked: the format, or an InputError that lists the formats there are. */
export function parseReportFormat(s: string): ReportFormat {
  if (isReportFormat(s)) return s;
  throw new InputError(
    'bad-argument',
    `unknown report format "${s}": use one of ${REPORT_FORMATS.join(', ')}`,
  );
}

export interface RenderOptions {
  /** SARIF: directory the model paths are made relative to. Defaults to process.cwd(). */
  cwd?: string;
  /** SARIF: driver.informationUri. */
  informationUri?: string;
  /** Text: ANSI colour. Defaults to false. */
  color?: boolean;
  /** JUnit, Markdown, text: level that counts as failing. Defaults to the report's failOn. */
  failOn?: FailOn;
  /** Markdown: heading line ('' for none). */
  heading?: string;
  /** Markdown: what trigger probing found per model, for the flagged models' patch maps. */
  evidence?: EvidenceByPath;
}

export function renderReport(report: ScanReport, format: ReportFormat, opts: RenderOptions = {}): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'sarif':
      return renderSarif(report, { cwd: opts.cwd ?? process.cwd(), informationUri: opts.informationUri });
    case 'junit':
      return renderJunit(report, { failOn: opts.failOn });
    case 'markdown':
      return renderMarkdown(report, {
        failOn: opts.failOn,
        heading: opts.heading,
        ...(opts.evidence ? { evidence: opts.evidence } : {}),
      });
    case 'text':
      return renderText(report, { color: opts.color ?? false, failOn: opts.failOn });
  }
}

export { renderJson, renderJunit, renderMarkdown, renderSarif, renderText };
