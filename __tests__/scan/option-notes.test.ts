/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * Options a model could not use as asked (src/scan/option-notes.ts), through a real scan of a real ONNX model:
 * --synthesise-base on a model the gradient builder cannot differentiate (an LRN) falls back to mined inputs,
 * and every report format says so exactly once, with the reason.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanModels } from '../../src/scan/scan.js';
import { renderReport, type ReportFormat } from '../../src/report/index.js';
import { noGradientModel } from '../selfcheck/fixtures.js';
import { tempDir } from '../cli/helpers.js';

const FORMATS: ReportFormat[] = ['text', 'json', 'sarif', 'junit', 'markdown'];

const occurrences = (text: string, what: string): number => text.split(what).length - 1;

describe('--synthesise-base that fell back to mined inputs', () => {
  test('every report format says it once, with the reason', async () => {
    const dir = tempDir('mf-notes-');
    const file = join(dir, 'lrn.onnx');
    writeFileSync(file, noGradientModel().bytes);
    const report = await scanModels([file], {
      probes: { synthesiseBase: true },
      baselineDir: null,
      failOn: 'high',
    });
    expect(report.notes).toContain(
      `${file}: --synthesise-base: the inputs were mined, not synthesised (LRN has no gradient rule (1 node)).`,
    );
    for (const format of FORMATS) {
      const out = renderReport(report, format, { cwd: dir, failOn: 'high' });
      expect([format, occurrences(out, 'not synthesised')]).toEqual([format, 1]);
      expect([format, occurrences(out, 'LRN has no gradient rule')]).toEqual([format, 1]);
    }
  }, 120_000);
});
