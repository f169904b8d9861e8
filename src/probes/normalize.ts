/**
 * Per-channel input normalisation (`--input-mean` / `--input-std`, ProbeSpec.normalize): for models exported
 * without their preprocessing, which expect `(x - mean[c]) / std[c]` of an image x in [0, 1] (torchvision's
 * Normalize). Probes, user samples, mined inputs and stamped triggers all stay in pixel space; the values are
 * normalised only where they become ONNX Runtime tensors (src/model/session.ts), so every pixel-space rule
 * (probe range, sample scaling, trigger patches) keeps its meaning.
 *
 * Layout (the rule src/probes/samples.ts uses for images): a rank-3 sample shape is CHW when its first dim
 * is 1 or 3, HWC when its last is, otherwise CHW (PyTorch's convention, the one Normalize is used with);
 * rank-2 and flat inputs have one channel. A single mean/std value applies to every channel.
 */
import { InputError } from '../errors.js';
import { MAX_NORMALIZE_CHANNELS } from '../limits.js';
import { imageLayout } from './samples.js';
import type { InputNormalization, NormalizeSpec } from './types.js';

/** How the flags are named in messages: CLI flags or action inputs. */
export interface NormalizeNames {
  mean: string;
  std: string;
}

export const CLI_NORMALIZE_NAMES: NormalizeNames = { mean: '--input-mean', std: '--input-std' };
const EXAMPLE = '0.485,0.456,0.406 and 0.229,0.224,0.225';

function bad(message: string): InputError {
  return new InputError('bad-argument', message);
}

/** Checks a normalisation spec (from flags, action inputs, the API or a baseline manifest); throws InputError. */
export function checkNormalizeSpec(
  spec: unknown,
  names: NormalizeNames = CLI_NORMALIZE_NAMES,
): asserts spec is NormalizeSpec {
  const s = spec as Partial<NormalizeSpec> | null;
  const isList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');
  if (!s || typeof s !== 'object' || !isList(s.mean) || !isList(s.std)) {
    throw bad(`${names.mean}/${names.std}: expected lists of numbers (mean and std), e.g. ${EXAMPLE}`);
  }
  const show = (v: number[]) => v.join(',');
  if (s.mean.length !== s.std.length) {
    throw bad(
      `${names.mean} has ${s.mean.length} value(s) but ${names.std} has ${s.std.length}: give one std per mean, e.g. ${EXAMPLE}`,
    );
  }
  if (s.mean.length < 1 || s.mean.length > MAX_NORMALIZE_CHANNELS) {
    throw bad(
      `${names.mean} has ${s.mean.length} values: give 1 (every channel) to ${MAX_NORMALIZE_CHANNELS} values, one per channel`,
    );
  }
  if (!s.mean.every(Number.isFinite)) {
    throw bad(`${names.mean} ${show(s.mean)}: every value must be a finite number, e.g. 0.485,0.456,0.406`);
  }
  if (!s.std.every(Number.isFinite)) {
    throw bad(`${names.std} ${show(s.std)}: every value must be a finite number, e.g. 0.229,0.224,0.225`);
  }
  if (!s.std.every((v) => v > 0)) {
    throw bad(`${names.std} ${show(s.std)}: every value must be greater than 0 (a standard deviation)`);
  }
}

/** Splits "a,b,c" (commas or newlines) into numbers; text that is not a number becomes NaN (refused later). */
function numbers(text: string): number[] {
  return text
    .split(/[,\n]/)
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t) => (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t) ? Number(t) : NaN));
}

/**
 * The spec from the two texts as typed (CLI flags or action inputs); undefined when neither is given. Both or
 * neither: a mean without a std (or the reverse) is a mistake, not a default.
 */
export function parseNormalize(
  meanText: string | undefined,
  stdText: string | undefined,
  names: NormalizeNames = CLI_NORMALIZE_NAMES,
): NormalizeSpec | undefined {
  const m = meanText?.trim() ?? '';
  const s = stdText?.trim() ?? '';
  if (m === '' && s === '') return undefined;
  if (m === '' || s === '') {
    const [given, missing] = m === '' ? [names.std, names.mean] : [names.mean, names.std];
    throw bad(`${given} given without ${missing}: give both, e.g. ${EXAMPLE}`);
  }
  const spec = { mean: numbers(m), std: numbers(s) };
  checkNormalizeSpec(spec, names);
  return spec;
}

/** Channel count and run length (elements of one channel before the next begins) of a per-probe shape. */
export function channelLayout(sampleShape: number[]): { channels: number; inner: number } {
  const layout = imageLayout(sampleShape);
  if (layout) return { channels: layout.channels, inner: layout.chw ? layout.height * layout.width : 1 };
  // No image fits: a rank-3 shape is read as CHW (PyTorch's convention, the one Normalize is used with);
  // anything else is one channel.
  if (sampleShape.length === 3) return { channels: sampleShape[0], inner: sampleShape[1] * sampleShape[2] };
  return { channels: 1, inner: sampleShape.reduce((a, b) => a * b, 1) };
}

/**
 * The normalisation of one input, resolved for its per-probe shape: `x * scale[c] + shift[c]` equals
 * `(x - mean[c]) / std[c]`. `inputShape` (the model's declared shape) is for the message only.
 */
export function resolveNormalization(
  spec: NormalizeSpec,
  input: { name: string; sampleShape: number[]; inputShape: (number | string | null)[] },
  file: string,
): InputNormalization {
  checkNormalizeSpec(spec);
  const per = input.sampleShape.reduce((a, b) => a * b, 1);
  let { channels, inner } = channelLayout(input.sampleShape);
  if (spec.mean.length === 1) {
    // One value for every channel: a single run over the whole probe.
    channels = 1;
    inner = Math.max(1, per);
  } else if (spec.mean.length !== channels) {
    const shape = input.inputShape.map((d) => (typeof d === 'number' ? d : (d ?? '?'))).join(',');
    throw new InputError(
      'bad-argument',
      `${file}: input "${input.name}" has shape [${shape}] (${channels} channel${channels === 1 ? '' : 's'}) but ${CLI_NORMALIZE_NAMES.mean}/${CLI_NORMALIZE_NAMES.std} give ${spec.mean.length} values; give 1 value or ${channels} (one per channel)`,
      file,
    );
  }
  const scale = spec.std.map((s) => 1 / s);
  const shift = spec.mean.map((m, c) => -m * scale[c]);
  return { channels, inner, scale, shift };
}

/** The one float input a normalisation applies to; InputError when the model has none or several. */
export function normalizedInputIndex(inputs: { name: string; dtype: string }[], file: string): number {
  const floats = inputs.flatMap((t, i) => (t.dtype === 'float32' || t.dtype === 'float64' ? [i] : []));
  if (floats.length === 1) return floats[0];
  const what =
    floats.length === 0
      ? 'has no float input'
      : `has ${floats.length} float inputs (${floats.map((i) => inputs[i].name).join(', ')})`;
  throw new InputError(
    'bad-argument',
    `${file}: ${CLI_NORMALIZE_NAMES.mean}/${CLI_NORMALIZE_NAMES.std} apply to one float image input, but the model ${what}; remove them for this model`,
    file,
  );
}

/**
 * Writes `n` normalised values of `src` from `from` into `out[0..n)`. `from` and `n` are whole probes, so
 * channel runs line up with probe boundaries. No allocation: one multiply-add per element.
 */
export function applyNormalization(
  src: Float32Array | Float64Array,
  from: number,
  out: Float32Array | Float64Array,
  n: number,
  norm: InputNormalization,
): void {
  const { channels, inner, scale, shift } = norm;
  let c = 0;
  for (let j = 0; j < n; j += inner) {
    const a = scale[c];
    const b = shift[c];
    const end = Math.min(n, j + inner);
    for (let i = j; i < end; i++) out[i] = src[from + i] * a + b;
    if (++c === channels) c = 0;
  }
}
