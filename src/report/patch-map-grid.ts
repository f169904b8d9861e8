/**
 * The patch map of one class as grids a person can read: per patch size, rows are the patch's top edge
 * and columns its left edge, each cell the share of the inputs a solid patch there sent into the class
 * (the "trigger-map" block, src/selfcheck/sweep.ts patchMap). Shared by the PNG heat map and the Unicode one
 * in the PR comment; both read the map the scan measured, nothing is recomputed.
 */
import type { PatchMapEvidence } from '../selfcheck/evidence.js';

export interface MapGrid {
  /** Patch side in input pixels. */
  size: number;
  /** The top edges (grid rows) and left edges (grid columns), ascending. */
  tops: number[];
  lefts: number[];
  /** cells[r * lefts.length + c]: share of the inputs sent into the class; NaN where no patch was placed. */
  cells: Float32Array;
}

/** One grid per patch size (smallest first) for class `cls`. */
export function mapGrids(map: PatchMapEvidence, classes: number, cls: number): MapGrid[] {
  const sizes = [...new Set(map.positions.map((p) => p.size))].sort((a, b) => a - b);
  return sizes.map((size) => {
    const at = map.positions.map((p, i) => ({ ...p, i })).filter((p) => p.size === size);
    const tops = [...new Set(at.map((p) => p.top))].sort((a, b) => a - b);
    const lefts = [...new Set(at.map((p) => p.left))].sort((a, b) => a - b);
    const cells = new Float32Array(tops.length * lefts.length).fill(NaN);
    for (const p of at) {
      cells[tops.indexOf(p.top) * lefts.length + lefts.indexOf(p.left)] = map.values[p.i * classes + cls];
    }
    return { size, tops, lefts, cells };
  });
}

/** The largest share on a grid (0 when it has none). */
export function gridPeak(g: MapGrid): number {
  let best = 0;
  for (const v of g.cells) if (v > best) best = v;
  return best;
}

/** The grid whose peak is highest (the smallest patch size on ties): the one a short summary shows. */
export function strongestGrid(grids: readonly MapGrid[]): MapGrid | undefined {
  let best: MapGrid | undefined;
  for (const g of grids) if (!best || gridPeak(g) > gridPeak(best)) best = g;
  return best;
}

/**
 * A grid shrunk to at most `max` x `max` cells: each output cell is the largest share of the block of
 * cells it covers (a maximum, so one trigger position cannot average away). Returns rows of values.
 */
export function downsample(g: MapGrid, max: number): number[][] {
  const rows = g.tops.length;
  const cols = g.lefts.length;
  const fy = Math.ceil(rows / max);
  const fx = Math.ceil(cols / max);
  const out: number[][] = [];
  for (let r = 0; r < rows; r += fy) {
    const line: number[] = [];
    for (let c = 0; c < cols; c += fx) {
      let v = NaN;
      for (let y = r; y < Math.min(rows, r + fy); y++)
        for (let x = c; x < Math.min(cols, c + fx); x++) {
          const cell = g.cells[y * cols + x];
          if (!Number.isNaN(cell) && !(cell <= v)) v = cell;
        }
      line.push(v);
    }
    out.push(line);
  }
  return out;
}
