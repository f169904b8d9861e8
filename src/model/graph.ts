/**
 * Graph-level views of a parsed ONNX model: the layers (every node output, topologically ordered, cycles
 * refused), the operator-domain check done before ONNX Runtime ever sees the model, and `exposeOutputs`,
 * which turns chosen intermediate tensors into extra graph outputs by appending a tiny encoded ModelProto to
 * the original bytes. Protobuf merge semantics (a message field seen twice is merged, repeated fields
 * concatenate) make ORT read the original graph plus the new outputs, with every byte of the original,
 * unknown fields included, left exactly as it was.
 */
import onnxProto from 'onnx-proto';
import type { onnx as pb } from 'onnx-proto';
import { InputError } from '../errors.js';
import { elemTypeCode, elementTypeOf } from './dtypes.js';
import type { ElementType, LayerInfo, OnnxModel } from './types.js';

const { onnx } = onnxProto;

/** Operator domains ONNX Runtime's CPU build implements. Anything else needs a custom-op library. */
export const KNOWN_OP_DOMAINS = new Set(['', 'ai.onnx', 'ai.onnx.ml', 'com.microsoft']);

/**
 * Every node output in topological order (Kahn's algorithm, ties broken by file order so the result is
 * stable). A cycle or a node reading a tensor nothing defines is an InputError('invalid-graph').
 */
export function topologicalLayers(graph: pb.IGraphProto, file: string): LayerInfo[] {
  const nodes = graph.node ?? [];
  const layers: LayerInfo[] = [];
  for (const i of topologicalNodeOrder(graph, file)) {
    const n = nodes[i];
    for (const o of n.output ?? []) {
      if (o) layers.push({ name: o, op: n.opType ?? '', node: n.name ?? '', shape: null });
    }
  }
  return layers;
}

/**
 * The graph's node indices in topological order (Kahn's algorithm, ties broken by file order). A cycle or a
 * node reading a tensor nothing defines is an InputError('invalid-graph').
 */
export function topologicalNodeOrder(graph: pb.IGraphProto, file: string): number[] {
  const nodes = graph.node ?? [];
  const defined = new Set<string>(['']);
  for (const t of graph.input ?? []) if (t.name) defined.add(t.name);
  for (const t of graph.initializer ?? []) if (t.name) defined.add(t.name);
  for (const t of graph.sparseInitializer ?? []) if (t.values?.name) defined.add(t.values.name);

  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) if (o) producer.set(o, i);
  });

  const indegree = new Array<number>(nodes.length).fill(0);
  const consumers: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    const deps = new Set<number>();
    for (const inp of n.input ?? []) {
      const p = producer.get(inp);
      if (p !== undefined && !defined.has(inp)) deps.add(p);
      else if (p === undefined && !defined.has(inp)) {
        throw new InputError(
          'invalid-graph',
          `${file}: node "${n.name || n.opType}" reads tensor "${inp}" that no input, initializer or node defines; re-export the model`,
          file,
        );
      }
    }
    for (const d of deps) consumers[d].push(i);
    indegree[i] = deps.size;
  });

  // Ready nodes come out in file order (a binary min-heap on the node index), so the order is stable.
  const heap: number[] = [];
  const push = (x: number) => {
    heap.push(x);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (heap[parent] <= heap[i]) break;
      [heap[parent], heap[i]] = [heap[i], heap[parent]];
      i = parent;
    }
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap.pop() as number;
    if (heap.length) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && heap[l] < heap[m]) m = l;
        if (r < heap.length && heap[r] < heap[m]) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i], heap[m]];
        i = m;
      }
    }
    return top;
  };
  indegree.forEach((d, i) => d === 0 && push(i));
  const order: number[] = [];
  while (heap.length) {
    const i = pop();
    order.push(i);
    for (const c of consumers[i]) if (--indegree[c] === 0) push(c);
  }
  if (order.length < nodes.length) {
    const stuck = nodes.find((_, i) => indegree[i] > 0);
    throw new InputError(
      'invalid-graph',
      `${file}: the graph has a cycle (node "${stuck?.name || stuck?.opType}" depends on its own output); an ONNX graph must be acyclic, re-export the model`,
      file,
    );
  }
  return order;
}

/** Refuses nodes in operator domains ORT cannot run without a custom-op library (never loaded here). */
export function checkOperatorDomains(proto: pb.IModelProto, file: string): void {
  const localFunctions = new Set((proto.functions ?? []).map((f) => `${f.domain ?? ''}::${f.name ?? ''}`));
  // The bodies of the model's local functions too: a local function may wrap a custom-domain operator.
  const bodies: [pb.INodeProto[], string][] = [
    [proto.graph?.node ?? [], ''],
    ...(proto.functions ?? []).map((f): [pb.INodeProto[], string] => [
      f.node ?? [],
      ` in function "${f.name}"`,
    ]),
  ];
  for (const [nodes, where] of bodies) {
    for (const n of nodes) {
      const domain = n.domain ?? '';
      if (KNOWN_OP_DOMAINS.has(domain)) continue;
      if (localFunctions.has(`${domain}::${n.opType ?? ''}`)) continue;
      throw new InputError(
        'unknown-operator',
        `${file}: node "${n.name || n.opType}"${where} uses operator ${domain}::${n.opType}, from a custom domain that needs a native plugin; custom-op libraries are never loaded, export the model with standard ONNX operators`,
        file,
      );
    }
  }
}

/**
 * Returns the model bytes with `names` added as graph outputs (skipping names already outputs). `dtypes`
 * gives each tensor's element type when known; without one, the output is declared with no type and ORT
 * infers it.
 */
export function exposeOutputs(
  bytes: Uint8Array,
  names: string[],
  existingOutputs: string[] = [],
  dtypes: Record<string, ElementType> = {},
): Uint8Array {
  const extra = exposureBytes(names, existingOutputs, dtypes);
  return extra ? appended(bytes, extra) : bytes;
}

/** A new buffer holding `bytes` then `tail`. */
function appended(bytes: Uint8Array, tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + tail.length);
  out.set(bytes, 0);
  out.set(tail, bytes.length);
  return out;
}

/** The encoded ModelProto{graph:{output}} to append, or null when every name is already an output. */
function exposureBytes(
  names: string[],
  existingOutputs: string[],
  dtypes: Record<string, ElementType>,
): Uint8Array | null {
  const skip = new Set(existingOutputs);
  const add = [...new Set(names)].filter((n) => !skip.has(n));
  if (add.length === 0) return null;
  const output: pb.IValueInfoProto[] = add.map((name) => {
    const t = dtypes[name];
    return t && t !== 'unknown' ? { name, type: { tensorType: { elemType: elemTypeCode(t) } } } : { name };
  });
  return onnx.ModelProto.encode({ graph: { output } }).finish();
}

/**
 * Buffers that readModel allocated with room after the model bytes (withSpareRoom), and those whose room
 * is lent out right now. Only these are ever written past the model's end: any other buffer may be shared
 * (Node's Buffer pool), so it gets a copy.
 */
const spareRoom = new WeakSet<ArrayBuffer>();
const spareLent = new WeakSet<ArrayBuffer>();

/** Bytes of room readModel leaves after a model for the appended graph outputs. */
export const EXPOSE_SPARE_BYTES = 64 * 1024;

/** A zeroed buffer of `size` + EXPOSE_SPARE_BYTES bytes whose tail exposeOutputsLease may use. */
export function withSpareRoom(size: number): Uint8Array {
  const buf = new ArrayBuffer(size + EXPOSE_SPARE_BYTES);
  spareRoom.add(buf);
  return new Uint8Array(buf);
}

/**
 * exposeOutputs without copying the model when its buffer has spare room (withSpareRoom): the outputs are
 * written after the model's last byte, and the returned view spans both. A 50 MB model was copied whole for
 * each session before (10-35 ms). The room is lent until release() (call it once the session is created:
 * ORT has parsed the bytes by then); a second exposure of the same buffer meanwhile gets a copy.
 */
export function exposeOutputsLease(
  bytes: Uint8Array,
  names: string[],
  existingOutputs: string[] = [],
  dtypes: Record<string, ElementType> = {},
): { bytes: Uint8Array; release: () => void } {
  const extra = exposureBytes(names, existingOutputs, dtypes);
  if (!extra) return { bytes, release: () => undefined };
  const buf = bytes.buffer;
  const end = bytes.byteOffset + bytes.length;
  if (
    buf instanceof ArrayBuffer &&
    spareRoom.has(buf) &&
    !spareLent.has(buf) &&
    buf.byteLength - end >= extra.length
  ) {
    new Uint8Array(buf, end, extra.length).set(extra);
    spareLent.add(buf);
    return {
      bytes: new Uint8Array(buf, bytes.byteOffset, bytes.length + extra.length),
      release: () => spareLent.delete(buf),
    };
  }
  return { bytes: appended(bytes, extra), release: () => undefined };
}

/** Element types of tensors the file declares (inputs, outputs, value_info, initializers). */
export function declaredTypes(proto: pb.IModelProto): Record<string, ElementType> {
  return declaredTypesFrom(proto.graph ?? {});
}

function declaredTypesFrom(g: pb.IGraphProto): Record<string, ElementType> {
  const out: Record<string, ElementType> = {};
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) {
    const t = v.type?.tensorType?.elemType;
    if (v.name && t) out[v.name] = elementTypeOf(t);
  }
  for (const t of g.initializer ?? []) if (t.name) out[t.name] = elementTypeOf(t.dataType);
  return out;
}

/** The node producing a tensor, if any. */
export function producerOf(model: OnnxModel, tensor: string): pb.INodeProto | undefined {
  return (model.proto.graph?.node ?? []).find((n) => (n.output ?? []).includes(tensor));
}

/** For a token-id input feeding a Gather, the embedding table's first dim (the vocabulary size). */
export function inferVocabSize(model: OnnxModel, inputName: string): number | undefined {
  for (const n of model.proto.graph?.node ?? []) {
    if (n.opType !== 'Gather' || (n.input ?? [])[1] !== inputName) continue;
    const table = model.initializers.find((t) => t.name === (n.input ?? [])[0]);
    if (table && table.dims.length >= 1 && table.dims[0] > 0) return table.dims[0];
  }
  return undefined;
}
