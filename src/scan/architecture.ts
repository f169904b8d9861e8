/**
 * An architecture id: a hash of the graph's structure (op types in topological order and the shapes of
 * the weights), not of names or values. Two exports of the same network from different training runs
 * share it; an MLP and a CNN with the same input and output shapes do not, so a baseline is never used
 * for a model whose fingerprints are not comparable with its members'.
 */
import type { OnnxModel } from '../model/types.js';
import { sha256Hex } from '../util/hash.js';

export function architectureOf(model: OnnxModel): string {
  const ops = model.layers.map((l) => l.op).join(',');
  const weights = model.initializers
    .map((i) => `${i.dtype}[${i.dims.join('x')}]`)
    .sort()
    .join(',');
  return `arch-${sha256Hex(`${ops}|${weights}`).slice(0, 16)}`;
}
