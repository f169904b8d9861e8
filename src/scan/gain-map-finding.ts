/**
 * What a text model's token gain-map test found, in the report's trigger terms: the word and class whose
 * margin gain stood out against the references (the max_z feature of the "trigger-gain-map" separate test,
 * src/baseline/config.ts), with the flip share the token map measured for the same word and class.
 */
import type { EnsembleVerdict } from '../score/ensemble.js';
import type { MapFinding } from './explain.js';
import type { Fingerprint } from '../fingerprint/types.js';
import { TOKEN_GAIN_MAP_BLOCK, TRIGGER_MAP_BLOCK } from '../baseline/config.js';

/** The token map's finding shape (explain.ts shows either alike), with the gain that decided. */
export interface GainMapFinding extends MapFinding {
  token: number;
  /** The word's margin gain into the class, in clean-logit spreads. */
  gain: number;
  /** The token map's flip share for the same word and class (0 when the fingerprint has no token map). */
  flipRate: number;
}

/** The gain map's top feature as (word, class), when the ensemble reports it and the block fits the classes. */
export function gainMapFinding(v: EnsembleVerdict, fp: Fingerprint): GainMapFinding | undefined {
  const top = Object.entries(v.separateTop).find(([k]) => k.endsWith(`@${TOKEN_GAIN_MAP_BLOCK}`))?.[1];
  const block = fp.blocks[TOKEN_GAIN_MAP_BLOCK];
  const k = fp.header.model.classes;
  if (!top || !block || k <= 0 || block.length % k !== 0 || top.index >= block.length) return undefined;
  const flips = fp.blocks[TRIGGER_MAP_BLOCK];
  return {
    cls: top.index % k,
    location: 'inserted anywhere',
    token: Math.floor(top.index / k),
    gain: block[top.index],
    flipRate: flips && flips.length === block.length ? flips[top.index] : 0,
    zScore: top.z,
  };
}
