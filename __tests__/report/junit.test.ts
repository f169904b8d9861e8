import { XMLParser } from 'fast-xml-parser';
import { SaxesParser } from 'saxes';
import { renderJunit } from '../../src/report/junit.js';
import type { FailOn, ScanReport } from '../../src/report/types.js';
import {
  FAILED,
  HIGH,
  LOW,
  MEDIUM,
  NO_BASELINE_REPORT,
  NOT_ASSESSED,
  NOT_ASSESSED_REPORT,
  SAMPLE_REPORT,
  withPath,
} from './sample-report.js';

interface Attrs {
  [k: string]: string | Attrs | Attrs[] | undefined;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  textNodeName: '#text',
  // Numeric character references (&#10;) are plain XML, but fast-xml-parser decodes them only with this on.
  htmlEntities: true,
  isArray: (name) => name === 'testcase',
});

/**
 * XML 1.0 well-formedness by a strict parser: saxes rejects a bare & or < in an attribute and characters
 * XML cannot carry, which fast-xml-parser's validator lets through. Returns the first error, or null.
 */
function wellFormednessError(xml: string): string | null {
  const sax = new SaxesParser();
  let error: string | null = null;
  sax.on('error', (e) => {
    error ??= e.message;
  });
  sax.write(xml).close();
  return error;
}

function parse(xml: string): { suites: Attrs; suite: Attrs; cases: Attrs[] } {
  expect(wellFormednessError(xml)).toBeNull();
  const doc = parser.parse(xml) as { testsuites: Attrs };
  const suite = doc.testsuites.testsuite as Attrs;
  return { suites: doc.testsuites, suite, cases: (suite.testcase as Attrs[] | undefined) ?? [] };
}

function junit(report: ScanReport, failOn?: FailOn) {
  return parse(renderJunit(report, { failOn }));
}

describe('renderJunit', () => {
  it('writes one well-formed suite with counts that match the cases', () => {
    const { suites, suite, cases } = junit(SAMPLE_REPORT);
    for (const s of [suites, suite]) {
      expect(s.name).toBe('model-fingerprint');
      expect(s.tests).toBe('4');
      expect(s.failures).toBe('2'); // failOn medium: HIGH and MEDIUM
      expect(s.errors).toBe('1');
    }
    expect(suite.time).toBe('3.087');
    expect(cases.map((c) => c.name)).toEqual(SAMPLE_REPORT.models.map((m) => m.path));
    expect(cases.every((c) => c.classname === 'model-fingerprint')).toBe(true);
    expect(cases.filter((c) => c.failure).length).toBe(Number(suite.failures));
    expect(cases.filter((c) => c.error).length).toBe(Number(suite.errors));
  });

  it("writes the report's notes to the suite's system-out, and none without notes", () => {
    const notes = [
      'first note',
      'a.onnx: --synthesise-base: the inputs were mined, not synthesised (<why> & more).',
    ];
    const { suite } = junit({ ...SAMPLE_REPORT, notes });
    expect(suite['system-out']).toBe(notes.join('\n'));
    expect(junit(SAMPLE_REPORT).suite['system-out']).toBeUndefined();
  });

  it('fails only models at or above the fail-on level', () => {
    const byFailOn = (f: FailOn) =>
      junit(SAMPLE_REPORT, f)
        .cases.filter((c) => c.failure)
        .map((c) => c.name);
    expect(byFailOn('high')).toEqual([HIGH.path]);
    expect(byFailOn('medium')).toEqual([HIGH.path, MEDIUM.path]);
    expect(byFailOn('low')).toEqual([LOW.path, HIGH.path, MEDIUM.path]);
    expect(byFailOn('never')).toEqual([]);
    // Without an option the report's own failOn applies (NO_BASELINE_REPORT fails on high).
    expect(
      junit(NO_BASELINE_REPORT)
        .cases.filter((c) => c.failure)
        .map((c) => c.name),
    ).toEqual([HIGH.path]);
  });

  it('explains a failure: score, level, p-value and drivers', () => {
    const high = junit(SAMPLE_REPORT).cases[2];
    const failure = high.failure as Attrs;
    expect(failure.message).toBe('backdoor risk 87/100 (HIGH)');
    expect(failure.type).toBe('backdoor-risk-high');
    const body = failure['#text'] as string;
    expect(body).toContain('Risk score: 87/100');
    expect(body).toContain('Level: HIGH');
    expect(body).toContain('p-value: 1.2e-4');
    expect(body).toContain('knn/logits: score 4.12, p = 1.2e-4');
    expect(body).toContain('lof/penultimate');
    expect(body).toContain('Suspected target: class 7');
    expect(body).toContain(HIGH.sha256);
    expect(high.time).toBe('1.234');
  });

  it('writes an unscannable model as an error with its message and code', () => {
    const failed = junit(SAMPLE_REPORT).cases[1];
    const error = failed.error as Attrs;
    expect(error.message).toBe(FAILED.error);
    expect(error.type).toBe('pickle-file');
    expect(error['#text']).toContain('error code: pickle-file');
    expect(failed.failure).toBeUndefined();
  });

  it('escapes paths and messages with &, <, quotes, non-ASCII and newlines so they round-trip', () => {
    const nasty = `models/a&b <c> "quoted" 'single' модель ✓ 🤖.onnx`;
    const nastyError = `bad <header> & "magic"\nsecond line\tand tab`;
    const report: ScanReport = {
      ...SAMPLE_REPORT,
      models: [
        withPath(HIGH, nasty),
        { ...FAILED, path: `${nasty}.2`, error: nastyError, errorCode: 'not-onnx' },
      ],
    };
    const xml = renderJunit(report, { failOn: 'high' });
    // The check has teeth: the same document with one escape undone is rejected.
    expect(wellFormednessError(xml.replace('&amp;', '&'))).not.toBeNull();
    expect(wellFormednessError(xml.replace('&lt;', '<'))).not.toBeNull();
    const { cases } = parse(xml);
    expect(cases[0].name).toBe(nasty);
    expect(cases[1].name).toBe(`${nasty}.2`);
    expect((cases[1].error as Attrs).message).toBe(nastyError);
    expect((cases[1].error as Attrs)['#text']).toContain(nastyError);
  });

  it('stays well-formed when a path holds characters XML cannot carry', () => {
    const xml = renderJunit({
      ...SAMPLE_REPORT,
      models: [withPath(LOW, 'models/\u0001bell\u0007\ud800.onnx')],
    });
    const { cases } = parse(xml);
    expect(cases[0].name).toBe('models/\\x01bell\\x07\\ud800.onnx');
  });

  it('writes an empty suite for a report without models', () => {
    const { suite, cases } = junit({ ...SAMPLE_REPORT, models: [] });
    expect(suite.tests).toBe('0');
    expect(cases).toEqual([]);
  });

  it('fails a model that was not assessed under on-not-assessed fail, and skips it (never passes it) under warn', () => {
    const failing = junit(NOT_ASSESSED_REPORT);
    const c = failing.cases.find((x) => x.name === NOT_ASSESSED.path) as Attrs;
    const failure = c.failure as Attrs;
    expect(failure.type).toBe('not-assessed');
    expect(failure.message).toContain('not assessed');
    expect(failure['#text']).toContain(`Fix: ${NOT_ASSESSED.notAssessed.fix}`);
    expect(failing.suite.failures).toBe('1');
    expect(failing.suite.skipped).toBe('0');

    const warned = junit({ ...NOT_ASSESSED_REPORT, onNotAssessed: 'warn' });
    const w = warned.cases.find((x) => x.name === NOT_ASSESSED.path) as Attrs;
    expect(w.failure).toBeUndefined();
    expect((w.skipped as Attrs).message).toContain(NOT_ASSESSED.notAssessed.message);
    expect(warned.suite.failures).toBe('0');
    expect(warned.suite.skipped).toBe('1');
    // fail-on never fails nothing, a not-assessed model included
    expect(junit(NOT_ASSESSED_REPORT, 'never').suite.failures).toBe('0');
  });
});
