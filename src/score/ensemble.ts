/**
 * The detector ensemble: several channels (one detector on one named feature block of the fingerprint),
 * each calibrated into a conformal p-value, combined into ONE statistic, itself calibrated the same
 * cross-fitted conformal way into the final p-value behind the risk score.
 *
 * Combination (default; others selectable in config.combine, see combine.ts): T = mean over channels of
 * -ln p_c (Fisher's statistic divided by 2·channels). Fisher adds
 * evidence, so a model that several channels flag a little (p = 0.1 on four channels: T = 2.3) rises above
 * one that a single channel flags as much (T = 0.58); the Cauchy combination would instead be led by the
 * smallest p. Fisher's chi-square null assumes independent channels, which channels on the same fingerprint
 * are not, so T is NOT read off a chi-square: it is ranked among the references' own T (each computed from
 * their cross-fitted, leave-one-out channel p-values), which keeps the final p-value honest under any
 * dependence between channels.
 */
import { InputError } from '../errors.js';
import {
  type Detector,
  type DetectorName,
  type DetectorParams,
  type DetectorState,
  type StateValue,
} from '../detect/detector.js';
import { mat, sqDistances, type Mat } from '../detect/linalg.js';
import { createDetector, isDetectorName, restoreDetector } from '../detect/registry.js';
import {
  crossFitScores,
  DEFAULT_FOLDS,
  fitCalibration,
  leaveOneOutPValues,
  makeFolds,
  pValue,
  rankFloor,
  type Calibration,
} from './calibrate.js';
import { combinePValues, type CombineSpec } from './combine.js';
import { levelOf, riskScore, type RiskLevel } from './risk.js';

export interface ChannelConfig {
  /** Name of the feature block, e.g. "logits", "gram:layer1", "self:trigger". */
  representation: string;
  detector: DetectorName;
  params?: DetectorParams;
  /**
   * A test of its own: fitted and calibrated like every channel and reported, but not combined into T;
   * src/score/final.ts adds its p-value to the verdict by Bonferroni (src/baseline/config.ts
   * SEPARATE_TEST_CHANNELS).
   */
  separate?: boolean;
}

export interface EnsembleConfig {
  channels: ChannelConfig[];
  /** Cross-fitting folds (default 10; leave-one-out when there are fewer references). */
  folds?: number;
  /** How many nearest references to report (default 3). */
  nearest?: number;
  /** How channel p-values are combined into T (src/score/combine.ts); default Fisher (mean -ln p). */
  combine?: CombineSpec;
}

export interface EnsembleChannel {
  key: string;
  representation: string;
  detectorName: DetectorName;
  params: DetectorParams;
  cols: number;
  detector: Detector;
  calibration: Calibration;
  /** Not combined into T (ChannelConfig.separate). */
  separate: boolean;
}

export interface EnsembleState {
  version: 1;
  memberIds: string[];
  config: EnsembleConfig;
  channels: EnsembleChannel[];
  /** Calibration of the combined statistic T over the references. */
  combined: Calibration;
  /** The first channel's block of every reference, for the nearest-reference explanation. */
  nearestBlock: Mat;
}

export interface ChannelVerdict {
  score: number;
  pValue: number;
  detector: DetectorName;
  representation: string;
}

export interface EnsembleVerdict {
  /** The combined p-value (separate channels not included). */
  pValue: number;
  /** The separate channels' p-values by channel key (src/score/final.ts combines them by Bonferroni). */
  separate: Record<string, number>;
  /** Per separate channel whose detector can say it (max_z), the feature that made the score. */
  separateTop: Record<string, { index: number; z: number }>;
  riskScore: number;
  riskLevel: RiskLevel;
  /** The combined statistic T (by default Fisher: mean -ln p over channels). */
  statistic: number;
  channels: Record<string, ChannelVerdict>;
  /** Channels sorted by p-value, most anomalous first. */
  drivers: ({ channel: string } & ChannelVerdict)[];
  nearest: { member: string; distance: number }[];
  /** The rank floor 1/(n+1) of the final calibration: smaller p-values come from the fitted tail. */
  minRankPValue: number;
}

/** Fewest references an ensemble is fitted on (below this no p-value can reach the medium band). */
export const MIN_ENSEMBLE_REFERENCES = 5;
export const DEFAULT_NEAREST = 3;

export function channelKey(c: ChannelConfig): string {
  return `${c.detector}@${c.representation}`;
}

function stackBlock(refs: Record<string, Float32Array>[], memberIds: string[], rep: string): Mat {
  const first = refs[0][rep];
  if (!first) {
    throw new InputError(
      'degenerate-data',
      `reference ${memberIds[0]} has no "${rep}" block; rebuild its fingerprint or drop that channel`,
    );
  }
  const d = first.length;
  const data = new Float32Array(refs.length * d);
  refs.forEach((r, i) => {
    const b = r[rep];
    if (!b || b.length !== d) {
      throw new InputError(
        'degenerate-data',
        `reference ${memberIds[i]}: block "${rep}" has ${b ? b.length : 0} values, expected ${d}; fingerprint all references with the same probes`,
      );
    }
    data.set(b, i * d);
  });
  return mat(refs.length, d, data);
}

/** The combined statistic T of one model's channel p-values (higher = more anomalous). */
function combine(ps: ArrayLike<number>, config: EnsembleConfig): number {
  return combinePValues(ps, config.combine ?? DEFAULT_COMBINE_SPEC);
}

export const DEFAULT_COMBINE_SPEC: CombineSpec = { rule: 'fisher' };

export function fitEnsemble(
  refs: Record<string, Float32Array>[],
  memberIds: string[],
  config: EnsembleConfig,
): EnsembleState {
  const n = refs.length;
  if (memberIds.length !== n) throw new Error('fitEnsemble: memberIds and refs differ in length');
  if (n < MIN_ENSEMBLE_REFERENCES) {
    throw new InputError(
      'degenerate-data',
      `the baseline has ${n} reference models; at least ${MIN_ENSEMBLE_REFERENCES} are needed (add clean references)`,
    );
  }
  if (config.channels.length === 0) throw new InputError('bad-argument', 'ensemble config lists no channels');
  if (config.channels.every((c) => c.separate === true))
    throw new InputError('bad-argument', 'ensemble config lists only separate tests; add a combined channel');
  const folds = makeFolds(n, config.folds ?? DEFAULT_FOLDS);
  const channels: EnsembleChannel[] = [];
  const refP: Float64Array[] = [];
  const seen = new Set<string>();
  const blocks = new Map<string, Mat>(); // one stacked matrix per block, shared by its channels (and deduplicated when saved)
  const blockOf = (rep: string): Mat => {
    let X = blocks.get(rep);
    if (!X) {
      X = stackBlock(refs, memberIds, rep);
      blocks.set(rep, X);
    }
    return X;
  };
  for (const c of config.channels) {
    if (!isDetectorName(c.detector)) throw new InputError('bad-argument', `unknown detector "${c.detector}"`);
    const key = channelKey(c);
    if (seen.has(key)) throw new InputError('bad-argument', `channel ${key} is listed twice`);
    seen.add(key);
    const X = blockOf(c.representation);
    const params = c.params ?? {};
    const cross = crossFitScores(() => createDetector(c.detector, params), X, folds);
    const detector = createDetector(c.detector, params);
    detector.fit(X);
    channels.push({
      key,
      representation: c.representation,
      detectorName: c.detector,
      params,
      cols: X.cols,
      detector,
      calibration: fitCalibration(cross),
      separate: c.separate === true,
    });
    if (c.separate !== true) refP.push(leaveOneOutPValues(cross));
  }
  const T = new Float64Array(n);
  const ps = new Float64Array(refP.length);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < refP.length; c++) ps[c] = refP[c][i];
    T[i] = combine(ps, config);
  }
  return {
    version: 1,
    memberIds: [...memberIds],
    config,
    channels,
    combined: fitCalibration(T),
    nearestBlock: blockOf(config.channels[0].representation),
  };
}

export function scoreEnsemble(state: EnsembleState, blocks: Record<string, Float32Array>): EnsembleVerdict {
  const channels: Record<string, ChannelVerdict> = {};
  const separate: Record<string, number> = {};
  const separateTop: Record<string, { index: number; z: number }> = {};
  const ps: number[] = [];
  for (const c of state.channels) {
    const b = blocks[c.representation];
    if (!b) {
      throw new InputError(
        'baseline-mismatch',
        `the fingerprint has no "${c.representation}" block that the baseline needs; fingerprint with the baseline's settings`,
      );
    }
    if (b.length !== c.cols) {
      throw new InputError(
        'baseline-mismatch',
        `block "${c.representation}" has ${b.length} values but the baseline expects ${c.cols}; rebuild the baseline for this model`,
      );
    }
    const score = c.detector.score(mat(1, b.length, b))[0];
    const p = pValue(c.calibration, score);
    if (c.separate) {
      separate[c.key] = p;
      if (c.detector.topFeature) separateTop[c.key] = c.detector.topFeature(b);
    } else ps.push(p);
    channels[c.key] = { score, pValue: p, detector: c.detectorName, representation: c.representation };
  }
  const statistic = combine(ps, state.config);
  const p = pValue(state.combined, statistic);
  const risk = riskScore(p);
  const drivers = Object.entries(channels)
    .map(([channel, v]) => ({ channel, ...v }))
    .sort((a, b) => a.pValue - b.pValue || a.channel.localeCompare(b.channel));
  const nb = state.nearestBlock;
  const q = blocks[state.channels[0].representation];
  const D2 = sqDistances(mat(1, q.length, q), nb);
  const k = Math.min(state.config.nearest ?? DEFAULT_NEAREST, nb.rows);
  const nearest = Array.from(D2, (d2, j) => ({ member: state.memberIds[j], distance: Math.sqrt(d2) }))
    .sort((a, b) => a.distance - b.distance || a.member.localeCompare(b.member))
    .slice(0, k);
  return {
    pValue: p,
    riskScore: risk,
    riskLevel: levelOf(risk),
    separate,
    separateTop,
    statistic,
    channels,
    drivers,
    nearest,
    minRankPValue: rankFloor(state.combined),
  };
}

/** Block names whose single value is a reference-free self-check statistic (calibrated by identity). */
export function isSelfCheckBlock(name: string, size: number): boolean {
  return name.startsWith('self:') || size === 1;
}

/**
 * A default channel list for the blocks present: every self-check block through `identity`, every other
 * block through each of `detectors` (default kNN, LOF, OCSVM; only kNN and distance-to-mean with fewer
 * than 12 references). Neighbour counts are capped to what a cross-fitting fold can hold.
 */
export function defaultEnsembleConfig(
  blockSizes: Record<string, number>,
  nRefs: number,
  opts: { detectors?: DetectorName[]; folds?: number } = {},
): EnsembleConfig {
  const folds = opts.folds ?? DEFAULT_FOLDS;
  const foldTrain = nRefs - Math.ceil(nRefs / Math.max(2, Math.min(folds, nRefs)));
  const detectors: DetectorName[] =
    opts.detectors ?? (nRefs >= 12 ? ['knn', 'lof', 'ocsvm'] : ['knn', 'distance_to_clean_mean']);
  const channels: ChannelConfig[] = [];
  for (const [name, size] of Object.entries(blockSizes).sort(([a], [b]) => a.localeCompare(b))) {
    if (isSelfCheckBlock(name, size)) {
      channels.push({ representation: name, detector: 'identity' });
      continue;
    }
    for (const det of detectors) {
      if (det === 'identity') continue;
      const params: DetectorParams = {};
      if (det === 'lof') params.k = Math.max(1, Math.min(20, foldTrain - 1));
      if (det === 'knn') params.k = Math.max(1, Math.min(5, nRefs - 2));
      channels.push({ representation: name, detector: det, params });
    }
  }
  // put a multi-value block first so "nearest references" is computed on a real representation
  channels.sort((a, b) => Number(a.detector === 'identity') - Number(b.detector === 'identity'));
  return { channels, folds };
}

// ---------------------------------------------------------------------------------------------------
// Serialisation: a JSON document plus named typed arrays (the baseline store writes them as binary).

type ArrayDtype = 'f32' | 'f64' | 'i32';
interface ArrayRef {
  $array: string;
  dtype: ArrayDtype;
}
type Json = number | string | boolean | null | Json[] | { [key: string]: Json };

export interface SerializedEnsemble {
  json: unknown;
  arrays: Record<string, Float32Array | Float64Array>;
}

class ArrayPool {
  readonly arrays: Record<string, Float32Array | Float64Array> = {};
  private readonly ids = new Map<object, string>();

  put(a: Float32Array | Float64Array | Int32Array, hint: string): ArrayRef {
    const dtype: ArrayDtype = a instanceof Float32Array ? 'f32' : a instanceof Float64Array ? 'f64' : 'i32';
    let id = this.ids.get(a);
    if (!id) {
      id = `a${this.ids.size}_${hint.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
      this.ids.set(a, id);
      this.arrays[id] = a instanceof Int32Array ? Float64Array.from(a) : a;
    }
    return { $array: id, dtype };
  }
}

function encode(v: StateValue, pool: ArrayPool, hint: string): Json {
  if (v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array)
    return { ...pool.put(v, hint) };
  if (Array.isArray(v)) return v.map((x, i) => encode(x, pool, `${hint}.${i}`));
  if (v !== null && typeof v === 'object') {
    const o: { [key: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) o[k] = encode(x, pool, `${hint}.${k}`);
    return o;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) };
  return v;
}

function decode(v: unknown, arrays: Record<string, Float32Array | Float64Array>): StateValue {
  if (Array.isArray(v)) return v.map((x) => decode(x, arrays));
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.$array === 'string') {
      const a = arrays[o.$array];
      if (!a)
        throw new InputError(
          'baseline-invalid',
          `baseline array "${o.$array}" is missing; rebuild the baseline`,
        );
      if (o.dtype === 'i32') return Int32Array.from(a);
      if (o.dtype === 'f32') return a instanceof Float32Array ? a : Float32Array.from(a);
      return a instanceof Float64Array ? a : Float64Array.from(a);
    }
    if (typeof o.$number === 'string') return Number(o.$number);
    const out: { [key: string]: StateValue } = {};
    for (const [k, x] of Object.entries(o)) out[k] = decode(x, arrays);
    return out;
  }
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  throw new InputError('baseline-invalid', 'baseline JSON holds an unexpected value; rebuild the baseline');
}

function calToState(c: Calibration): StateValue {
  return { sorted: c.sorted, tailScale: c.tailScale };
}

function calFromState(v: StateValue): Calibration {
  const o = v as { sorted: Float64Array; tailScale: number };
  return { sorted: o.sorted, tailScale: o.tailScale };
}

export function serializeEnsemble(state: EnsembleState): SerializedEnsemble {
  const pool = new ArrayPool();
  const doc: StateValue = {
    version: state.version,
    memberIds: state.memberIds,
    config: state.config as unknown as StateValue,
    combined: calToState(state.combined),
    nearestBlock: {
      rows: state.nearestBlock.rows,
      cols: state.nearestBlock.cols,
      data: state.nearestBlock.data,
    },
    channels: state.channels.map((c) => ({
      key: c.key,
      representation: c.representation,
      detector: c.detectorName,
      params: c.params,
      cols: c.cols,
      state: c.detector.state() as unknown as StateValue,
      calibration: calToState(c.calibration),
    })),
  };
  return { json: encode(doc, pool, 'ensemble'), arrays: pool.arrays };
}

export function deserializeEnsemble(
  json: unknown,
  arrays: Record<string, Float32Array | Float64Array>,
): EnsembleState {
  const doc = decode(json, arrays) as { [key: string]: StateValue };
  if (doc.version !== 1) {
    throw new InputError(
      'baseline-invalid',
      `unsupported ensemble version ${String(doc.version)}; rebuild the baseline`,
    );
  }
  const nb = doc.nearestBlock as { rows: number; cols: number; data: Float32Array | Float64Array };
  const chans = doc.channels as { [key: string]: StateValue }[];
  return {
    version: 1,
    memberIds: doc.memberIds as string[],
    config: doc.config as unknown as EnsembleConfig,
    combined: calFromState(doc.combined),
    nearestBlock: mat(nb.rows, nb.cols, nb.data),
    channels: chans.map((c) => ({
      key: c.key as string,
      representation: c.representation as string,
      detectorName: c.detector as DetectorName,
      params: c.params as DetectorParams,
      cols: c.cols as number,
      detector: restoreDetector(c.state as unknown as DetectorState),
      calibration: calFromState(c.calibration),
      // from the saved config: baselines written before separate tests have none
      separate: (doc.config as unknown as EnsembleConfig).channels.some(
        (cc) => channelKey(cc) === c.key && cc.separate === true,
      ),
    })),
  };
}
