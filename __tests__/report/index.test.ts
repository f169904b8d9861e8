import {
  REPORT_EXTENSIONS,
  REPORT_FORMATS,
  isReportFormat,
  parseReportFormat,
  renderJson,
  renderJunit,
  renderMarkdown,
  renderReport,
  renderSarif,
  renderText,
} from '../../src/report/index.js';
import { SAMPLE_REPORT } from './sample-report.js';

describe('renderReport', () => {
  it('dispatches each format to its renderer with the options that format reads', () => {
    const opts = { cwd: '/work/repo', color: true, failOn: 'high' as const, heading: 'Scan' };
    expect(renderReport(SAMPLE_REPORT, 'json', opts)).toBe(renderJson(SAMPLE_REPORT));
    expect(renderReport(SAMPLE_REPORT, 'sarif', opts)).toBe(
      renderSarif(SAMPLE_REPORT, { cwd: '/work/repo' }),
    );
    expect(renderReport(SAMPLE_REPORT, 'junit', opts)).toBe(renderJunit(SAMPLE_REPORT, { failOn: 'high' }));
    expect(renderReport(SAMPLE_REPORT, 'markdown', opts)).toBe(
      renderMarkdown(SAMPLE_REPORT, { failOn: 'high', heading: 'Scan' }),
    );
    expect(renderReport(SAMPLE_REPORT, 'text', opts)).toBe(
      renderText(SAMPLE_REPORT, { color: true, failOn: 'high' }),
    );
  });

  it('defaults: SARIF relative to process.cwd(), text without colour', () => {
    expect(renderReport(SAMPLE_REPORT, 'sarif')).toBe(renderSarif(SAMPLE_REPORT, { cwd: process.cwd() }));
    expect(renderReport(SAMPLE_REPORT, 'text')).not.toContain('\u001b');
  });

  it('knows its format names and extensions', () => {
    expect(REPORT_FORMATS.every(isReportFormat)).toBe(true);
    expect(isReportFormat('xml')).toBe(false);
    expect(Object.keys(REPORT_EXTENSIONS).sort()).toEqual([...REPORT_FORMATS].sort());
    for (const f of REPORT_FORMATS) expect(renderReport(SAMPLE_REPORT, f).endsWith('\n')).toBe(true);
  });

  it('parses a --format value, or refuses it with an InputError naming the choices', () => {
    expect(parseReportFormat('sarif')).toBe('sarif');
    expect(() => parseReportFormat('xml')).toThrow(
      expect.objectContaining({
        name: 'InputError',
        code: 'bad-argument',
        message: 'unknown report format "xml": use one of json, sarif, junit, markdown, text',
      }),
    );
  });
});
