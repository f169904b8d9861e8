/**
 * The probe-set hash: sha256 over a canonical JSON of everything that determines the probe values (generator
 * version, seed, count, kinds, per-input dtype/shape/batching, range, vocabulary, user-sample digest, input
 * normalisation when given).
 * Fingerprints compare only when their probe hashes match, so a generator change must bump the version.
 */
import { createHash } from 'node:crypto';

/** Bump whenever generate.ts would produce different values for the same spec. */
export const PROBE_GENERATOR_VERSION = 1;

export interface ProbeHashInput {
  seed: number;
  count: number;
  kinds: string[];
  range: [number, number];
  inputs: { name: string; dtype: string; sampleShape: number[]; batch: string; vocab?: number }[];
  /** sha256 of the user sample files used, if any. */
  samplesDigest?: string;
  /**
   * Input normalisation, only when given: absent, canonicalJson drops the key, so probe sets without it
   * keep the hashes (and baselines) they had before the option existed.
   */
  normalize?: { mean: number[]; std: number[] };
}

/** JSON with object keys sorted at every level, so the hash does not depend on property order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function probeSetHash(desc: ProbeHashInput): string {
  return createHash('sha256')
    .update(canonicalJson({ generator: PROBE_GENERATOR_VERSION, ...desc }))
    .digest('hex');
}
