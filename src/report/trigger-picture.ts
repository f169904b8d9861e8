/**
 * The picture of a suspected trigger: the trigger itself (what is stamped, over a grey checkerboard where
 * the input shows through; a warp as the length of its displacement), then a few inputs the scan stamped it
 * on, before and after, with the class the model gave each (the scan's own forward passes: src/selfcheck/
 * evidence.ts). Inputs are upscaled nearest-neighbour so a 14x14 digit is a grid of visible pixels; a
 * class written in red is the suspected target reached by stamping. Pure: evidence in, PNG bytes out.
 */
import type { TriggerEvidence } from '../selfcheck/evidence.js';
import type { ImageGeometry, Trigger } from '../selfcheck/triggers.js';
import { BLACK, Raster, TEXT_LINE, textWidth, type Rgb } from './raster.js';

/** Inputs are upscaled to about this many pixels along their longer side (never below 1x, at most 16x). */
export const TARGET_INPUT_PIXELS = 112;
const MAX_UPSCALE = 16;
/** A one-row input (a feature strip) is drawn at least this tall. */
const MIN_STRIP_HEIGHT = 24;
const GAP = 16;
const MARGIN = 12;

const GREY: Rgb = [90, 90, 90];
const RED: Rgb = [200, 16, 32];
const FRAME: Rgb = [160, 160, 160];
const CHECKER: readonly [Rgb, Rgb] = [
  [150, 150, 150],
  [190, 190, 190],
];

/** Pixels per input pixel, horizontally and vertically. */
export function upscale(g: ImageGeometry): { sx: number; sy: number } {
  const s = Math.max(1, Math.min(MAX_UPSCALE, Math.floor(TARGET_INPUT_PIXELS / Math.max(g.h, g.w))));
  return { sx: s, sy: g.h === 1 ? Math.max(s, MIN_STRIP_HEIGHT) : s };
}

/** The trigger alone: stamped values over a checkerboard where the mask lets the input through. */
function drawTrigger(r: Raster, t: Trigger, e: TriggerEvidence, x: number, y: number): void {
  const g = e.geometry;
  const { sx, sy } = upscale(g);
  const hw = g.h * g.w;
  const { lo, hi } = e.range;
  const level = (v: number) => Math.round(255 * Math.min(1, Math.max(0, (v - lo) / (hi - lo))));
  let maxShift = 0;
  if (t.kind === 'warp')
    for (let i = 0; i < hw; i++) maxShift = Math.max(maxShift, Math.hypot(t.dy[i], t.dx[i]));
  for (let py = 0; py < g.h; py++) {
    for (let px = 0; px < g.w; px++) {
      const i = py * g.w + px;
      const back = CHECKER[(px + py) % 2];
      let c: Rgb;
      if (t.kind === 'warp') {
        // how far the warp moves this pixel, black = not at all, white = the largest shift
        const v = maxShift > 0 ? Math.round((255 * Math.hypot(t.dy[i], t.dx[i])) / maxShift) : 0;
        c = [v, v, v];
      } else {
        const m = Math.min(1, Math.max(0, t.mask[i]));
        const fg: Rgb =
          g.c === 3
            ? [level(t.pattern[i]), level(t.pattern[hw + i]), level(t.pattern[2 * hw + i])]
            : [level(t.pattern[i]), level(t.pattern[i]), level(t.pattern[i])];
        c = [0, 1, 2].map((k) => Math.round(m * fg[k] + (1 - m) * back[k])) as unknown as Rgb;
      }
      r.fillRect(x + px * sx, y + py * sy, sx, sy, c);
    }
  }
}

/** Where things sit in the trigger picture: tests read the pixels of a cell through it. */
export interface TriggerPictureLayout {
  width: number;
  height: number;
  title: string;
  /** Pixels per input pixel. */
  sx: number;
  sy: number;
  /** The trigger's cell. */
  trigger: { x: number; y: number };
  /** Per example: its clean and its stamped cell (top-left corners; each cell is w x h input pixels upscaled). */
  examples: { clean: { x: number; y: number }; stamped: { x: number; y: number } }[];
  labelY: { header: number; rows: number[] };
}

const ROW_LABELS = ['before', 'after'];

export function triggerPictureLayout(e: TriggerEvidence): TriggerPictureLayout {
  const g = e.geometry;
  const { sx, sy } = upscale(g);
  const cw = g.w * sx;
  const ch = g.h * sy;
  const labelW = Math.max(...ROW_LABELS.map((l) => textWidth(l)), textWidth('trigger')) + GAP;
  const cols = 1 + e.examples.length;
  const title =
    `Suspected trigger: ${e.trigger.location || e.trigger.kind} -> class ${e.targetClass}, ` +
    `flips ${Math.round(100 * e.flipRate)}% of ${e.examplesFrom === 'held-out' ? 'held-out ' : ''}inputs`;
  const cellH = ch + TEXT_LINE + 4;
  const top = MARGIN + TEXT_LINE * 2 + 4;
  const colX = (i: number) => MARGIN + labelW + i * (cw + GAP);
  const rowY = (j: number) => top + j * (cellH + GAP);
  return {
    width: Math.max(MARGIN * 2 + labelW + cols * cw + (cols - 1) * GAP, MARGIN * 2 + textWidth(title)),
    height: top + 2 * cellH + GAP + MARGIN,
    title,
    sx,
    sy,
    trigger: { x: colX(0), y: rowY(0) },
    examples: e.examples.map((_, i) => ({
      clean: { x: colX(i + 1), y: rowY(0) },
      stamped: { x: colX(i + 1), y: rowY(1) },
    })),
    labelY: { header: MARGIN + TEXT_LINE + 2, rows: [0, 1].map((j) => rowY(j) + Math.floor(ch / 2) - 7) },
  };
}

/** The trigger picture of one model's evidence, as PNG bytes. */
export function renderTriggerPicture(e: TriggerEvidence): Buffer {
  const g = e.geometry;
  const L = triggerPictureLayout(e);
  const { sx, sy } = L;
  const cw = g.w * sx;
  const ch = g.h * sy;
  const r = new Raster(L.width, L.height);
  r.text(L.title, MARGIN, MARGIN);
  r.centredText('trigger', L.trigger.x + cw / 2, L.labelY.header, GREY);
  L.examples.forEach((cell, i) =>
    r.centredText(`input ${i + 1}`, cell.clean.x + cw / 2, L.labelY.header, GREY),
  );
  ROW_LABELS.forEach((l, j) => r.text(l, MARGIN, L.labelY.rows[j]));

  drawTrigger(r, e.trigger, e, L.trigger.x, L.trigger.y);
  r.strokeRect(L.trigger.x - 1, L.trigger.y - 1, cw + 2, ch + 2, FRAME);
  r.centredText(
    e.trigger.kind === 'warp' ? 'bright: moved' : 'grey: input',
    L.trigger.x + cw / 2,
    L.trigger.y + ch + 4,
    GREY,
  );

  e.examples.forEach((ex, i) => {
    const cells = [L.examples[i].clean, L.examples[i].stamped];
    [ex.clean, ex.stamped].forEach((img, j) => {
      const { x, y } = cells[j];
      r.drawInput(img, g, e.range, x, y, sx, sy);
      r.strokeRect(x - 1, y - 1, cw + 2, ch + 2, FRAME);
      const cls = j === 0 ? ex.before : ex.after;
      const reached = j === 1 && cls === e.targetClass && ex.before !== e.targetClass;
      r.centredText(`class ${cls}`, x + cw / 2, y + ch + 4, reached ? RED : BLACK);
    });
  });
  return r.toPng();
}
