/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * Options a model could not use as asked (src/scan/option-notes.ts), through a real scan of a real ONNX model:
 * --synthesise-base on a model the gradient builder cannot differentiate (an LRN) falls back to mined inputs,
 * and every report format says so exactly once, with the reason; --token-inversion on a model that takes
 * images is ignored, and every report format and the CLI's stderr say so once, naming the file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanModels } from '../../src/scan/scan.js';
import { renderReport, type ReportFormat } from '../../src/report/index.js';
import { noGradientModel } from '../selfcheck/fixtures.js';
import { cli, EXAMPLE_CANDIDATES, tempDir } from '../cli/helpers.js';

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

describe('--token-inversion on a model that takes images', () => {
  const image = join(EXAMPLE_CANDIDATES, 'backdoored.onnx');
  const note = `--token-inversion applies to token-input (text) models; ${image} takes images: ignored`;

  test('every report format says it is ignored, once, naming the file; without the flag nothing is said', async () => {
    const report = await scanModels([image], {
      probes: { tokenInversion: true },
      baselineDir: null,
      failOn: 'high',
    });
    expect(report.notes).toContain(note);
    for (const format of FORMATS) {
      const out = renderReport(report, format, { cwd: process.cwd(), failOn: 'high' });
      expect([format, occurrences(out, '--token-inversion applies to token-input (text) models')]).toEqual([
        format,
        1,
      ]);
      expect([format, occurrences(out, 'takes images: ignored')]).toEqual([format, 1]);
    }
    const plain = await scanModels([image], { baselineDir: null, failOn: 'high' });
    expect(plain.notes.join('\n')).not.toMatch(/token-inversion/);
  }, 120_000);

  test("the CLI says it on stderr once, and the report's result is the one without the flag", async () => {
    const r = await cli('scan', image, '--token-inversion', '--format', 'json', '--quiet');
    expect(occurrences(r.err, note)).toBe(1);
    const without = await cli('scan', image, '--format', 'json', '--quiet');
    expect(without.err).not.toMatch(/token-inversion/);
    const strip = (out: string) =>
      (JSON.parse(out) as { models: { durationMs?: number }[] }).models.map(({ durationMs: _, ...m }) => m);
    expect(strip(r.out)).toEqual(strip(without.out));
  }, 120_000);
});
