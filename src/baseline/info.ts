/**
 * `baseline info`: what a baseline can and cannot tell. Members, the smallest p-value it supports by rank
 * (and that the fitted tail goes beyond it), whether the high band is reachable, the spread of the clean
 * population's ensemble statistic, and the leave-one-out false-alarm rate at each band: each reference
 * scored as a new model against the others. Also the members' features version (what their blocks mean):
 * a baseline of another version than this tool's still shows here, with the note that scans refuse it.
 */
import { loadBaseline } from './store.js';
import { rebuildCommand } from './rebuild-command.js';
import { FEATURES_VERSION, featuresVersionOf } from '../fingerprint/types.js';
import { deserializeEnsemble } from '../score/ensemble.js';
import { leaveOneOutPValues } from '../score/calibrate.js';
import { P_HIGH, P_MEDIUM } from '../score/risk.js';
import { describeBudget, recordedBudget } from '../fingerprint/budget.js';

export interface BaselineInfoReport {
  id: string;
  dir: string;
  createdAt: string;
  tool: { name: string; version: string };
  signature: string;
  probeHash: string;
  /** The members' features version (FEATURES_VERSION of the tool that built it; 1 when the manifest predates the field). */
  features: number;
  /** The command that rebuilds it, when this version refuses it (another features version). */
  rebuild?: string;
  /** The probe value range the baseline records (--probe-range), when not the default [0, 1]. */
  probeRange?: [number, number];
  /** The input normalisation the baseline records (--input-mean/--input-std), when there is one. */
  normalize?: { mean: number[]; std: number[] };
  /** The scan budget its members were fingerprinted with, and every scan against it uses (src/fingerprint/budget.ts). */
  budget: { setting: string; macs: number } | null;
  layers: string[];
  members: { path: string; sha256: string }[];
  channels: string[];
  minRankPValue: number;
  highReachableByRank: boolean;
  highReachable: boolean;
  /** Quantiles of the references' ensemble statistic (mean -ln p over channels). */
  spread: { min: number; median: number; p90: number; max: number };
  /** Share of references that leave-one-out scoring puts in each band (the false-alarm rate on clean models). */
  looFalseAlarm: { medium: number; high: number };
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export async function baselineInfo(dir: string): Promise<BaselineInfoReport> {
  const b = await loadBaseline(dir);
  const state = deserializeEnsemble(b.ensemble.json, b.ensemble.arrays);
  const m = b.manifest;
  const refStats = state.combined.sorted;
  const loo = leaveOneOutPValues(refStats);
  const n = loo.length;
  const share = (maxP: number) => loo.filter((p) => p <= maxP).length / n;
  const spec = (m.probes.spec ?? {}) as {
    range?: [number, number];
    normalize?: { mean: number[]; std: number[] };
  };
  return {
    id: m.id,
    dir,
    createdAt: m.createdAt,
    tool: m.tool,
    signature: m.signature,
    probeHash: m.probes.hash,
    features: featuresVersionOf(m),
    ...(featuresVersionOf(m) !== FEATURES_VERSION ? { rebuild: rebuildCommand(dir, m) } : {}),
    ...(spec.range ? { probeRange: spec.range } : {}),
    ...(spec.normalize ? { normalize: spec.normalize } : {}),
    budget: recordedBudget(m.budget),
    layers: m.capturedLayers,
    members: m.members.map(({ path, sha256 }) => ({ path, sha256 })),
    channels: state.channels.map((c) => (c.separate ? `${c.key} (separate test)` : c.key)),
    minRankPValue: 1 / (n + 1),
    highReachableByRank: 1 / (n + 1) <= P_HIGH,
    highReachable: true,
    spread: {
      min: refStats[0],
      median: quantile(refStats, 0.5),
      p90: quantile(refStats, 0.9),
      max: refStats[n - 1],
    },
    looFalseAlarm: { medium: share(P_MEDIUM), high: share(P_HIGH) },
  };
}

export function formatBaselineInfo(i: BaselineInfoReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `baseline ${i.id} (${i.dir})`,
    `  built        ${i.createdAt} by ${i.tool.name} ${i.tool.version}`,
    `  signature    ${i.signature}`,
    `  probe set    ${i.probeHash.slice(0, 16)}`,
    `  features     v${i.features}${i.features === FEATURES_VERSION ? '' : ` (this version computes v${FEATURES_VERSION}: scans refuse this baseline; rebuild it: ${i.rebuild ?? rebuildCommand(i.dir)})`}`,
    ...(i.probeRange ? [`  probe range  [${i.probeRange.join(', ')}]`] : []),
    ...(i.normalize
      ? [
          `  input norm   (x - mean) / std per channel, mean ${i.normalize.mean.join(',')}, std ${i.normalize.std.join(',')}`,
        ]
      : []),
    `  budget       ${i.budget ? describeBudget(i.budget) : 'unreadable (scans refuse this baseline)'}`,
    `  layers       ${i.layers.join(', ') || '(none)'}`,
    `  members      ${i.members.length}`,
    `  channels     ${i.channels.length}: ${i.channels.join(', ')}`,
    `  rank floor   p >= ${i.minRankPValue.toPrecision(3)} by rank alone; smaller p-values come from the fitted tail`,
    `  high band    ${i.highReachableByRank ? 'reachable by rank' : `reachable only through the fitted tail (${Math.ceil(1 / P_HIGH) - 1}+ members reach it by rank)`}`,
    `  clean spread ensemble statistic min ${i.spread.min.toFixed(3)}, median ${i.spread.median.toFixed(3)}, p90 ${i.spread.p90.toFixed(3)}, max ${i.spread.max.toFixed(3)}`,
    `  false alarms leave-one-out on the members: ${pct(i.looFalseAlarm.medium)} at medium or above, ${pct(i.looFalseAlarm.high)} high`,
    '',
    '  members:',
    ...i.members.map((m) => `    ${m.sha256.slice(0, 12)}  ${m.path}`),
  ];
  return lines.join('\n') + '\n';
}
