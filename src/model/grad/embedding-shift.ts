/**
 * Token models: a copy of the model whose embedded tokens can be moved off the vocabulary's rows. The
 * embedding Gather's output X is renamed X_raw and a float input S ([N, seq, width], the same shape) is
 * added to it, X = X_raw + S, so every consumer of X reads the shifted embedding. With S = 0 the model is
 * the original; with S[i, t] = sum_v p_v E[v] - E[ids[i, t]] position t holds a relaxed one-hot p times the
 * embedding matrix, which is what continuous trigger inversion optimises (src/selfcheck/token-invert.ts).
 * The gradient with respect to S is the gradient with respect to the embedded tokens.
 *
 * Nothing from the file is executed: the graph is edited as a protobuf and re-parsed by the reader's checks.
 */
import onnxProto from 'onnx-proto';
import { elemTypeCode } from '../dtypes.js';
import { parseModel } from '../read.js';
import { inlineExternalData } from '../session.js';
import type { OnnxModel } from '../types.js';
import type { EmbeddingLookup } from './embeddings.js';
import { GradientSpecError } from './types.js';

const { onnx } = onnxProto;

export interface ShiftedModel {
  model: OnnxModel;
  /** The added float input's name. */
  shift: string;
}

/** A name no tensor, node or input of the graph uses, starting with `base`. */
function freshName(taken: Set<string>, base: string): string {
  for (let k = 0; ; k++) {
    const n = k === 0 ? base : `${base}_${k}`;
    if (!taken.has(n)) return n;
  }
}

/**
 * The model with a shift input added to `lookup`'s embedded tokens. `seq` and `width` fix the shift's shape
 * ([batch, seq, width]; the batch is symbolic).
 */
export function withEmbeddingShift(
  model: OnnxModel,
  lookup: EmbeddingLookup,
  seq: number,
  width: number,
  batch: number | string | null = 'N',
): ShiftedModel {
  const proto = onnx.ModelProto.decode(inlineExternalData(model));
  const graph = proto.graph;
  if (!graph) throw new GradientSpecError(`${model.path}: no graph`);
  const nodes = graph.node ?? [];
  const taken = new Set<string>();
  for (const n of nodes)
    for (const t of [n.name ?? '', ...(n.input ?? []), ...(n.output ?? [])]) taken.add(t);
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])])
    taken.add(v.name ?? '');
  for (const t of graph.initializer ?? []) taken.add(t.name ?? '');
  const gather = nodes.find((n) => n.opType === 'Gather' && (n.output ?? [])[0] === lookup.output);
  if (!gather) throw new GradientSpecError(`${model.path}: no Gather writes "${lookup.output}"`);
  if ((graph.output ?? []).some((o) => o.name === lookup.output))
    throw new GradientSpecError(`${model.path}: the embedded tokens "${lookup.output}" are a graph output`);
  const raw = freshName(taken, `${lookup.output}/unshifted`);
  taken.add(raw);
  const shift = freshName(taken, 'token_inversion/shift');
  taken.add(shift);
  (gather.output as string[])[0] = raw;
  const add = onnx.NodeProto.create({
    opType: 'Add',
    name: freshName(taken, 'token_inversion/Add'),
    input: [raw, shift],
    output: [lookup.output],
  });
  nodes.splice(nodes.indexOf(gather) + 1, 0, add);
  graph.node = nodes;
  // declared value_info of the embedded tokens still names the Add's output: keep it, it is the same shape
  graph.input = [
    ...(graph.input ?? []),
    onnx.ValueInfoProto.create({
      name: shift,
      type: {
        tensorType: {
          elemType: elemTypeCode('float32'),
          shape: {
            dim: [
              typeof batch === 'number' ? { dimValue: batch } : { dimParam: batch ?? 'N' },
              { dimValue: seq },
              { dimValue: width },
            ],
          },
        },
      },
    }),
  ];
  const bytes = onnx.ModelProto.encode(proto).finish();
  return { model: parseModel(bytes, model.path), shift };
}
