/**
 * Reference-free statistics of trigger inversion's per-class mask costs (trigger-inversion.ts: per class the
 * smallest mask L1 that flipped the target share of inputs, else a penalised L1), read as "how much smaller is
 * the suspected class's mask than the model's other classes'". Pure; no model, no I/O.
 *
 * - `minCost`: the smallest cost (pixels' worth of mask).
 * - `anomaly`: Neural Cleanse's anomaly index on the small side, (median - min) / (1.4826 MAD), the MAD
 *   floored at MAD_FLOOR_SHARE of the median (as trigger-inversion.ts scores).
 * - `logAnomaly`: the same on log costs, so that the classes the schedule dropped early (large penalised
 *   costs) do not inflate the MAD: a class reached with a tenth of the median class's mask stands out alike on
 *   a model whose other classes need 100 or 1,000 pixels.
 * - `logGap`: ln(second smallest / smallest): how far the suspected class is ahead of the next one.
 */
import { median } from '../util/robust-stats.js';
import { MAD_FLOOR_SHARE } from './trigger-inversion.js';

/** Scale of the MAD to a normal's standard deviation. */
const MAD_TO_SD = 1.4826;
/** Floor of the MAD of log costs (a model whose classes all cost about the same is no outlier). */
export const LOG_MAD_FLOOR = 0.05;

export interface InversionStatistics {
  minCost: number;
  anomaly: number;
  logAnomaly: number;
  logGap: number;
}

export type InversionStatistic = keyof InversionStatistics;

function smallSideIndex(xs: number[], floor: number): number {
  const med = median(xs);
  const mad = median(xs.map((x) => Math.abs(x - med)));
  return (med - Math.min(...xs)) / Math.max(MAD_TO_SD * mad, floor, Number.MIN_VALUE);
}

/** The statistics of one model's costs (NaN entries: classes that were no candidate, left out). */
export function inversionStatistics(costs: ArrayLike<number>): InversionStatistics {
  const xs = Array.from(costs).filter((c) => Number.isFinite(c) && c >= 0);
  if (xs.length < 3) return { minCost: NaN, anomaly: 0, logAnomaly: 0, logGap: 0 };
  const sorted = xs.slice().sort((a, b) => a - b);
  const logs = xs.map((c) => Math.log(Math.max(c, 1e-3)));
  return {
    minCost: sorted[0],
    anomaly: smallSideIndex(xs, MAD_FLOOR_SHARE * Math.abs(median(xs))),
    logAnomaly: smallSideIndex(logs, LOG_MAD_FLOOR),
    logGap: Math.log(Math.max(sorted[1], 1e-3) / Math.max(sorted[0], 1e-3)),
  };
}
