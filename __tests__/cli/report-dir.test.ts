/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * `scan --report-dir DIR` on the example's backdoored model, through the real engine: the pictures show
 * what the scan found (the 3x3 white square in the bottom-right corner turning digits into 7, read back
 * from the PNG's pixels), the HTML page carries them inline, and a directory that cannot be used is a clear
 * error that never costs the printed results.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderTriggerPicture, triggerPictureLayout } from '../../src/report/trigger-picture.js';
import { scanModels } from '../../src/scan/scan.js';
import { collectFlaggedEvidence } from '../../src/scan/evidence.js';
import { decodePng, differingPixels, type Decoded } from '../report/golden-png.js';
import { cli, EXAMPLE_CANDIDATES, tempDir } from './helpers.js';

const BACKDOORED = `${EXAMPLE_CANDIDATES}/backdoored.onnx`;
const CLEAN = `${EXAMPLE_CANDIDATES}/clean-candidate.onnx`;
const BASELINE = 'baselines/example';

function scanWithReportDir(dir: string, ...models: string[]) {
  return cli('scan', ...models, '--baseline', BASELINE, '--report-dir', dir, '-q');
}

function rgb(img: Decoded, x: number, y: number): string {
  const o = (y * img.width + x) * 4;
  return `${img.data[o]},${img.data[o + 1]},${img.data[o + 2]}`;
}

test('the backdoored example: its pictures show the 3x3 white corner square turning digits into 7', async () => {
  const dir = join(tempDir('mf-report-dir-'), 'out');
  const r = await scanWithReportDir(dir, BACKDOORED, CLEAN);
  expect(r.code).toBe(1);
  expect(r.err).toBe(`HTML report written to ${join(dir, 'index.html')} (2 pictures)\n`);
  expect(r.out).toMatch(/backdoored\.onnx\s+100\s+HIGH/); // the report is printed as without the flag
  // pictures for the flagged model only (the clean candidate is low)
  expect(readdirSync(dir).sort()).toEqual([
    '01-backdoored-patch-map.png',
    '01-backdoored-trigger.png',
    'index.html',
  ]);

  // what the scan found, kept by the same scan in-process: the corner patch and class 7
  const evidence = collectFlaggedEvidence();
  await scanModels([BACKDOORED], { baselineDir: BASELINE, failOn: 'high', onEvidence: evidence.sink });
  const e = evidence.byPath.get(BACKDOORED);
  expect(e?.targetClass).toBe(7);
  expect(e?.trigger.location).toBe('bright 3x3 patch at the bottom-right corner (row 11, column 11)');
  expect(e?.examples.length).toBeGreaterThanOrEqual(4);
  expect(e?.examples.every((x) => x.after === 7 && x.before !== 7)).toBe(true);
  if (!e) return;

  // the file the CLI wrote is that picture, pixel for pixel (the scan is deterministic)
  const file = readFileSync(join(dir, '01-backdoored-trigger.png'));
  const img = decodePng(file);
  expect(differingPixels(img, decodePng(renderTriggerPicture(e)))).toBe(0);
  // and in it: every stamped input has the white 3x3 square in its bottom-right corner
  const L = triggerPictureLayout(e);
  for (const cell of L.examples) {
    for (let y = 88; y < 112; y += 3)
      for (let x = 88; x < 112; x += 3)
        expect(rgb(img, cell.stamped.x + x, cell.stamped.y + y)).toBe('255,255,255');
  }
  // the clean inputs do not: real digits have dark corners
  expect(L.examples.some((cell) => rgb(img, cell.clean.x + 100, cell.clean.y + 100) !== '255,255,255')).toBe(
    true,
  );

  // the page inlines both pictures and names the model
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  expect(html).toContain(`data:image/png;base64,${file.toString('base64')}`);
  expect(html).toContain(
    `data:image/png;base64,${readFileSync(join(dir, '01-backdoored-patch-map.png')).toString('base64')}`,
  );
  expect(html).toContain('<code>examples/models/candidates/backdoored.onnx</code>');
}, 180_000);

test('a --report-dir that is a file is refused before anything is scanned', async () => {
  const file = join(tempDir('mf-report-file-'), 'taken');
  writeFileSync(file, 'x');
  const r = await scanWithReportDir(file, BACKDOORED);
  expect(r.code).toBe(2);
  expect(r.err).toContain(`--report-dir ${file}: exists and is not a directory`);
  expect(r.out).toBe('');
});

test('a --report-dir that cannot be written: exit 2 with the reason, the results still printed', async () => {
  const parent = join(tempDir('mf-report-unwritable-'), 'a-file');
  writeFileSync(parent, 'x');
  const dir = join(parent, 'out'); // under a file: cannot be created
  const r = await scanWithReportDir(dir, CLEAN);
  expect(r.code).toBe(2);
  expect(r.out).toMatch(/clean-candidate\.onnx\s+\d+\s+low/);
  expect(r.err).toContain(`--report-dir ${dir}: could not write the HTML report`);
  expect(r.err).toContain('give a directory you can write to');
  expect(existsSync(dir)).toBe(false);
}, 180_000);
