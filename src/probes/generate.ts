/**
 * Builds the seeded probe set for a model's inputs. The same spec and input signature give byte-identical
 * probes on every machine (own PRNG, see rng.ts), and the probe-set hash (hash.ts) names them.
 *
 * Shapes: a rank >= 2 input's first dim is the batch axis (symbolic: any batch; numeric: a fixed batch that
 * runs are padded to); other symbolic dims need a size from `spec.dims`, else InputError('symbolic-dim').
 *
 * Kinds (per probe, one shared stream, probes in kind-block order):
 *   gaussian  N(mid, width/4) clipped to the range
 *   uniform   U(range)
 *   edge      cycles: zeros, ones, mid-grey, horizontal gradient, vertical gradient, high (hi + 3*width),
 *             low (lo - 3*width)
 *   pattern   cycles: checkerboard, horizontal stripes, vertical stripes, Gaussian blobs (random sizes/phases)
 *   samples   the user's sample files in order (samples.ts), repeated if fewer than the probes
 * 'mixed' (the default) = MIXED_WEIGHTS: 3/8 gaussian, 1/4 uniform, 1/8 edge, 1/4 pattern; with a samples
 * folder, MIXED_WITH_SAMPLES: 1/2 samples, 3/16 gaussian, 1/8 uniform, 1/16 edge, 1/8 pattern. Counts per kind
 * by largest remainder.
 * Integer inputs (int32/int64) are token ids in [0, vocab); uint8/int8 inputs use their full value range.
 * `spec.normalize` (normalize.ts) is resolved onto the one float input as ProbeInput.normalize: the probe
 * values stay in the probe range and ORT sessions normalise them when they build tensors.
 */
import { InputError } from '../errors.js';
import {
  DEFAULT_PROBE_COUNT,
  MAX_PROBE_ELEMENTS,
  MAX_PROBE_SET_BYTES,
  MAX_TRIGGER_SAMPLES,
} from '../limits.js';
import { bytesPerElement } from '../model/dtypes.js';
import type { ElementType, TensorInfo } from '../model/types.js';
import { probeSetHash } from './hash.js';
import { Rng } from './rng.js';
import { normalizedInputIndex, resolveNormalization } from './normalize.js';
import { loadSamples } from './samples.js';
import { loadTokenSamples } from './text-samples.js';
import { readVocabularyCached } from './vocab.js';
import type { InputNormalization, ProbeData, ProbeInput, ProbeKind, ProbeSet, ProbeSpec } from './types.js';

export const MIXED_WEIGHTS: [ProbeKind, number][] = [
  ['gaussian', 3 / 8],
  ['uniform', 1 / 4],
  ['edge', 1 / 8],
  ['pattern', 1 / 4],
];
export const MIXED_WITH_SAMPLES: [ProbeKind, number][] = [
  ['samples', 1 / 2],
  ['gaussian', 3 / 16],
  ['uniform', 1 / 8],
  ['edge', 1 / 16],
  ['pattern', 1 / 8],
];
/** Most probes in one set. */
export const MAX_PROBE_COUNT = 4096;

const PROBE_KINDS: ProbeKind[] = ['gaussian', 'uniform', 'edge', 'pattern', 'samples'];
const SUPPORTED: ElementType[] = ['float32', 'float64', 'int64', 'int32', 'uint8', 'int8', 'bool'];

/** Counts per kind (largest remainder), in the weights' order. */
export function allocateKinds(weights: [ProbeKind, number][], count: number): ProbeKind[] {
  const total = weights.reduce((s, [, w]) => s + w, 0);
  const exact = weights.map(([, w]) => (w / total) * count);
  const n = exact.map(Math.floor);
  let left = count - n.reduce((a, b) => a + b, 0);
  const order = exact
    .map((e, i) => [e - Math.floor(e), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    n[i]++;
  }
  return weights.flatMap(([k], i) => new Array<ProbeKind>(n[i]).fill(k));
}

interface ResolvedShape {
  sampleShape: number[];
  batch: ProbeInput['batch'];
  fixedBatch?: number;
}

/** The per-probe shape and batching of a model input (symbolic dims resolved from spec.dims). */
export function resolveInputShape(
  t: TensorInfo,
  dims: Record<string, number> = {},
  file = 'model',
): ResolvedShape {
  const shape = t.shape;
  const sizeOf = (d: string | number | null, axis: number): number => {
    if (typeof d === 'number') return d;
    const v = (typeof d === 'string' ? dims[d] : undefined) ?? dims[`${t.name}.${axis}`];
    if (v === undefined || !Number.isSafeInteger(v) || v < 1) {
      const label = typeof d === 'string' ? `"${d}"` : `${t.name}.${axis}`;
      throw new InputError(
        'symbolic-dim',
        `${file}: input "${t.name}" has a symbolic dimension ${label} (axis ${axis}) with no size; give one, e.g. --probe-dims ${typeof d === 'string' ? d : `${t.name}.${axis}`}=128`,
        file,
      );
    }
    return v;
  };
  if (shape.length === 0) return { sampleShape: [], batch: 'none' };
  if (shape.length === 1) {
    return typeof shape[0] === 'number'
      ? { sampleShape: [shape[0]], batch: 'none' }
      : { sampleShape: [], batch: 'dynamic' };
  }
  const sampleShape = shape.slice(1).map((d, i) => sizeOf(d, i + 1));
  if (typeof shape[0] === 'number') return { sampleShape, batch: 'fixed', fixedBatch: shape[0] };
  return { sampleShape, batch: 'dynamic' };
}

function fillFloat(
  out: Float32Array,
  kind: ProbeKind,
  variant: number,
  shape: number[],
  range: [number, number],
  rng: Rng,
  sample?: Float32Array,
): void {
  const [lo, hi] = range;
  const w = hi - lo;
  const mid = (lo + hi) / 2;
  const n = out.length;
  const H = shape.length >= 2 ? shape[shape.length - 2] : 1;
  const W = shape.length >= 1 ? shape[shape.length - 1] : 1;
  const plane = Math.max(1, H * W);
  const channels = Math.max(1, Math.floor(n / plane));
  switch (kind) {
    case 'gaussian':
      for (let i = 0; i < n; i++) out[i] = Math.min(hi, Math.max(lo, rng.normal(mid, w / 4)));
      return;
    case 'uniform':
      for (let i = 0; i < n; i++) out[i] = rng.uniform(lo, hi);
      return;
    case 'samples':
      out.set(sample as Float32Array);
      return;
    case 'edge': {
      const v = variant % 7;
      for (let i = 0; i < n; i++) {
        const r = Math.floor((i % plane) / W);
        const c = i % W;
        out[i] =
          v === 0
            ? 0
            : v === 1
              ? 1
              : v === 2
                ? mid
                : v === 3
                  ? lo + (w * c) / Math.max(1, W - 1)
                  : v === 4
                    ? lo + (w * r) / Math.max(1, H - 1)
                    : v === 5
                      ? hi + 3 * w
                      : lo - 3 * w;
      }
      return;
    }
    case 'pattern': {
      const v = variant % 4;
      const cell = 1 + rng.int(4);
      const period = 2 + rng.int(7);
      const phase = rng.int(period);
      const blobs = Array.from({ length: 1 + rng.int(3) }, () => ({
        r: rng.uniform(0, H),
        c: rng.uniform(0, W),
        s: rng.uniform(1, Math.max(1.5, Math.max(H, W) / 4)),
      }));
      const gains = Array.from({ length: channels }, () => rng.uniform(0.7, 1));
      for (let i = 0; i < n; i++) {
        const ch = Math.min(channels - 1, Math.floor(i / plane));
        const r = Math.floor((i % plane) / W);
        const c = i % W;
        let p: number;
        if (v === 0) p = (Math.floor(r / cell) + Math.floor(c / cell)) % 2;
        else if (v === 1) p = (r + phase) % period < period / 2 ? 1 : 0;
        else if (v === 2) p = (c + phase) % period < period / 2 ? 1 : 0;
        else
          p = Math.min(
            1,
            blobs.reduce((s, b) => s + Math.exp(-((r - b.r) ** 2 + (c - b.c) ** 2) / (2 * b.s * b.s)), 0),
          );
        out[i] = lo + w * p * gains[ch];
      }
      return;
    }
  }
}

function fillTokens(
  out: BigInt64Array | Int32Array,
  kind: ProbeKind,
  variant: number,
  vocab: number,
  rng: Rng,
): void {
  const n = out.length;
  const set = (i: number, v: number) => {
    if (out instanceof BigInt64Array) out[i] = BigInt(v);
    else out[i] = v;
  };
  if (kind === 'edge') {
    const v = variant % 4;
    const tok = rng.int(vocab);
    for (let i = 0; i < n; i++) set(i, v === 0 ? 0 : v === 1 ? vocab - 1 : v === 2 ? tok : i % vocab);
  } else if (kind === 'pattern') {
    const motif = Array.from({ length: 2 + rng.int(3) }, () => rng.int(vocab));
    for (let i = 0; i < n; i++) set(i, motif[i % motif.length]);
  } else {
    for (let i = 0; i < n; i++) set(i, rng.int(vocab));
  }
}

function allocate(dtype: ElementType, n: number): ProbeData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int8':
      return new Int8Array(n);
    default:
      return new Uint8Array(n); // uint8, bool
  }
}

export interface GenerateContext {
  /** The model file (for messages). */
  file?: string;
  /** Vocabulary size per integer input (e.g. inferred from an embedding table). */
  vocabByInput?: Record<string, number>;
}

/**
 * The last generated-only probe set, by what determines it: a baseline build or a scan of many models of
 * one architecture asks for the same set for every model (~10 ms for 64 CIFAR-size probes: normals and
 * the sha256). Never for sample folders (their files may change between calls). Callers get a copy.
 */
let lastProbes: { key: string; set: ProbeSet } | null = null;

function copyOf(set: ProbeSet): ProbeSet {
  return {
    ...set,
    kinds: [...set.kinds],
    probeKinds: [...set.probeKinds],
    range: [set.range[0], set.range[1]],
    inputs: set.inputs.map((i) => ({ ...i, sampleShape: [...i.sampleShape], data: i.data.slice() })),
  };
}

/** Generates the probe set for `inputs` (graph inputs that are not initializers). */
export function generateProbes(
  inputs: TensorInfo[],
  spec: ProbeSpec = {},
  ctx: GenerateContext = {},
): ProbeSet {
  const generatedOnly = !spec.samplesDir && !(Array.isArray(spec.kinds) && spec.kinds.includes('samples'));
  if (!generatedOnly) return generateProbesNow(inputs, spec, ctx);
  const key = JSON.stringify([inputs.map((i) => [i.name, i.dtype, i.shape]), spec, ctx.vocabByInput ?? {}]);
  if (lastProbes?.key !== key) lastProbes = { key, set: generateProbesNow(inputs, spec, ctx) };
  return copyOf(lastProbes.set);
}

function generateProbesNow(inputs: TensorInfo[], spec: ProbeSpec, ctx: GenerateContext): ProbeSet {
  const file = ctx.file ?? 'model';
  const count = spec.count ?? DEFAULT_PROBE_COUNT;
  const seed = spec.seed ?? 0;
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_PROBE_COUNT) {
    throw new InputError('bad-argument', `probe count must be 1..${MAX_PROBE_COUNT}, got ${count}`);
  }
  if (!Number.isSafeInteger(seed))
    throw new InputError('bad-argument', `probe seed must be an integer, got ${seed}`);
  const range: [number, number] = spec.range ?? [0, 1];
  if (!(range[0] < range[1]) || !range.every(Number.isFinite)) {
    throw new InputError(
      'bad-argument',
      `probe range must be [lo, hi] with lo < hi, got [${range.join(', ')}]`,
    );
  }
  const mixed = spec.kinds === undefined || spec.kinds === 'mixed';
  let kindsSpec: [ProbeKind, number][];
  if (mixed) kindsSpec = spec.samplesDir ? MIXED_WITH_SAMPLES : MIXED_WEIGHTS;
  else {
    const ks = spec.kinds as ProbeKind[];
    if (ks.length === 0 || ks.some((k) => !PROBE_KINDS.includes(k))) {
      throw new InputError(
        'bad-argument',
        `probe kinds must be among ${PROBE_KINDS.join(', ')} (got ${ks.join(', ')})`,
      );
    }
    if (ks.includes('samples') && !spec.samplesDir) {
      throw new InputError('bad-argument', `probe kind "samples" needs a samples folder`);
    }
    kindsSpec = [...new Set(ks)].map((k) => [k, 1]);
  }
  const probeKinds = allocateKinds(kindsSpec, count);

  const resolved = inputs.map((t) => {
    if (!SUPPORTED.includes(t.dtype)) {
      throw new InputError(
        'unsupported-input',
        `${file}: input "${t.name}" has element type ${t.dtype}; probes support ${SUPPORTED.join(', ')}`,
        file,
      );
    }
    const r = resolveInputShape(t, spec.dims, file);
    const per = r.sampleShape.reduce((a, b) => a * b, 1);
    if (per > MAX_PROBE_ELEMENTS) {
      throw new InputError(
        'too-large',
        `${file}: input "${t.name}" needs ${per} elements per probe (limit ${MAX_PROBE_ELEMENTS})`,
        file,
      );
    }
    let vocab: number | undefined;
    if (t.dtype === 'int64' || t.dtype === 'int32') {
      vocab = spec.vocab ?? ctx.vocabByInput?.[t.name];
      if (!vocab || !Number.isSafeInteger(vocab) || vocab < 1) {
        throw new InputError(
          'unsupported-input',
          `${file}: integer input "${t.name}" needs a vocabulary size for token-id probes; give one with --vocab N`,
          file,
        );
      }
    }
    return { t, ...r, per, vocab };
  });

  // Normalisation: resolved for the one float input before any probe memory is allocated.
  let normalized: { index: number; norm: InputNormalization } | undefined;
  if (spec.normalize !== undefined) {
    const index = normalizedInputIndex(
      resolved.map((r) => r.t),
      file,
    );
    const r = resolved[index];
    normalized = {
      index,
      norm: resolveNormalization(
        spec.normalize,
        { name: r.t.name, sampleShape: r.sampleShape, inputShape: r.t.shape },
        file,
      ),
    };
  }

  // User samples, one folder for the first float-valued input, else for the first token-id input (texts:
  // text-samples.ts).
  let samples: Float32Array[] | undefined;
  let tokenRows: Int32Array[] | undefined;
  let samplesDigest: string | undefined;
  const floatTarget = resolved.findIndex((r) => ['float32', 'float64', 'uint8'].includes(r.t.dtype));
  const sampleTarget =
    floatTarget >= 0 ? floatTarget : resolved.findIndex((r) => r.vocab !== undefined && r.per > 0);
  if (probeKinds.includes('samples')) {
    const target = resolved[sampleTarget];
    if (!target)
      throw new InputError(
        'unsupported-input',
        `${file}: probe samples need a float, uint8 or token-id input`,
        file,
      );
    if (target.vocab !== undefined) {
      const vocabulary = spec.vocabFile ? readVocabularyCached(spec.vocabFile) : undefined;
      const loaded = loadTokenSamples(spec.samplesDir as string, target.per, target.vocab, vocabulary);
      tokenRows = loaded.rows;
      samplesDigest = loaded.digest;
    } else {
      const rr: [number, number] = target.t.dtype === 'uint8' ? [0, 255] : range;
      const loaded = loadSamples(spec.samplesDir as string, target.sampleShape, rr);
      samples = loaded.samples;
      samplesDigest = loaded.digest;
    }
  }

  // Memory: every probe is held at once, so the whole set must fit the budget before anything is allocated.
  const setBytes = resolved.reduce((s, r) => s + r.per * count * bytesPerElement(r.t.dtype), 0);
  if (setBytes > MAX_PROBE_SET_BYTES) {
    throw new InputError(
      'too-large',
      `${file}: ${count} probes of its inputs need ${setBytes} bytes, over the ${MAX_PROBE_SET_BYTES}-byte probe memory budget; use fewer probes or a model with smaller inputs`,
      file,
    );
  }
  const rng = new Rng(seed);
  const datas = resolved.map((r) => allocate(r.t.dtype, r.per * count));
  const variantCounter = new Map<ProbeKind, number>();
  const scratch = resolved.map((r) => new Float32Array(r.per));
  for (let p = 0; p < count; p++) {
    const kind = probeKinds[p];
    const variant = variantCounter.get(kind) ?? 0;
    variantCounter.set(kind, variant + 1);
    resolved.forEach((r, j) => {
      const data = datas[j];
      if (r.t.dtype === 'int64' || r.t.dtype === 'int32') {
        if (kind === 'samples' && tokenRows && j === sampleTarget) {
          const row = tokenRows[variant % tokenRows.length];
          const dst = (data as BigInt64Array | Int32Array).subarray(p * r.per, (p + 1) * r.per);
          for (let i = 0; i < r.per; i++) {
            if (dst instanceof BigInt64Array) dst[i] = BigInt(row[i]);
            else dst[i] = row[i];
          }
          return;
        }
        fillTokens(
          (data as BigInt64Array | Int32Array).subarray(p * r.per, (p + 1) * r.per),
          kind === 'samples' ? 'uniform' : kind,
          variant,
          r.vocab as number,
          rng,
        );
        return;
      }
      if (r.t.dtype === 'bool') {
        const bools = data as Uint8Array;
        for (let i = 0; i < r.per; i++) bools[p * r.per + i] = rng.int(2);
        return;
      }
      const s = scratch[j];
      const isByte = r.t.dtype === 'uint8' || r.t.dtype === 'int8';
      const rr: [number, number] =
        r.t.dtype === 'uint8' ? [0, 255] : r.t.dtype === 'int8' ? [-128, 127] : range;
      const useSample = kind === 'samples' && samples !== undefined && j === sampleTarget;
      fillFloat(
        s,
        useSample ? 'samples' : kind === 'samples' ? 'uniform' : kind,
        variant,
        r.sampleShape,
        rr,
        rng,
        useSample ? (samples as Float32Array[])[variant % (samples as Float32Array[]).length] : undefined,
      );
      if (isByte) {
        const bytes = data as Uint8Array | Int8Array;
        for (let i = 0; i < r.per; i++)
          bytes[p * r.per + i] = Math.round(Math.min(rr[1], Math.max(rr[0], s[i])));
      } else {
        (data as Float32Array | Float64Array).set(s, p * r.per);
      }
    });
  }

  const probeInputs: ProbeInput[] = resolved.map((r, j) => ({
    name: r.t.name,
    dtype: r.t.dtype,
    sampleShape: r.sampleShape,
    batch: r.batch,
    ...(r.fixedBatch !== undefined ? { fixedBatch: r.fixedBatch } : {}),
    data: datas[j],
    ...(normalized?.index === j ? { normalize: normalized.norm } : {}),
  }));
  const kinds = [...new Set(probeKinds)];
  const hash = probeSetHash({
    seed,
    count,
    kinds: mixed ? ['mixed', ...kinds] : kinds,
    range,
    inputs: resolved.map((r) => ({
      name: r.t.name,
      dtype: r.t.dtype,
      sampleShape: r.sampleShape,
      batch: r.batch,
      vocab: r.vocab,
    })),
    samplesDigest,
    normalize: spec.normalize ? { mean: [...spec.normalize.mean], std: [...spec.normalize.std] } : undefined,
  });
  const triggerSamples =
    samples && ['float32', 'float64'].includes(resolved[sampleTarget].t.dtype)
      ? pickTriggerSamples(samples, resolved[sampleTarget].per)
      : undefined;
  const triggerTokens = tokenRows ? pickTriggerTokens(tokenRows, resolved[sampleTarget].per) : undefined;
  return {
    count,
    seed,
    kinds,
    probeKinds,
    range,
    inputs: probeInputs,
    hash,
    ...(triggerSamples ? { triggerSamples } : {}),
    ...(triggerTokens ? { triggerTokens } : {}),
  };
}

/** The token trigger search's texts: like pickTriggerSamples, up to MAX_TRIGGER_SAMPLES evenly spaced. */
function pickTriggerTokens(rows: Int32Array[], per: number): { data: Int32Array; count: number } {
  const count = Math.min(rows.length, MAX_TRIGGER_SAMPLES);
  const data = new Int32Array(count * per);
  for (let k = 0; k < count; k++) data.set(rows[Math.floor((k * rows.length) / count)], k * per);
  return { data, count };
}

/**
 * The trigger-probing base: every sample when there are at most MAX_TRIGGER_SAMPLES (and they fit the probe
 * memory budget), else that many evenly spaced through the folder's sorted order (sorted names often group
 * by class; even spacing keeps the classes mixed).
 */
function pickTriggerSamples(samples: Float32Array[], per: number): { data: Float32Array; count: number } {
  const fit = Math.max(1, Math.floor(MAX_PROBE_SET_BYTES / (4 * per)));
  const count = Math.min(samples.length, MAX_TRIGGER_SAMPLES, fit);
  const data = new Float32Array(count * per);
  for (let k = 0; k < count; k++) data.set(samples[Math.floor((k * samples.length) / count)], k * per);
  return { data, count };
}
