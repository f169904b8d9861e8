/**
 * The patch map as a heat map picture: one row per suspected class, one panel per patch size. A panel is
 * laid out like the input itself (same upscaling as the trigger picture), each cell at the top-left corner
 * of a solid patch and coloured by the share of the inputs that patch sent into the class (white none,
 * dark red all); grey where no patch of that size starts. The patch with the largest share is outlined
 * over its whole extent, so the picture points at where the trigger sits. Pure: evidence in, PNG bytes out.
 */
import type { PatchMapEvidence, TriggerEvidence } from '../selfcheck/evidence.js';
import { gridPeak, mapGrids, type MapGrid } from './patch-map-grid.js';
import { BLACK, Raster, TEXT_LINE, textWidth, type Rgb } from './raster.js';
import { upscale } from './trigger-picture.js';

const GAP = 16;
const MARGIN = 12;
const LEGEND_W = 200;
const LEGEND_H = 12;
const NO_PATCH: Rgb = [232, 232, 232];
const PEAK: Rgb = [20, 60, 220];
const FRAME: Rgb = [160, 160, 160];
/** The colour ramp, white (no input sent) to dark red (every input): YlOrRd-like stops. */
const RAMP: readonly [number, Rgb][] = [
  [0, [255, 255, 255]],
  [0.25, [254, 217, 118]],
  [0.5, [253, 141, 60]],
  [0.75, [227, 26, 28]],
  [1, [128, 0, 38]],
];

/** The colour of a share in [0, 1] (clipped). */
export function heatColour(v: number): Rgb {
  if (Number.isNaN(v)) return NO_PATCH;
  const t = Math.min(1, Math.max(0, v));
  for (let i = 1; i < RAMP.length; i++) {
    const [t1, c1] = RAMP[i];
    if (t <= t1) {
      const [t0, c0] = RAMP[i - 1];
      const f = (t - t0) / (t1 - t0);
      return [0, 1, 2].map((k) => Math.round(c0[k] + f * (c1[k] - c0[k]))) as unknown as Rgb;
    }
  }
  return RAMP[RAMP.length - 1][1];
}

/** Input pixels from one patch start to the next (the last start: like the one before, at least 1). */
function extents(starts: readonly number[]): number[] {
  return starts.map((s, i) =>
    i + 1 < starts.length ? starts[i + 1] - s : Math.max(1, i > 0 ? s - starts[i - 1] : 1),
  );
}

function drawGrid(r: Raster, grid: MapGrid, sx: number, sy: number, x: number, y: number): void {
  const hs = extents(grid.tops);
  const ws = extents(grid.lefts);
  const cols = grid.lefts.length;
  let peak = -1;
  grid.tops.forEach((top, i) =>
    grid.lefts.forEach((left, j) => {
      const v = grid.cells[i * cols + j];
      r.fillRect(x + left * sx, y + top * sy, ws[j] * sx, hs[i] * sy, heatColour(v));
      if (!Number.isNaN(v) && (peak < 0 || v > grid.cells[peak])) peak = i * cols + j;
    }),
  );
  if (peak >= 0 && grid.cells[peak] > 0) {
    const top = grid.tops[Math.floor(peak / cols)];
    const left = grid.lefts[peak % cols];
    r.strokeRect(x + left * sx, y + top * sy, grid.size * sx, grid.size * sy, PEAK, 2);
  }
}

function panelLabel(size: number, peakPercent: number): string {
  return `${size}x${size}, peak ${peakPercent}%`;
}

/** The heat map picture of `classes` (the suspected ones) from one model's evidence, as PNG bytes. */
export function renderHeatmapPicture(
  e: TriggerEvidence & { map: PatchMapEvidence },
  classes: readonly number[],
): Buffer {
  const g = e.geometry;
  const { sx, sy } = upscale(g);
  const pw = g.w * sx;
  const ph = g.h * sy;
  const rows = classes.map((c) => ({ cls: c, grids: mapGrids(e.map, e.classes, c) }));
  const panels = Math.max(1, ...rows.map((row) => row.grids.length));
  const labelW = textWidth('class 000') + GAP;
  // a panel is as wide as its input, or as its label when that is wider (small inputs)
  const colW = Math.max(
    pw,
    ...rows.flatMap((row) => row.grids.map((g) => textWidth(panelLabel(g.size, 100)))),
  );
  const title = `Patch map: the share of ${e.map.inputs} inputs a solid patch sends into the class`;
  const subtitle = 'each cell: the top-left corner of a patch; blue frame: the patch with the largest share';
  const rowH = TEXT_LINE + ph + GAP;
  const top = MARGIN + 2 * TEXT_LINE + 4;
  const width = Math.max(
    MARGIN * 2 + labelW + panels * colW + (panels - 1) * GAP,
    MARGIN * 2 + textWidth(title),
    MARGIN * 2 + textWidth(subtitle),
  );
  const height = top + rows.length * rowH + TEXT_LINE + LEGEND_H + MARGIN;
  const r = new Raster(width, height);
  r.text(title, MARGIN, MARGIN);
  r.text(subtitle, MARGIN, MARGIN + TEXT_LINE, [90, 90, 90]);
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    r.text(`class ${row.cls}`, MARGIN, y + TEXT_LINE + Math.floor(ph / 2) - 7);
    row.grids.forEach((grid, j) => {
      const x = MARGIN + labelW + j * (colW + GAP) + Math.floor((colW - pw) / 2);
      const peak = Math.round(100 * gridPeak(grid));
      r.centredText(panelLabel(grid.size, peak), x + pw / 2, y, [90, 90, 90]);
      r.fillRect(x, y + TEXT_LINE, pw, ph, NO_PATCH);
      drawGrid(r, grid, sx, sy, x, y + TEXT_LINE);
      r.strokeRect(x - 1, y + TEXT_LINE - 1, pw + 2, ph + 2, FRAME);
    });
  });
  // legend: the ramp from 0% to 100%
  const ly = top + rows.length * rowH;
  const lx = MARGIN + labelW;
  const w0 = r.text('0%', lx, ly, BLACK) + 6;
  for (let i = 0; i < LEGEND_W; i++) r.fillRect(lx + w0 + i, ly, 1, LEGEND_H, heatColour(i / (LEGEND_W - 1)));
  r.strokeRect(lx + w0 - 1, ly - 1, LEGEND_W + 2, LEGEND_H + 2, FRAME);
  r.text('100% of the inputs', lx + w0 + LEGEND_W + 6, ly, BLACK);
  return r.toPng();
}
