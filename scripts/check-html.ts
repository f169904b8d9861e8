/**
 * `npm run check:html [-- DIR]`: opens the HTML report in headless Chromium (Debian's `chromium` package)
 * and checks its screenshot is not blank: enough of the page is drawn, and the trigger picture is there (a
 * large block of the pictures' pure black, which nothing else on the page uses, and the grey checkerboard
 * of the trigger cell). Without DIR it scans the example's backdoored model (`examples/models/candidates/
 * backdoored.onnx` against `baselines/example`) into a temporary report directory first.
 *
 * A script, not a jest test: `npm test` must pass on a machine with nothing but `npm ci`, and a browser is
 * a 300 MB system package CI would have to install on every run; the renderers' output is pinned by the
 * golden tests (__tests__/report/pictures.test.ts), so what this adds is only that a real browser draws it.
 * Without Chromium it says so and exits 1: it never passes without having looked.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import { REPORT_HTML, renderReportDir } from '../src/report/pictures.js';
import { collectFlaggedEvidence } from '../src/scan/evidence.js';
import { scanModels } from '../src/scan/scan.js';
import { writeFilesInto } from '../src/util/write-files.js';

/** Browser window (and so screenshot) size: wide enough for the trigger picture at its natural size. */
export const WINDOW = { width: 1200, height: 1800 };
/** Share of the screenshot that must differ from the white background. */
export const MIN_DRAWN_SHARE = 0.05;
/** Pixels of pure black (the inputs' background in the trigger picture) a rendered picture gives at least. */
export const MIN_PICTURE_BLACK = 20000;
/** The trigger cell's checkerboard greys (src/report/trigger-picture.ts), drawn at natural size. */
const CHECKER = [150, 190];
const MIN_CHECKER = 1000;
const BROWSER_TIMEOUT_MS = 120_000;
const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome'];

export interface ScreenshotVerdict {
  ok: boolean;
  drawnShare: number;
  black: number;
  checker: number;
  /** Bounding box of the pure-black pixels: where the trigger picture sits. */
  pictureBox: { x0: number; y0: number; x1: number; y1: number } | null;
  problems: string[];
}

/** Whether a screenshot of the report shows a page with the trigger picture on it. */
export function judgeScreenshot(png: Buffer): ScreenshotVerdict {
  const img = PNG.sync.read(png);
  let drawn = 0;
  let black = 0;
  let checker = 0;
  let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
  const d = img.data;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const o = (y * img.width + x) * 4;
      const r = d[o];
      const g = d[o + 1];
      const b = d[o + 2];
      if (r < 250 || g < 250 || b < 250) drawn++;
      if (r === 0 && g === 0 && b === 0) {
        black++;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      } else if (r === g && g === b && (r === CHECKER[0] || r === CHECKER[1])) checker++;
    }
  }
  const box = black > 0 ? { x0, y0, x1, y1 } : null;
  const drawnShare = drawn / (img.width * img.height);
  const problems: string[] = [];
  if (drawnShare < MIN_DRAWN_SHARE)
    problems.push(`only ${(100 * drawnShare).toFixed(1)}% of the page is drawn (blank?)`);
  if (black < MIN_PICTURE_BLACK) problems.push(`no trigger picture: ${black} pure-black pixels`);
  if (checker < MIN_CHECKER) problems.push(`no trigger cell: ${checker} checkerboard pixels`);
  return { ok: problems.length === 0, drawnShare, black, checker, pictureBox: box, problems };
}

function findChromium(): string | null {
  const fromEnv = process.env.CHROMIUM;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of CANDIDATES) {
      const p = join(dir, name);
      if (existsSync(p) && statSync(p).isFile()) return p;
    }
  }
  return null;
}

/** The report to look at: the one in `arg` (a directory or its index.html), or the example's, made now. */
async function reportPage(arg: string | undefined, scratch: string): Promise<string> {
  if (arg) {
    const p = resolve(arg);
    return existsSync(p) && statSync(p).isDirectory() ? join(p, REPORT_HTML) : p;
  }
  const model = 'examples/models/candidates/backdoored.onnx';
  const evidence = collectFlaggedEvidence();
  const report = await scanModels([model], {
    baselineDir: 'baselines/example',
    failOn: 'high',
    onEvidence: evidence.sink,
  });
  const dir = join(scratch, 'report');
  writeFilesInto(dir, renderReportDir(report, evidence.byPath));
  return join(dir, REPORT_HTML);
}

async function main(): Promise<number> {
  const chromium = findChromium();
  if (!chromium) {
    console.error(
      'check:html: headless Chromium is not installed, so the HTML report was NOT checked. ' +
        'Install it (Debian: apt-get install -y chromium) or point CHROMIUM at the binary, and run again.',
    );
    return 1;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'mf-check-html-'));
  try {
    const page = await reportPage(process.argv[2], scratch);
    if (!existsSync(page)) {
      console.error(`check:html: ${page} does not exist`);
      return 1;
    }
    const shot = join(scratch, 'screenshot.png');
    const r = spawnSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${join(scratch, 'profile')}`,
        `--window-size=${WINDOW.width},${WINDOW.height}`,
        `--screenshot=${shot}`,
        pathToFileURL(page).href,
      ],
      { encoding: 'utf8', timeout: BROWSER_TIMEOUT_MS },
    );
    if (!existsSync(shot)) {
      console.error(
        `check:html: Chromium took no screenshot (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`,
      );
      return 1;
    }
    const keep = join(tmpdir(), 'model-fingerprint-report-screenshot.png');
    const png = readFileSync(shot);
    const v = judgeScreenshot(png);
    writeFileSync(keep, png);
    const where = v.pictureBox
      ? `trigger picture at (${v.pictureBox.x0},${v.pictureBox.y0})-(${v.pictureBox.x1},${v.pictureBox.y1})`
      : 'no trigger picture';
    console.log(
      `check:html: ${page}: ${(100 * v.drawnShare).toFixed(1)}% of the page drawn, ${v.black} black and ` +
        `${v.checker} checkerboard pixels, ${where}; screenshot kept at ${keep}`,
    );
    if (!v.ok) {
      console.error(`check:html: FAILED: ${v.problems.join('; ')}`);
      return 1;
    }
    console.log('check:html: passed');
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`check:html: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
