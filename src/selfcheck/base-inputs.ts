/**
 * Which inputs the trigger check stamps its triggers on, taken from the model's probe set: all the user's
 * samples the set carries (ProbeSet.triggerSamples, up to MAX_TRIGGER_SAMPLES), else its sample probes, when
 * there are enough of them (real in-distribution inputs: the check's power comes from
 * them), else the whole generated probe set, kind "probes" (the trigger check then mines its base from a
 * generated pool instead, see MINE_BASE_WITHOUT_SAMPLES; the p-value uses the "probes" null).
 * Trigger probing applies to classifiers with one float input; anything else gets null (not applicable).
 */
import type { ProbeSet } from '../probes/types.js';
import { TOKEN_TRIGGER_SCORE_NULLS, TRIGGER_SCORE_NULLS, type GumbelNull } from './reference-free-p.js';

/**
 * With no samples, mine the base per model (mine-base.ts: the most confidently classified inputs of a
 * generated pool, every class covered) instead of stamping triggers on the probe set itself. Measured on the
 * zoo (bench/results/selfcheck.md): reference-free AUROC over all attacks CNN 0.78 -> 0.88, MLP 0.66 -> 0.92.
 */
export const MINE_BASE_WITHOUT_SAMPLES = true;

/** Fewest sample inputs that make a "samples" base (fewer give too few inputs per trigger). */
export const MIN_SAMPLE_BASE = 16;

/** samples: the user's; probes: the generated probe set; mined: mined per model by the trigger check. */
export type TriggerBaseKind = 'samples' | 'probes' | 'mined';

export interface TriggerBase {
  /** count x prod(shape) float32 values. */
  base: Float32Array;
  count: number;
  /** One input's shape, without the batch axis. */
  shape: number[];
  kind: TriggerBaseKind;
  /** The graph input the base feeds. */
  inputName: string;
}

export function triggerBaseInputs(set: ProbeSet): TriggerBase | null {
  if (set.inputs.length !== 1) return null;
  const input = set.inputs[0];
  if (input.dtype !== 'float32' && input.dtype !== 'float64') return null;
  const size = input.sampleShape.reduce((a, b) => a * b, 1);
  if (size === 0) return null;
  // All of the user's samples (up to MAX_TRIGGER_SAMPLES), not only the few the probe set holds: the check's
  // noise falls with the number of real inputs each candidate trigger is stamped on.
  const all = set.triggerSamples;
  if (all && all.count >= MIN_SAMPLE_BASE && all.data.length === all.count * size) {
    return {
      base: all.data,
      count: all.count,
      shape: input.sampleShape.slice(),
      kind: 'samples',
      inputName: input.name,
    };
  }
  const data = input.data as Float32Array | Float64Array;
  const sampleRows: number[] = [];
  set.probeKinds.forEach((k, i) => {
    if (k === 'samples') sampleRows.push(i);
  });
  const useSamples = sampleRows.length >= MIN_SAMPLE_BASE;
  const rows = useSamples ? sampleRows : set.probeKinds.map((_, i) => i);
  const base = new Float32Array(rows.length * size);
  rows.forEach((r, i) => {
    for (let j = 0; j < size; j++) base[i * size + j] = data[r * size + j];
  });
  return {
    base,
    count: rows.length,
    shape: input.sampleShape.slice(),
    kind: useSamples ? 'samples' : 'probes',
    inputName: input.name,
  };
}

/** The trigger families with nulls of their own: stamped image triggers, inserted tokens (text models). */
export type TriggerFamily = 'image' | 'tokens';

/** The Gumbel null that matches a kind of base input (and the trigger family: images or text). */
export function triggerNullFor(kind: TriggerBaseKind, family: TriggerFamily = 'image'): GumbelNull {
  return (family === 'tokens' ? TOKEN_TRIGGER_SCORE_NULLS : TRIGGER_SCORE_NULLS)[kind];
}
