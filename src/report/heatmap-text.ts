/**
 * The patch map of the suspected class as a small Unicode block heat map, for places where a picture would
 * need a URL (the PR comment, the job summary): one line per grid row, at most TEXT_MAP_MAX x TEXT_MAP_MAX
 * cells (a larger grid is shrunk, each cell the largest share of its block), two characters per cell so
 * cells come out about square in a monospaced font. Pure.
 */
import type { PatchMapEvidence } from '../selfcheck/evidence.js';
import { downsample, mapGrids, strongestGrid } from './patch-map-grid.js';

/** Most cells along either side of the text heat map. */
export const TEXT_MAP_MAX = 16;

/** Shade per share of the inputs sent into the class, darkest first. */
export const TEXT_SHADES: readonly { min: number; ch: string }[] = [
  { min: 0.8, ch: '█' },
  { min: 0.5, ch: '▓' },
  { min: 0.3, ch: '▒' },
  { min: 0.1, ch: '░' },
  { min: -Infinity, ch: '·' },
];

export interface TextHeatMap {
  /** The grid, one string per row. */
  lines: string[];
  /** What the grid shows and what dark means, one sentence. */
  legend: string;
}

function shade(v: number): string {
  if (Number.isNaN(v)) return '  ';
  const ch = (TEXT_SHADES.find((s) => v >= s.min) ?? TEXT_SHADES[TEXT_SHADES.length - 1]).ch;
  return ch + ch;
}

function span(xs: readonly number[]): string {
  return xs.length === 0 ? '-' : `${xs[0]}-${xs[xs.length - 1]}`;
}

/** The heat map of class `cls` at the patch size where it peaks, or undefined for an empty map. */
export function textHeatMap(map: PatchMapEvidence, classes: number, cls: number): TextHeatMap | undefined {
  const grid = strongestGrid(mapGrids(map, classes, cls));
  if (!grid || grid.cells.length === 0) return undefined;
  const rows = downsample(grid, TEXT_MAP_MAX);
  const lines = rows.map((r) => r.map(shade).join('').trimEnd());
  const fy = Math.ceil(grid.tops.length / TEXT_MAP_MAX);
  const fx = Math.ceil(grid.lefts.length / TEXT_MAP_MAX);
  const shrunk = fy > 1 || fx > 1 ? `, each cell the largest of a block of ${fy}x${fx} positions` : '';
  const bands = TEXT_SHADES.map((s, i) => {
    const hi = i === 0 ? 100 : Math.round(100 * TEXT_SHADES[i - 1].min);
    return s.min === -Infinity ? `${s.ch} under ${hi}%` : `${s.ch} ${Math.round(100 * s.min)}-${hi}%`;
  });
  const legend =
    `${grid.size}x${grid.size} solid patches with their top-left corner at rows ${span(grid.tops)}, ` +
    `columns ${span(grid.lefts)}${shrunk}; each cell: the share of ${map.inputs} inputs the patch there ` +
    `sends into class ${cls}: ${bands.join(', ')}.`;
  return { lines, legend };
}
