import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { renderJson, reportToJson } from '../../src/report/json.js';
import type { AssessedModel, ScanReport } from '../../src/report/types.js';
import {
  FAILED,
  HIGH,
  NO_BASELINE_REPORT,
  NOT_ASSESSED,
  NOT_ASSESSED_REPORT,
  SAMPLE_REPORT,
} from './sample-report.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function keysOf(v: Json, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => keysOf(x, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      keysOf(x, out);
    }
  }
  return out;
}

function numbersOf(v: Json, out: number[] = []): number[] {
  if (typeof v === 'number') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => numbersOf(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => numbersOf(x, out));
  return out;
}

describe('renderJson', () => {
  const parsed = JSON.parse(renderJson(SAMPLE_REPORT)) as Record<string, Json>;

  it('writes the versioned header, baseline and notes', () => {
    expect(parsed.version).toBe(2);
    expect(parsed.tool).toEqual({ name: 'model-fingerprint', version: '0.1.0' });
    expect(parsed.baseline).toEqual({
      id: SAMPLE_REPORT.baseline?.id,
      members: 20,
      minRankPValue: 0.047619,
    });
    expect(parsed.failOn).toBe('medium');
    expect(parsed.notes).toEqual([]);
    expect(parsed.onNotAssessed).toBe('fail');
    expect(Object.keys(parsed)).toEqual([
      'version',
      'tool',
      'baseline',
      'failOn',
      'onNotAssessed',
      'notes',
      'models',
    ]);
  });

  it('keeps model order and writes scanned and failed models with their own fields', () => {
    const models = parsed.models as Record<string, Json>[];
    expect(models.map((m) => m.path)).toEqual(SAMPLE_REPORT.models.map((m) => m.path));
    const high = models[2];
    expect(Object.keys(high)).toEqual([
      'path',
      'sha256',
      'riskScore',
      'riskLevel',
      'pValue',
      'flagged',
      'detectors',
      'explanation',
      'durationMs',
    ]);
    expect(high.riskScore).toBe(87);
    expect(high.riskLevel).toBe('high');
    expect(high.flagged).toBe(true);
    expect(high.detectors).toEqual({
      knn: { score: 4.12346, pValue: 0.000123457 },
      lof: { score: 2.5, pValue: 0.0012 },
      iforest: { score: 0.71234, pValue: 0.0047619 },
    });
    const failed = models[1];
    expect(failed).toEqual({
      path: FAILED.path,
      error: FAILED.error,
      errorCode: 'pickle-file',
      durationMs: 3,
    });
  });

  it('writes the explanation with trigger and target class, rounded', () => {
    const e = (parsed.models as Record<string, Json>[])[2].explanation as Record<string, Json>;
    expect(e.strongestSignal).toBe('knn/logits');
    expect(e.suspectedTargetClass).toBe(7);
    expect(e.trigger).toEqual({
      kind: 'patch',
      location: 'bright 3x3 patch at the bottom-right corner (row 11, column 11)',
      flipRate: 0.921875,
      zScore: 6.02,
    });
    expect(e.minSupportedPValue).toBe(0.047619);
    expect(e.nearestReferences).toEqual([
      { member: 'clean-03', distance: 12.3457 },
      { member: 'clean-11', distance: 13.1 },
    ]);
  });

  it('writes a non-finite detector score as null, never NaN', () => {
    const text = renderJson(SAMPLE_REPORT);
    expect(text).not.toMatch(/NaN|Infinity/);
    const medium = (parsed.models as Record<string, Json>[])[3];
    expect((medium.detectors as Record<string, Json>).lof).toEqual({ score: null, pValue: 1 });
  });

  it('writes baseline null and the notes for a report without a baseline', () => {
    const p = reportToJson(NO_BASELINE_REPORT);
    expect(p.baseline).toBeNull();
    expect(p.notes).toEqual(NO_BASELINE_REPORT.notes);
  });

  it('produces parseable JSON with only finite numbers for any detector values', () => {
    fc.assert(
      fc.property(fc.double(), fc.double(), fc.double(), (score, p, risk) => {
        const m: AssessedModel = {
          ...HIGH,
          riskScore: risk,
          pValue: p,
          detectors: { knn: { score, pValue: p } },
        };
        const report: ScanReport = { ...SAMPLE_REPORT, models: [m] };
        const back = JSON.parse(renderJson(report)) as Json;
        return numbersOf(back).every((n) => Number.isFinite(n));
      }),
      { numRuns: 300 },
    );
  });

  it('documents every field it writes in docs/report-schema.md', () => {
    const doc = readFileSync(new URL('../../docs/report-schema.md', import.meta.url), 'utf8');
    const keys = new Set([
      ...keysOf(parsed as Json),
      ...keysOf(reportToJson(NO_BASELINE_REPORT) as unknown as Json),
      ...keysOf(reportToJson(NOT_ASSESSED_REPORT) as unknown as Json),
    ]);
    // Detector names are data, not schema fields.
    for (const name of Object.keys(HIGH.detectors)) keys.delete(name);
    const undocumented = [...keys].filter((k) => !doc.includes(`\`${k}\``));
    expect(undocumented).toEqual([]);
  });

  it('writes a model that was not assessed with no score, no p-value, its own level, why and the fix', () => {
    const out = reportToJson(NOT_ASSESSED_REPORT);
    const m = out.models.find((x) => x.path === NOT_ASSESSED.path) as unknown as Record<string, Json>;
    expect(m.riskScore).toBeNull();
    expect(m.pValue).toBeNull();
    expect(m.riskLevel).toBe('not-assessed');
    expect(m.flagged).toBe(true);
    expect(m.notAssessed).toEqual(NOT_ASSESSED.notAssessed);
    expect(m.budget).toEqual({ setting: 'default', macs: 3e12, macsPerPass: 6.1e10, passes: 64 });
    expect((m.checks as Json[]).find((c) => (c as Record<string, Json>).check === 'trigger-probe')).toEqual({
      check: 'trigger-probe',
      ran: false,
      passes: 0,
      skipped: 'budget',
    });
    // an assessed model carries no notAssessed field; a report made without the setting says the default
    const low = out.models.find((x) => x.path !== NOT_ASSESSED.path) as unknown as Record<string, Json>;
    expect(low.riskLevel).toBe('low');
    expect('notAssessed' in low).toBe(false);
    expect(reportToJson({ ...NOT_ASSESSED_REPORT, onNotAssessed: undefined }).onNotAssessed).toBe('fail');
    expect(reportToJson({ ...NOT_ASSESSED_REPORT, onNotAssessed: 'warn' }).onNotAssessed).toBe('warn');
  });
});
