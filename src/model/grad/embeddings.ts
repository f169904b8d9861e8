/**
 * Token models: the tensors HotFlip-style attacks differentiate with respect to. For each Gather that looks
 * up rows of a constant table (an initializer) by a graph input of token ids, its output (the embedded
 * tokens) is a tensor a GradientSpec can name as { model: name } in `wrt`.
 */
import type { OnnxModel } from '../types.js';

export interface EmbeddingLookup {
  /** The Gather's output: what to differentiate with respect to. */
  output: string;
  /** The token-id input it reads. */
  input: string;
  /** The embedding table (initializer) and its [vocabulary, width]. */
  table: string;
  dims: number[];
}

export function embeddingOutputs(model: OnnxModel): EmbeddingLookup[] {
  const inputs = new Set(model.inputs.map((i) => i.name));
  const tables = new Map(model.initializers.map((t) => [t.name, t.dims]));
  const found: EmbeddingLookup[] = [];
  for (const n of model.proto.graph?.node ?? []) {
    const [table, ids] = n.input ?? [];
    if (n.opType !== 'Gather' || !inputs.has(ids) || !tables.has(table)) continue;
    const out = (n.output ?? [])[0];
    if (out) found.push({ output: out, input: ids, table, dims: tables.get(table) ?? [] });
  }
  return found;
}
