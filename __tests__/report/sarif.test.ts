import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import type { Log, Result } from 'sarif';
import {
  FINGERPRINT_KEY,
  RULE_HIGH,
  RULE_MEDIUM,
  RULE_NOT_ASSESSED,
  RULE_UNSCANNABLE,
  SARIF_SCHEMA_URI,
  artifactUriOf,
  renderSarif,
} from '../../src/report/sarif.js';
import type { ScanReport } from '../../src/report/types.js';
import {
  CLEAN_REPORT,
  FAILED,
  HIGH,
  MEDIUM,
  NO_BASELINE_REPORT,
  NOT_ASSESSED,
  NOT_ASSESSED_REPORT,
  SAMPLE_REPORT,
  withPath,
} from './sample-report.js';

// The official OASIS SARIF 2.1.0 schema (final, "rtm.5"), as shipped in Microsoft's sarif-js-sdk package.
const require = createRequire(import.meta.url);
const schema = JSON.parse(
  readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'),
) as Record<string, unknown>;
// unicodeRegExp off: the official schema's language pattern has a stray "]" that only non-unicode regexps accept.
const ajv = new AjvDraft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats.default(ajv);
const validate = ajv.compile(schema);

const CWD = '/work/repo';

function render(report: ScanReport, cwd = CWD): Log {
  return JSON.parse(renderSarif(report, { cwd })) as Log;
}

function expectValid(log: Log): void {
  const ok = validate(log);
  expect(validate.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
}

function results(log: Log): Result[] {
  return log.runs[0].results ?? [];
}

describe('renderSarif', () => {
  it('validates against the official SARIF 2.1.0 schema (sample, no baseline, clean, empty)', () => {
    for (const report of [
      SAMPLE_REPORT,
      NO_BASELINE_REPORT,
      NOT_ASSESSED_REPORT,
      CLEAN_REPORT,
      { ...SAMPLE_REPORT, models: [] },
    ]) {
      expectValid(render(report));
    }
  });

  it("carries the report's notes as the run's notifications, and none without notes", () => {
    const log = render(NO_BASELINE_REPORT);
    const notes = log.runs[0].invocations?.[0].toolExecutionNotifications ?? [];
    expect(notes.map((n) => [n.level, n.message.text])).toEqual(
      NO_BASELINE_REPORT.notes.map((t) => ['note', t]),
    );
    expect(render(SAMPLE_REPORT).runs[0].invocations).toBeUndefined();
  });

  it('the schema check can fail: a result without a message is rejected', () => {
    const log = render(SAMPLE_REPORT);
    delete (results(log)[0] as Partial<Result>).message;
    expect(validate(log)).toBe(false);
  });

  it('has the header and driver GitHub code scanning reads', () => {
    const log = render(SAMPLE_REPORT);
    expect(log.$schema).toBe(SARIF_SCHEMA_URI);
    expect(log.version).toBe('2.1.0');
    expect(log.runs).toHaveLength(1);
    const driver = log.runs[0].tool.driver;
    expect(driver.name).toBe('model-fingerprint');
    expect(driver.semanticVersion).toBe('0.1.0');
    expect(driver.informationUri).toMatch(/^https:\/\//);
    expect(driver.rules?.map((r) => [r.id, r.name, r.defaultConfiguration?.level])).toEqual([
      [RULE_HIGH, 'backdoor-risk-high', 'error'],
      [RULE_MEDIUM, 'backdoor-risk-medium', 'warning'],
      [RULE_UNSCANNABLE, 'model-unscannable', 'error'],
      [RULE_NOT_ASSESSED, 'model-not-assessed', 'error'],
    ]);
  });

  it('reports a model that was not assessed under its own rule, an error when it fails the gate', () => {
    const failing = results(render(NOT_ASSESSED_REPORT));
    expect(failing).toHaveLength(1); // the low model gets no result
    const r = failing[0];
    expect(r.ruleId).toBe(RULE_NOT_ASSESSED);
    expect(r.level).toBe('error');
    expect(r.rank).toBeUndefined(); // no risk score to rank by
    expect(r.message.text).toContain('not assessed');
    expect(r.message.text).toContain(NOT_ASSESSED.notAssessed.fix);
    expect(r.properties).toMatchObject({ riskLevel: 'not-assessed', reason: 'budget' });
    // on-not-assessed warn: the same finding, a warning; fail-on never: nothing fails
    expect(results(render({ ...NOT_ASSESSED_REPORT, onNotAssessed: 'warn' }))[0].level).toBe('warning');
    expect(results(render({ ...NOT_ASSESSED_REPORT, failOn: 'never' }))[0].level).toBe('warning');
  });

  it('gives every rule the descriptions and help GitHub shows, and a valid security-severity', () => {
    const rules = render(SAMPLE_REPORT).runs[0].tool.driver.rules ?? [];
    for (const r of rules) {
      expect(r.shortDescription?.text.length).toBeGreaterThan(0);
      expect(r.fullDescription?.text.length).toBeGreaterThan(0);
      expect(r.help?.text.length).toBeGreaterThan(0);
      expect(r.help?.markdown?.length).toBeGreaterThan(0);
      const tags = r.properties?.tags ?? [];
      expect(tags.length).toBeLessThanOrEqual(20); // GitHub's limit per rule
      const severity = r.properties?.['security-severity'] as string | undefined;
      if (severity !== undefined) {
        expect(typeof severity).toBe('string');
        expect(Number(severity)).toBeGreaterThanOrEqual(0);
        expect(Number(severity)).toBeLessThanOrEqual(10);
        expect(tags).toContain('security'); // GitHub only uses security-severity on security-tagged rules
      }
    }
    const high = rules.find((r) => r.id === RULE_HIGH);
    expect(Number(high?.properties?.['security-severity'])).toBeGreaterThanOrEqual(7); // GitHub "high"
    expect(high?.help?.markdown).toContain('model-fingerprint baseline add');
  });

  it('reports high, medium and unscannable models, and not the low one', () => {
    const rs = results(render(SAMPLE_REPORT));
    // Report order is LOW, FAILED, HIGH, MEDIUM.
    expect(rs.map((r) => [r.ruleId, r.level])).toEqual([
      [RULE_UNSCANNABLE, 'error'],
      [RULE_HIGH, 'error'],
      [RULE_MEDIUM, 'warning'],
    ]);
    const rules = render(SAMPLE_REPORT).runs[0].tool.driver.rules ?? [];
    for (const r of rs) expect(rules[r.ruleIndex ?? -1]?.id).toBe(r.ruleId);
    expect(results(render(CLEAN_REPORT))).toEqual([]);
  });

  it('names score, level, strongest signal, target class and file in the message', () => {
    const high = results(render(SAMPLE_REPORT))[1];
    const text = high.message.text ?? '';
    expect(text).toContain('models/trojan-resnet.onnx');
    expect(text).toContain('87/100');
    expect(text).toContain('HIGH');
    expect(text).toContain('knn/logits');
    expect(text).toContain('class 7');
    expect(high.rank).toBe(87);
    expect(text).toContain('p-value 1.2e-4 against baseline 9f86d081884c of 20 clean models.');
    const noBaseline = results(render(NO_BASELINE_REPORT))[1].message.text ?? '';
    expect(noBaseline).toMatch(/No baseline: reference-free checks only\.$/);
    const medium = results(render(SAMPLE_REPORT))[2].message.text ?? '';
    expect(medium).toContain('45.3/100');
    expect(medium).toContain('none found');
    const failed = results(render(SAMPLE_REPORT))[0].message.text ?? '';
    expect(failed).toContain('pickle-file');
    expect(failed).toContain(FAILED.error);
  });

  it('locates each result at the model file, relative to cwd, with a region', () => {
    for (const r of results(render(SAMPLE_REPORT))) {
      const loc = r.locations?.[0]?.physicalLocation;
      expect(loc?.artifactLocation?.uriBaseId).toBe('%SRCROOT%');
      expect(loc?.artifactLocation?.uri).toMatch(/^models\//);
      expect(loc?.region?.startLine).toBe(1);
    }
    const abs = render({ ...SAMPLE_REPORT, models: [withPath(HIGH, `${CWD}/models/sub/a.onnx`)] });
    expect(results(abs)[0].locations?.[0]?.physicalLocation?.artifactLocation?.uri).toBe('models/sub/a.onnx');
  });

  it('percent-encodes path segments so spaces, # and non-ASCII keep their meaning', () => {
    const p = 'models/fine tuned #2/modèle?.onnx';
    const log = render({ ...SAMPLE_REPORT, models: [withPath(HIGH, p)] });
    expectValid(log);
    const uri = results(log)[0].locations?.[0]?.physicalLocation?.artifactLocation?.uri ?? '';
    expect(uri).toBe('models/fine%20tuned%20%232/mod%C3%A8le%3F.onnx');
    expect(uri.split('/').map(decodeURIComponent).join('/')).toBe(p);
    expect(results(log)[0].message.text).toContain(p);
  });

  it('gives a file outside cwd an absolute file: URI instead of a ../ path', () => {
    const a = artifactUriOf('../elsewhere/m.onnx', CWD);
    expect(a).toEqual({ uri: 'file:///work/elsewhere/m.onnx', display: '/work/elsewhere/m.onnx' });
    expect(artifactUriOf('..foo/m.onnx', CWD).uri).toBe('..foo/m.onnx');
    expectValid(render({ ...SAMPLE_REPORT, models: [withPath(MEDIUM, '/tmp/x.onnx')] }));
  });

  it('fingerprints results by path and rule: stable across runs, distinct across paths and rules', () => {
    const fp = (log: Log, i: number) => results(log)[i].partialFingerprints?.[FINGERPRINT_KEY];
    const a = render(SAMPLE_REPORT);
    const b = render({ ...SAMPLE_REPORT, models: [...SAMPLE_REPORT.models].reverse() });
    expect(fp(a, 1)).toBe(
      createHash('sha256').update(`${RULE_HIGH}\u0000models/trojan-resnet.onnx`).digest('hex'),
    );
    expect(results(b).find((r) => r.ruleId === RULE_HIGH)?.partialFingerprints).toEqual(
      results(a)[1].partialFingerprints,
    );
    const all = results(a).map((r) => r.partialFingerprints?.[FINGERPRINT_KEY]);
    expect(new Set(all).size).toBe(all.length);
    // Same file at another level is another alert.
    const asMedium = render({ ...SAMPLE_REPORT, models: [{ ...HIGH, riskLevel: 'medium', riskScore: 50 }] });
    expect(fp(asMedium, 0)).not.toBe(fp(a, 1));
    // Same path from a different cwd spelling (absolute vs relative) is the same alert.
    const absolute = render({ ...SAMPLE_REPORT, models: [withPath(HIGH, `${CWD}/${HIGH.path}`)] });
    expect(fp(absolute, 0)).toBe(fp(a, 1));
  });

  it('keeps rank within 0-100 and finite numbers even for a NaN score', () => {
    const log = render({
      ...SAMPLE_REPORT,
      models: [{ ...HIGH, riskScore: Number.NaN, pValue: Number.NaN }],
    });
    expectValid(log);
    expect(results(log)[0].rank).toBeUndefined();
    expect(JSON.stringify(log)).not.toMatch(/NaN/);
  });
});
