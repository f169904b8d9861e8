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

/** A Gumbel null of a statistic on clean models (location, scale), and where it was fitted. */
export interface GapNull {
  location: number;
  scale: number;
  models: number;
  source: string;
}

/** Euler-Mascheroni constant (the Gumbel mean is location + gamma * scale). */
const EULER_GAMMA = 0.5772156649015329;

/**
 * A Gumbel fitted by moments to clean models' values (scale = sd * sqrt(6) / pi, location = mean - gamma
 * scale), the scale widened by `inflation` (a fit on a few hundred models under-estimates the tail; trigger
 * probing's nulls use 1.25, reference-free-p.ts).
 */
export function fitGumbel(xs: number[], inflation: number): { location: number; scale: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  const scale = ((sd * Math.sqrt(6)) / Math.PI) * inflation;
  return { location: mean - EULER_GAMMA * (scale / inflation), scale };
}

/** P(S >= s) under the Gumbel null. */
export function gumbelP(s: number, n: { location: number; scale: number }): number {
  if (!Number.isFinite(s)) return 1;
  return Math.min(1, Math.max(Number.MIN_VALUE, 1 - Math.exp(-Math.exp(-(s - n.location) / n.scale))));
}

/**
 * The shipped null of `logGap` on clean models (bench/realsize/inversion.ts fit, written to
 * bench/realsize/inversion-settings.json; chosen on dev data only: zoo3's ResNet-18s and the MNIST zoo's
 * bench:inversion rows, never on the held-out real-size sets).
 */
export const INVERSION_GAP_NULL: GapNull = {
  location: 0.1495,
  scale: 0.1821,
  models: 254,
  source:
    "dev clean runs: zoo3 ResNet-18 (14 test models, 128 samples, --budget default) and the MNIST zoo's " +
    'bench:inversion rows (240 clean runs, k-arm-60, samples and mined); Gumbel by moments, scale x 1.25',
};

/** The p-value of a model's per-class inversion costs: the upper tail of its logGap under INVERSION_GAP_NULL. */
export function inversionP(costs: ArrayLike<number>): number {
  return gumbelP(inversionStatistics(costs).logGap, INVERSION_GAP_NULL);
}
