/**
 * Base inputs for the trigger check: the user's samples when there are enough, else the whole probe set,
 * float32 copies in probe order; models without a single float input are not probed.
 */
import { MIN_SAMPLE_BASE, triggerBaseInputs, triggerNullFor } from '../../src/selfcheck/base-inputs.js';
import { TRIGGER_SCORE_NULLS } from '../../src/selfcheck/reference-free-p.js';
import type { ProbeKind, ProbeSet } from '../../src/probes/types.js';

function probeSet(
  kinds: ProbeKind[],
  dtype: 'float32' | 'float64' | 'int64' = 'float32',
  inputs = 1,
): ProbeSet {
  const size = 4;
  const data =
    dtype === 'int64'
      ? new BigInt64Array(kinds.length * size)
      : new (dtype === 'float32' ? Float32Array : Float64Array)(kinds.length * size);
  if (!(data instanceof BigInt64Array)) for (let i = 0; i < data.length; i++) data[i] = i / 10;
  const input = { name: 'x', dtype, sampleShape: [1, 2, 2], batch: 'dynamic' as const, data };
  return {
    count: kinds.length,
    seed: 0,
    kinds: [...new Set(kinds)],
    probeKinds: kinds,
    range: [0, 1],
    inputs: Array.from({ length: inputs }, () => input),
    hash: 'h',
  };
}

describe('triggerBaseInputs', () => {
  it('takes only the sample probes when there are enough of them', () => {
    const kinds: ProbeKind[] = [
      ...new Array<ProbeKind>(MIN_SAMPLE_BASE).fill('samples'),
      'gaussian',
      'pattern',
    ];
    const b = triggerBaseInputs(probeSet(kinds.reverse()));
    expect(b?.kind).toBe('samples');
    expect(b?.count).toBe(MIN_SAMPLE_BASE);
    expect(b?.shape).toEqual([1, 2, 2]);
    // The first sample is probe 2 (after the reversed gaussian/pattern pair): values 0.8..1.1.
    expect(Array.from(b?.base.subarray(0, 4) ?? [])).toEqual([0.8, 0.9, 1, 1.1].map(Math.fround));
    expect(triggerNullFor('samples')).toBe(TRIGGER_SCORE_NULLS.samples);
  });

  it('falls back to the whole probe set with too few samples, from float64 data too', () => {
    const b = triggerBaseInputs(probeSet(['samples', 'gaussian', 'uniform'], 'float64'));
    expect(b?.kind).toBe('probes');
    expect(b?.count).toBe(3);
    expect(b?.base).toBeInstanceOf(Float32Array);
    expect(b?.base).toHaveLength(12);
    expect(triggerNullFor('probes')).toBe(TRIGGER_SCORE_NULLS.probes);
    // a mined base has its own null, fitted on the mined bases of the clean zoo models (narrower than the
    // plain probe set's, which keeps its own for the fallback)
    expect(triggerNullFor('mined')).toBe(TRIGGER_SCORE_NULLS.mined);
    expect(TRIGGER_SCORE_NULLS.mined.location).toBeLessThan(TRIGGER_SCORE_NULLS.probes.location);
  });

  it("prefers all of the user's samples the probe set carries over its sample probes", () => {
    const set = probeSet(new Array<ProbeKind>(MIN_SAMPLE_BASE).fill('samples'));
    const count = MIN_SAMPLE_BASE + 5;
    const data = Float32Array.from({ length: count * 4 }, (_, i) => i);
    const b = triggerBaseInputs({ ...set, triggerSamples: { data, count } });
    expect(b?.kind).toBe('samples');
    expect(b?.count).toBe(count);
    expect(b?.base).toBe(data);
    // too few of them: the sample probes as before
    const small = triggerBaseInputs({ ...set, triggerSamples: { data: data.subarray(0, 8), count: 2 } });
    expect(small?.count).toBe(MIN_SAMPLE_BASE);
  });

  it('does not apply to integer inputs or to models with several inputs', () => {
    expect(triggerBaseInputs(probeSet(['gaussian'], 'int64'))).toBeNull();
    expect(triggerBaseInputs(probeSet(['gaussian'], 'float32', 2))).toBeNull();
  });
});
