/**
 * The feature blocks the ensemble sees for one fingerprint. Layer-specific block names ("gram:<tensor>")
 * are renamed by the layer's position counted back from the output ("gram:L-1" is the last captured
 * layer), because independently exported models of one architecture may name their tensors differently;
 * reference-free self-check statistics become one-value blocks "self:<name>" so that a baseline
 * calibrates them against the clean references like every other signal.
 */
import type { Fingerprint } from '../fingerprint/types.js';

export function ensembleBlocks(fp: Fingerprint): Record<string, Float32Array> {
  const layers = fp.header.layers;
  const out: Record<string, Float32Array> = {};
  for (const [name, data] of Object.entries(fp.blocks)) {
    const colon = name.indexOf(':');
    if (colon > 0) {
      const kind = name.slice(0, colon);
      const layer = name.slice(colon + 1);
      const i = layers.indexOf(layer);
      if (i >= 0) {
        out[`${kind}:L${i - layers.length}`] = data;
        continue;
      }
    }
    out[name] = data;
  }
  for (const [name, check] of Object.entries(fp.selfChecks)) {
    out[`self:${name}`] = Float32Array.of(check.score);
  }
  return out;
}
