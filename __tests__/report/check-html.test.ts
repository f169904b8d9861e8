/**
 * The screenshot judge of `npm run check:html` (scripts/check-html.ts; the browser run itself is that
 * script's, see its header): a blank page fails, a page showing the trigger picture passes.
 */
import { PNG } from 'pngjs';
import { judgeScreenshot } from '../../scripts/check-html.js';
import { renderTriggerPicture } from '../../src/report/trigger-picture.js';
import { cornerPatchEvidence } from './sample-evidence.js';

function page(withPicture: boolean): Buffer {
  const out = new PNG({ width: 1200, height: 900 });
  out.data.fill(255);
  if (withPicture) {
    const pic = PNG.sync.read(renderTriggerPicture(cornerPatchEvidence()));
    PNG.bitblt(pic, out, 0, 0, pic.width, pic.height, 40, 200);
    // some text above it
    for (let y = 40; y < 70; y++)
      for (let x = 40; x < 900; x += 3) out.data.fill(30, (y * 1200 + x) * 4, (y * 1200 + x) * 4 + 3);
  }
  return PNG.sync.write(out, { filterType: 0 });
}

test('a blank page fails, naming why', () => {
  const v = judgeScreenshot(page(false));
  expect(v.ok).toBe(false);
  expect(v.problems.join(' ')).toMatch(/blank/);
  expect(v.pictureBox).toBeNull();
});

test('a page with the trigger picture passes, and the picture is located', () => {
  const v = judgeScreenshot(page(true));
  expect(v.problems).toEqual([]);
  expect(v.ok).toBe(true);
  expect(v.pictureBox?.y0).toBeGreaterThanOrEqual(200);
  expect(v.pictureBox?.x0).toBeGreaterThanOrEqual(40);
});
