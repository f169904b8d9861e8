/**
 * The picture renderers: the trigger picture and the patch-map heat map (golden PNGs compared pixel by
 * pixel, and what a reviewer must see checked in the pixels: the stamped corner is white, the clean one is
 * not, the map's hottest cell is where the trigger sits), the self-contained HTML page (golden, with its
 * inlined PNGs checked to be the files written beside it; no external asset, no script; every string from
 * a model file or path escaped), the Unicode heat map of the PR comment (at most 16 x 16 cells) and the
 * Markdown with it (golden).
 */
import { PNG } from 'pngjs';
import { heatColour, renderHeatmapPicture } from '../../src/report/heatmap-picture.js';
import { TEXT_MAP_MAX, textHeatMap } from '../../src/report/heatmap-text.js';
import { escapeHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { fileStem, renderReportDir, REPORT_HTML, type ReportFile } from '../../src/report/pictures.js';
import { renderTriggerPicture, triggerPictureLayout } from '../../src/report/trigger-picture.js';
import type { ScanReport } from '../../src/report/types.js';
import type { PatchMapEvidence, TriggerEvidence } from '../../src/selfcheck/evidence.js';
import { writeFilesInto } from '../../src/util/write-files.js';
import { expectGolden } from './golden.js';
import { decodePng, expectGoldenPng, type Decoded } from './golden-png.js';
import { cornerPatchEvidence, rgbBlendEvidence, warpEvidence } from './sample-evidence.js';
import { FAILED, HIGH, LOW, MEDIUM, SAMPLE_REPORT, withPath } from './sample-report.js';

function rgb(img: Decoded, x: number, y: number): [number, number, number] {
  const o = (y * img.width + x) * 4;
  return [img.data[o], img.data[o + 1], img.data[o + 2]];
}

/** Every pixel of the rectangle, as "r,g,b" strings, deduplicated. */
function colours(img: Decoded, x: number, y: number, w: number, h: number): Set<string> {
  const out = new Set<string>();
  for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) out.add(rgb(img, i, j).join(','));
  return out;
}

const EVIDENCE = new Map<string, TriggerEvidence>([[HIGH.path, cornerPatchEvidence()]]);

describe('the trigger picture', () => {
  const e = cornerPatchEvidence();
  const png = renderTriggerPicture(e);

  test('matches the reviewed picture', () => {
    expectGoldenPng('corner-patch-trigger.png', png);
  });

  test('shows the 3x3 white square in the bottom-right corner of every stamped input, not of the clean ones', () => {
    const img = decodePng(png);
    const L = triggerPictureLayout(e);
    expect([img.width, img.height]).toEqual([L.width, L.height]);
    expect(L.sx).toBe(8); // a 14x14 digit upscaled nearest-neighbour to 112 px
    for (const cell of L.examples) {
      const corner = (c: { x: number; y: number }) => colours(img, c.x + 11 * 8, c.y + 11 * 8, 24, 24);
      expect([...corner(cell.stamped)]).toEqual(['255,255,255']);
      expect([...corner(cell.clean)]).toEqual(['0,0,0']);
      // outside the square the stamped input is the clean one, pixel for pixel
      for (let y = 0; y < 112; y += 4)
        for (let x = 0; x < 112; x += 4) {
          if (x >= 88 && y >= 88) continue;
          expect(rgb(img, cell.stamped.x + x, cell.stamped.y + y)).toEqual(
            rgb(img, cell.clean.x + x, cell.clean.y + y),
          );
        }
    }
    // the trigger alone: white where it is stamped, the grey checkerboard where the input shows through
    expect([...colours(img, L.trigger.x + 88, L.trigger.y + 88, 24, 24)]).toEqual(['255,255,255']);
    expect(colours(img, L.trigger.x, L.trigger.y, 16, 8)).toEqual(new Set(['150,150,150', '190,190,190']));
  });

  test('a class reached by stamping is written in red, the others in black', () => {
    const img = decodePng(png);
    const L = triggerPictureLayout(e);
    const labelColours = (c: { x: number; y: number }) =>
      [...colours(img, c.x, c.y + 14 * 8 + 4, 112, 16)].filter((s) => s !== '255,255,255');
    // examples: 1 -> 7 (reached), 0 -> 7 (reached), 4 -> 4 (not)
    expect(labelColours(L.examples[0].stamped)).toEqual(['200,16,32']);
    expect(labelColours(L.examples[1].stamped)).toEqual(['200,16,32']);
    expect(labelColours(L.examples[2].stamped)).toEqual(['0,0,0']);
    expect(labelColours(L.examples[0].clean)).toEqual(['0,0,0']);
  });

  test('an RGB input with a blend trigger, and a warp', () => {
    const rgbPng = renderTriggerPicture(rgbBlendEvidence());
    expectGoldenPng('rgb-blend-trigger.png', rgbPng);
    const img = decodePng(rgbPng);
    const L = triggerPictureLayout(rgbBlendEvidence());
    expect(L.sx).toBe(14); // 8x8 upscaled to 112
    // three channels drawn as colour: the clean input is not grey
    const cell = L.examples[0].clean;
    expect([...colours(img, cell.x, cell.y, 112, 112)].some((s) => new Set(s.split(',')).size > 1)).toBe(
      true,
    );
    expectGoldenPng('warp-trigger.png', renderTriggerPicture(warpEvidence()));
  });
});

describe('the patch-map heat map', () => {
  const e = cornerPatchEvidence() as TriggerEvidence & { map: PatchMapEvidence };
  const png = renderHeatmapPicture(e, [7, 3]);

  test('matches the reviewed picture', () => {
    expectGoldenPng('corner-patch-map.png', png);
  });

  test('is darkest where the corner patch sits and white where no input moved', () => {
    const img = decodePng(png);
    const all = colours(img, 0, 0, img.width, img.height);
    expect(all.has(heatColour(1).join(','))).toBe(true); // every input sent to 7 somewhere
    expect(all.has('20,60,220')).toBe(true); // the frame around the hottest patch
    expect(heatColour(0)).toEqual([255, 255, 255]);
    expect(heatColour(Number.NaN)).toEqual([232, 232, 232]);
    expect(heatColour(0.5)).toEqual([253, 141, 60]);
  });
});

/** The page with each inlined PNG replaced by the name of the file it equals (they must be those files). */
function htmlWithNamedPictures(files: ReportFile[]): string {
  let html = String(files.find((f) => f.name === REPORT_HTML)?.data);
  for (const f of files.filter((x) => x.name.endsWith('.png'))) {
    const uri = `data:image/png;base64,${(f.data as Buffer).toString('base64')}`;
    expect(html).toContain(uri);
    html = html.split(uri).join(`data:image/png;base64,[${f.name}]`);
  }
  return html;
}

describe('the report directory and its HTML page', () => {
  test('pictures for the flagged models with evidence only, and the page (golden)', () => {
    const files = renderReportDir(SAMPLE_REPORT, EVIDENCE);
    expect(files.map((f) => f.name)).toEqual([
      '01-trojan-resnet-trigger.png',
      '01-trojan-resnet-patch-map.png',
      REPORT_HTML,
    ]);
    const html = htmlWithNamedPictures(files);
    expect(html).not.toMatch(/data:image\/png;base64,[A-Za-z0-9+/]/); // every picture is one of the files
    expectGolden('sample.html', html);
    // the medium model has no evidence: said, not left blank
    expect(html).toContain('No pictures: trigger probing did not run on this model');
  });

  test('self-contained: no external asset, no script, every picture inlined', () => {
    const html = String(renderReportDir(SAMPLE_REPORT, EVIDENCE).at(-1)?.data);
    expect(html).not.toMatch(/<script|<link|<iframe|<object|<embed|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:|\/\/|file:)/i);
    const srcs = [...html.matchAll(/<img src="([^"]*)"/g)].map((m) => m[1]);
    expect(srcs).toHaveLength(2);
    for (const s of srcs) {
      const png = PNG.sync.read(Buffer.from(s.replace('data:image/png;base64,', ''), 'base64'));
      expect(png.width).toBeGreaterThan(100);
    }
  });

  test('every string from a model file or path is escaped', () => {
    const evil = '<img src=x onerror=alert(1)>"\'&\u001b[31m.onnx';
    const report: ScanReport = {
      ...SAMPLE_REPORT,
      notes: ['<b>note</b>'],
      models: [
        withPath(
          {
            ...HIGH,
            explanation: {
              ...HIGH.explanation,
              summary: '</p><script>alert(1)</script>',
              trigger: { ...HIGH.explanation.trigger!, location: '"><svg onload=alert(1)>' },
            },
          },
          `models/${evil}`,
        ),
        withPath({ ...FAILED, error: '<script>x</script>', errorCode: '<i>' }, `bad/${evil}`),
        LOW,
      ],
    };
    const files = renderReportDir(report, new Map([[`models/${evil}`, cornerPatchEvidence()]]));
    const html = String(files.at(-1)?.data);
    expect(html).not.toMatch(/<script|<svg|<img src=x|<b>|<i>/);
    expect(html.includes(String.fromCharCode(27))).toBe(false); // no raw escape character
    expect(html).toContain(escapeHtml(`models/${evil}`));
    expect(escapeHtml(evil)).toBe('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;\\x1b[31m.onnx');
    expect(html).toContain('&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    // a picture's file name is made from the path but is always a plain name
    expect(files[0].name).toBe('01-img-src-x-onerror-alert-1-31m-trigger.png');
  });

  test('file names from any path stay plain names; writing refuses anything else', () => {
    expect(fileStem('models/../../etc/passwd')).toBe('passwd');
    expect(fileStem('C:\\x\\..\\evil name.ONNX')).toBe('evil-name');
    expect(fileStem('models/.onnx')).toBe('model');
    expect(fileStem('models/...hidden.onnx')).toBe('hidden');
    expect(() => writeFilesInto('/tmp/never', [{ name: '../x', data: '' }])).toThrow(/not a plain file name/);
    expect(() => writeFilesInto('/tmp/never', [{ name: 'a/b', data: '' }])).toThrow(/not a plain file name/);
  });
});

describe('the Unicode heat map of the PR comment', () => {
  test('the corner: one line per row, the darkest shade where the patch sends every input', () => {
    const e = cornerPatchEvidence();
    const t = textHeatMap(e.map!, 10, 7);
    expect(t).toBeDefined();
    // the strongest size is the smallest whose peak is highest: 2x2 (13 x 13 positions)
    expect(t!.lines).toHaveLength(13);
    expect(t!.lines[12].endsWith('██')).toBe(true);
    expect(t!.lines.slice(0, 12).every((l) => !l.includes('█'))).toBe(true);
    expect(t!.legend).toMatch(/^2x2 solid patches with their top-left corner at rows 0-12, columns 0-12; /);
    expect(t!.legend).toContain('share of 64 inputs the patch there sends into class 7: █ 80-100%');
  });

  test('a bigger map is shrunk to at most 16 x 16 cells, each the largest of its block', () => {
    const positions: { size: number; top: number; left: number }[] = [];
    for (let top = 0; top < 40; top++)
      for (let left = 0; left < 37; left++) positions.push({ size: 3, top, left });
    const values = new Float32Array(positions.length * 2);
    values[positions.findIndex((p) => p.top === 22 && p.left === 30) * 2 + 1] = 0.9;
    const t = textHeatMap({ inputs: 8, positions, values }, 2, 1)!;
    expect(t.lines.length).toBeLessThanOrEqual(TEXT_MAP_MAX);
    expect(Math.max(...t.lines.map((l) => [...l].length))).toBeLessThanOrEqual(2 * TEXT_MAP_MAX);
    // 40 rows in blocks of 3, 37 columns in blocks of 3: the hot one lands in block (7, 10)
    expect(t.lines).toHaveLength(14);
    expect([...t.lines[7]].slice(20, 22).join('')).toBe('██');
    expect(t.lines.join('').split('█').length - 1).toBe(2);
    expect(t.legend).toContain('each cell the largest of a block of 3x3 positions');
  });

  test('the Markdown: the heat map in a code block, the legend, the link (golden)', () => {
    const md = renderMarkdown(SAMPLE_REPORT, {
      evidence: EVIDENCE,
      htmlReport: {
        url: 'https://github.com/acme/models/actions/runs/1/artifacts/2',
        name: 'model-fingerprint-report',
      },
    });
    expectGolden('sample-pictures.md', md);
    expect(md).toMatch(/```text\n(··| {2}|░░|▒▒|▓▓|██)+\n/);
    expect(md).toContain('[HTML report](https://github.com/acme/models/actions/runs/1/artifacts/2)');
    // a link target that could break out of the Markdown link is not written
    for (const url of ['javascript:alert(1)', 'https://x/a)(b', 'https://x/a b']) {
      expect(
        renderMarkdown(SAMPLE_REPORT, { evidence: EVIDENCE, htmlReport: { url, name: 'n' } }),
      ).not.toContain('HTML report');
    }
    // without evidence the comment is what it was
    expect(renderMarkdown(SAMPLE_REPORT, {})).toBe(renderMarkdown(SAMPLE_REPORT));
    expect(renderMarkdown(SAMPLE_REPORT)).not.toContain('```');
    // a low model's map is no finding
    const lowOnly = renderMarkdown(
      { ...SAMPLE_REPORT, models: [LOW, MEDIUM] },
      { evidence: new Map([[LOW.path, cornerPatchEvidence()]]) },
    );
    expect(lowOnly).not.toContain('```');
  });
});
