/**
 * Reads an ONNX model file from an untrusted pull request into an OnnxModel, refusing bad files early and
 * clearly: the size limit is checked with stat before reading, the first bytes are sniffed (LFS pointer,
 * pickle, zip, text), the protobuf is parsed with onnx-proto (truncated/corrupt files named), and the graph is
 * checked (limits on tensor elements, input dims and node count; external data confined to the model's folder;
 * cycles; unknown operator domains). Nothing from the file is ever executed here.
 */
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import type { onnx as pb } from 'onnx-proto';
import { InputError } from '../errors.js';
import {
  MAX_GRAPH_NODES,
  MAX_INPUT_DIM,
  MAX_MODEL_FILE_BYTES,
  MAX_TOTAL_TENSOR_ELEMENTS,
} from '../limits.js';
import { bytesPerElement, elementTypeOf, toNum, type Int64Like } from './dtypes.js';
import { resolveExternalData } from './external-data.js';
import { KNOWN_OP_DOMAINS, checkOperatorDomains, topologicalLayers, withSpareRoom } from './graph.js';
import { MODEL_PROTO_SINGULAR_MESSAGE_FIELDS, topLevelFieldCounts } from './proto-scan.js';
import { sniffModelBytes } from './sniff.js';
import type { Dim, InitializerInfo, OnnxModel, TensorInfo } from './types.js';

const { onnx } = onnxProto;

export interface ReadModelOptions {
  maxFileBytes?: number;
  maxTotalTensorElements?: number;
  maxInputDim?: number;
  maxNodes?: number;
  /** Allow operator domains ORT does not know (inspection only; running such a model still fails). */
  allowUnknownDomains?: boolean;
}

/** Reads, checks and parses the model at `path`. Every refusal is an InputError naming the file. */
export async function readModel(path: string, opts: ReadModelOptions = {}): Promise<OnnxModel> {
  const maxBytes = opts.maxFileBytes ?? MAX_MODEL_FILE_BYTES;
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile())
      throw new InputError(
        'bad-argument',
        `${path}: not a regular file; give the path of a .onnx model`,
        path,
      );
    size = st.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError('not-found', `${path}: no such file; check the model path`, path);
  }
  if (size > maxBytes) {
    throw new InputError(
      'too-large',
      `${path}: ${size} bytes is larger than the ${maxBytes}-byte limit; models this large are not scanned`,
      path,
    );
  }
  if (size === 0) sniffModelBytes(new Uint8Array(0), path);
  return parseModel(await readWithSpareRoom(path, size), path, opts);
}

/**
 * The file's bytes, in a buffer with room after them (graph.ts withSpareRoom) so the session can append
 * its captured outputs without copying the model. A file that grew since stat is read whole, as before.
 */
async function readWithSpareRoom(path: string, size: number): Promise<Uint8Array> {
  const room = withSpareRoom(size);
  const fh = await open(path, 'r');
  let total = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(room, total, room.length - total, total);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > size) break;
    }
  } finally {
    await fh.close();
  }
  if (total > size) {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  return room.subarray(0, total);
}

function dimsOf(v: pb.IValueInfoProto): Dim[] {
  const dims = v.type?.tensorType?.shape?.dim;
  if (!dims) return [];
  return dims.map((d) => {
    if (d.dimValue != null && toNum(d.dimValue as Int64Like) > 0) return toNum(d.dimValue as Int64Like);
    if (d.dimParam) return d.dimParam;
    return null;
  });
}

function tensorInfo(v: pb.IValueInfoProto): TensorInfo {
  return { name: v.name ?? '', dtype: elementTypeOf(v.type?.tensorType?.elemType), shape: dimsOf(v) };
}

/**
 * External data is supported for top-level graph initializers only (read.ts validates and session.ts inlines
 * those). A tensor anywhere else (Constant attributes, subgraphs of If/Loop/Scan, functions, training info)
 * pointing at external data could make ORT open a path nobody checked: refused. Nested custom-domain nodes
 * are refused like top-level ones.
 */
function checkNestedTensors(proto: pb.IModelProto, file: string): void {
  const refuseTensor = (t: pb.ITensorProto, where: string) => {
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData ?? []).length > 0) {
      throw new InputError(
        'external-data',
        `${file}: tensor "${t.name ?? ''}" in ${where} uses external data, which is only allowed for graph initializers; re-export with the data embedded`,
        file,
      );
    }
  };
  const visitNodes = (nodes: pb.INodeProto[], where: string, nested: boolean) => {
    for (const n of nodes) {
      if (nested && !KNOWN_OP_DOMAINS.has(n.domain ?? '')) {
        throw new InputError(
          'unknown-operator',
          `${file}: node "${n.name || n.opType}" in ${where} uses operator ${n.domain}::${n.opType} from a custom domain; custom-op libraries are never loaded`,
          file,
        );
      }
      for (const a of n.attribute ?? []) {
        const here = `attribute "${a.name}" of node "${n.name || n.opType}"`;
        if (a.t) refuseTensor(a.t, here);
        for (const t of a.tensors ?? []) refuseTensor(t, here);
        if (a.sparseTensor?.values) refuseTensor(a.sparseTensor.values, here);
        if (a.g) visitGraph(a.g, `a subgraph of node "${n.name || n.opType}"`, true);
        for (const g of a.graphs ?? []) visitGraph(g, `a subgraph of node "${n.name || n.opType}"`, true);
      }
    }
  };
  const visitGraph = (g: pb.IGraphProto, where: string, nested: boolean) => {
    if (nested) for (const t of g.initializer ?? []) refuseTensor(t, where);
    for (const s of g.sparseInitializer ?? []) if (s.values) refuseTensor(s.values, where);
    visitNodes(g.node ?? [], where, nested);
  };
  if (proto.graph) visitGraph(proto.graph, 'the graph', false);
  for (const f of proto.functions ?? []) visitNodes(f.node ?? [], `function "${f.name}"`, false);
  for (const ti of proto.trainingInfo ?? []) {
    if (ti.initialization) visitGraph(ti.initialization, 'training info', true);
    if (ti.algorithm) visitGraph(ti.algorithm, 'training info', true);
  }
}

function decode(bytes: Uint8Array, file: string): pb.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/index out of range/i.test(msg)) {
      throw new InputError(
        'truncated',
        `${file}: the ONNX file is truncated (ends in the middle of a record); re-export or re-download it`,
        file,
      );
    }
    throw new InputError(
      'not-onnx',
      `${file}: not a valid ONNX protobuf (${msg}); export the model to .onnx`,
      file,
    );
  }
}

/** Checks and describes already-read model bytes (`file` is used in messages and to locate external data). */
export function parseModel(bytes: Uint8Array, file: string, opts: ReadModelOptions = {}): OnnxModel {
  sniffModelBytes(bytes, file);
  const fields = topLevelFieldCounts(bytes);
  if (fields === 'truncated') {
    throw new InputError(
      'truncated',
      `${file}: the ONNX file is truncated (a record runs past the end); re-export or re-download it`,
      file,
    );
  }
  if (fields === 'invalid') {
    throw new InputError('not-onnx', `${file}: not a valid ONNX protobuf; export the model to .onnx`, file);
  }
  for (const [num, name] of MODEL_PROTO_SINGULAR_MESSAGE_FIELDS) {
    if ((fields.get(num) ?? 0) > 1) {
      throw new InputError(
        'invalid-graph',
        `${file}: the file holds ${fields.get(num)} "${name}" records (ONNX Runtime would merge them); a crafted or corrupt file, re-export the model`,
        file,
      );
    }
  }
  const proto = decode(bytes, file);
  checkNestedTensors(proto, file);
  const graph = proto.graph;
  if (!graph || !(graph.node ?? []).length || !(graph.output ?? []).length) {
    throw new InputError(
      'not-onnx',
      `${file}: the ONNX file has no graph (or no nodes/outputs); export the full model`,
      file,
    );
  }
  const maxNodes = opts.maxNodes ?? MAX_GRAPH_NODES;
  const nodeCount = graph.node?.length ?? 0;
  if (nodeCount > maxNodes) {
    throw new InputError(
      'too-large',
      `${file}: ${nodeCount} nodes is more than the ${maxNodes}-node limit`,
      file,
    );
  }

  // Initializers: declared sizes against the limit, embedded data against the declared size, external data
  // confined to the model's folder.
  const maxElements = opts.maxTotalTensorElements ?? MAX_TOTAL_TENSOR_ELEMENTS;
  let totalElements = 0;
  const initializers: InitializerInfo[] = [];
  for (const t of graph.initializer ?? []) {
    const dims = (t.dims ?? []).map((d) => toNum(d as Int64Like));
    const name = t.name ?? '';
    if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new InputError(
        'invalid-graph',
        `${file}: initializer "${name}" declares invalid dims [${dims.join(',')}]`,
        file,
      );
    }
    const count = dims.reduce((a, b) => a * b, 1);
    totalElements += count;
    if (totalElements > maxElements) {
      throw new InputError(
        'too-large',
        `${file}: the weights declare more than ${maxElements} elements in total; models this large are not scanned`,
        file,
      );
    }
    const dtype = elementTypeOf(t.dataType);
    const info: InitializerInfo = { name, dtype, dims };
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const location = (t.externalData ?? []).find((e) => e.key === 'location')?.value ?? '';
      info.externalPath = resolveExternalData(file, location);
    } else if (t.rawData && t.rawData.length > 0) {
      const want = count * bytesPerElement(dtype);
      if (want > 0 && t.rawData.length !== want) {
        throw new InputError(
          'truncated',
          `${file}: initializer "${name}" holds ${t.rawData.length} bytes but declares ${want}; the file is truncated or corrupt, re-export it`,
          file,
        );
      }
    }
    initializers.push(info);
  }
  // Sparse initializers: ONNX Runtime makes them dense when it loads the model, so their declared (dense)
  // dims count against the same limit, before anything is allocated.
  for (const sp of graph.sparseInitializer ?? []) {
    const dims = (sp.dims ?? []).map((d) => toNum(d as Int64Like));
    const name = sp.values?.name ?? '';
    if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new InputError(
        'invalid-graph',
        `${file}: sparse initializer "${name}" declares invalid dims [${dims.join(',')}]`,
        file,
      );
    }
    totalElements += dims.reduce((a, b) => a * b, 1);
    if (totalElements > maxElements) {
      throw new InputError(
        'too-large',
        `${file}: the weights declare more than ${maxElements} elements in total; models this large are not scanned`,
        file,
      );
    }
  }

  const initNames = new Set(initializers.map((t) => t.name));
  const inputs = (graph.input ?? []).filter((v) => !initNames.has(v.name ?? '')).map(tensorInfo);
  const outputs = (graph.output ?? []).map(tensorInfo);
  const maxDim = opts.maxInputDim ?? MAX_INPUT_DIM;
  for (const inp of inputs) {
    for (const d of inp.shape) {
      if (typeof d === 'number' && d > maxDim) {
        throw new InputError(
          'unsupported-input',
          `${file}: input "${inp.name}" declares a dimension of ${d} (limit ${maxDim}); such inputs are not probed`,
          file,
        );
      }
    }
  }
  if (inputs.length === 0) {
    throw new InputError('unsupported-input', `${file}: the model has no inputs to probe`, file);
  }

  const layers = topologicalLayers(graph, file);
  if (!opts.allowUnknownDomains) checkOperatorDomains(proto, file);

  return {
    path: file,
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    sizeBytes: bytes.length,
    irVersion: toNum(proto.irVersion as Int64Like),
    producer: [proto.producerName, proto.producerVersion].filter(Boolean).join(' '),
    opsets: (proto.opsetImport ?? []).map((o) => ({
      domain: o.domain ?? '',
      version: toNum(o.version as Int64Like),
    })),
    inputs,
    outputs,
    layers,
    initializers,
    proto,
  };
}
