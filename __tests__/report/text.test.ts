import { P_VALUE_NOTE, renderText } from '../../src/report/text.js';
import type { ScanReport } from '../../src/report/types.js';
import { expectGolden } from './golden.js';
import {
  CLEAN_REPORT,
  HIGH,
  LOW,
  MEDIUM,
  NO_BASELINE_REPORT,
  NOT_ASSESSED,
  NOT_ASSESSED_REPORT,
  SAMPLE_REPORT,
  TEXT_REPORT,
  withPath,
} from './sample-report.js';

// eslint-disable-next-line no-control-regex
const ANSI_SGR = /\u001b\[[0-9;]*m/g;

function tableLines(text: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('MODEL'));
  const end = lines.indexOf(P_VALUE_NOTE, start);
  return lines.slice(start, end);
}

describe('renderText', () => {
  it('matches the reviewed rendering of the sample report', () => {
    expectGolden('sample.txt', renderText(SAMPLE_REPORT, { color: false }));
  });

  it('matches the reviewed rendering of a report without a baseline', () => {
    expectGolden('no-baseline.txt', renderText(NO_BASELINE_REPORT, { color: false }));
  });

  it('matches the reviewed rendering of a scan where one model was not assessed', () => {
    expectGolden('not-assessed.txt', renderText(NOT_ASSESSED_REPORT, { color: false }));
  });

  it('never shows a not-assessed model as low: its own level, no score, why and the fix', () => {
    const text = renderText(NOT_ASSESSED_REPORT, { color: false });
    const row = tableLines(text).find((l) => l.startsWith(NOT_ASSESSED.path)) ?? '';
    expect(row).toMatch(/\s-\s+NOT ASSESSED\s+-\s+not assessed: the budget/);
    expect(row).not.toMatch(/\blow\b/);
    expect(text).toContain(`Fix: ${NOT_ASSESSED.notAssessed.fix}`);
    expect(text).toContain('1 not assessed (fails the gate: on-not-assessed fail)');
    expect(renderText({ ...NOT_ASSESSED_REPORT, onNotAssessed: 'warn' }, { color: false })).toContain(
      '1 not assessed (passes with a warning)',
    );
    // what each check got, briefly
    expect(text).toContain('trigger probing 5,310 passes');
    expect(text).toContain('trigger probing not run (budget)');
  });

  it('writes no escape codes without colour, and colour that changes nothing else with it', () => {
    const plain = renderText(SAMPLE_REPORT, { color: false });
    const colored = renderText(SAMPLE_REPORT, { color: true });
    expect(plain).not.toContain('\u001b');
    expect(colored).toContain('\u001b[1m\u001b[31mHIGH'); // bold red
    expect(colored).toContain('\u001b[1m\u001b[33mMEDIUM'); // bold yellow
    expect(colored.replace(ANSI_SGR, '')).toBe(plain);
  });

  it('aligns the columns: every row has each column at the same offset', () => {
    const lines = tableLines(renderText(SAMPLE_REPORT, { color: false }));
    expect(lines).toHaveLength(4);
    const header = lines[0];
    const levelAt = header.indexOf('LEVEL');
    const scoreEnd = header.indexOf('SCORE') + 'SCORE'.length;
    for (const row of lines.slice(1)) {
      expect(row.slice(levelAt).match(/^(HIGH|MEDIUM|low)\b/)).not.toBeNull();
      expect(row[scoreEnd - 1]).toMatch(/\d/); // right-aligned score ends under the header's end
      expect(row[scoreEnd]).toBe(' ');
    }
    // Worst first.
    expect(lines[1].startsWith(HIGH.path)).toBe(true);
    expect(lines[3].startsWith(LOW.path)).toBe(true);
  });

  it('names a target class only for a finding: a low model with a most reachable class shows "-"', () => {
    const low = { ...LOW, explanation: { ...LOW.explanation, suspectedTargetClass: 5 } };
    const lines = tableLines(renderText({ ...SAMPLE_REPORT, models: [HIGH, low] }, { color: false }));
    expect(lines[1]).toMatch(/class 7$/);
    expect(lines[2]).toMatch(/ -$/);
    expect(lines[2]).not.toContain('class 5');
  });

  it('lists models that could not be scanned with code and message', () => {
    const text = renderText(SAMPLE_REPORT, { color: false });
    expect(text).toContain('COULD NOT BE SCANNED (1)');
    expect(text).toMatch(/models\/weights\.onnx\s+pickle-file\s+models\/weights\.onnx is a Python pickle/);
    expect(text).toContain('3 of 4 models scanned, 2 at or above MEDIUM, 1 could not be scanned.');
  });

  it('says what to do only when a model is flagged', () => {
    expect(renderText(SAMPLE_REPORT, { color: false })).toContain('model-fingerprint baseline add');
    const clean = renderText(CLEAN_REPORT, { color: false });
    expect(clean).not.toContain('What to do');
    expect(clean).not.toContain('COULD NOT BE SCANNED');
  });

  it('names the baseline, or says there is none', () => {
    expect(renderText(SAMPLE_REPORT, { color: false }).split('\n')[0]).toBe(
      'model-fingerprint 0.1.0 (baseline 9f86d081884c of 20 clean models; fail-on: medium)',
    );
    expect(renderText(NO_BASELINE_REPORT, { color: false })).toContain(
      'no baseline: reference-free checks only',
    );
  });

  it('neutralises terminal escapes and newlines in a hostile path', () => {
    const report: ScanReport = {
      ...SAMPLE_REPORT,
      models: [withPath(HIGH, 'models/\u001b[2Jevil\nrow.onnx')],
    };
    const text = renderText(report, { color: false });
    expect(text).not.toContain('\u001b');
    expect(text).toContain('models/\\x1b[2Jevil\\x0arow.onnx');
    expect(tableLines(text)).toHaveLength(2);
  });

  it('says what the P-VALUE column is under the table, once', () => {
    const text = renderText(SAMPLE_REPORT, { color: false });
    expect(text.split(P_VALUE_NOTE)).toHaveLength(2);
    expect(renderText({ ...SAMPLE_REPORT, models: [] }, { color: false })).not.toContain(P_VALUE_NOTE);
  });

  it('spells out the suspected trigger of each finding, and of no low model', () => {
    const lowWithTrigger = { ...LOW, explanation: { ...LOW.explanation, trigger: HIGH.explanation.trigger } };
    const text = renderText({ ...SAMPLE_REPORT, models: [HIGH, MEDIUM, lowWithTrigger] }, { color: false });
    const lines = text.split('\n');
    const at = lines.indexOf('SUSPECTED TRIGGERS');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe(
      `  ${HIGH.path}: class 7: bright 3x3 patch at the bottom-right corner (row 11, column 11), flips 92%`,
    );
    expect(text).not.toContain(`${LOW.path}: class`);
    // text models: the words
    expect(renderText(TEXT_REPORT, { color: false })).toContain(
      'models/intent-router.onnx: class 5: word "attachment" inserted anywhere, flips 87%',
    );
    // nothing flagged with a trigger: no section
    expect(renderText(CLEAN_REPORT, { color: false })).not.toContain('SUSPECTED TRIGGERS');
  });
});
