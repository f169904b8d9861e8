/**
 * Which fingerprint blocks and detectors the default ensemble uses. Raw hidden activations are left out:
 * hidden units of independently trained models are permuted, so they are not comparable across models
 * (bench/detect measures it). The class-aligned and permutation-invariant blocks, and the self-check
 * statistics, go in.
 */
import { defaultEnsembleConfig, type EnsembleConfig } from '../score/ensemble.js';

/** Block name prefixes the default ensemble reads. */
export const DEFAULT_BLOCK_PREFIXES = ['logits', 'softmax-stats', 'weights:final', 'gram:', 'trigger', 'self:'];

export function selectBlocks(names: string[], prefixes = DEFAULT_BLOCK_PREFIXES): string[] {
  return names.filter((n) => prefixes.some((p) => n === p || (p.endsWith(':') && n.startsWith(p))));
}

export function baselineEnsembleConfig(blocks: Record<string, Float32Array>, nRefs: number): EnsembleConfig {
  const chosen = selectBlocks(Object.keys(blocks));
  return defaultEnsembleConfig(Object.fromEntries(chosen.map((n) => [n, blocks[n].length])), nRefs);
}
