/**
 * `model-fingerprint inspect`: what a model file declares (inputs, outputs, opsets, producer, size, hash)
 * and every layer with its op and shape. Shapes come from ONNX Runtime: a tiny probe batch runs with all
 * layers exposed; if that fails (symbolic dims without sizes, an op ORT rejects), shapes stay null and the
 * reason is kept in `shapeNote`.
 */
import { describeError } from '../errors.js';
import { generateProbes } from '../probes/generate.js';
import type { ProbeSpec } from '../probes/types.js';
import { inferVocabSize } from './graph.js';
import { readModel, type ReadModelOptions } from './read.js';
import { runProbes } from './session.js';
import type { LayerInfo, OnnxModel, TensorInfo } from './types.js';

/** Probes used to learn layer shapes. */
export const INSPECT_PROBES = 2;

export interface InspectResult {
  path: string;
  sizeBytes: number;
  sha256: string;
  irVersion: number;
  producer: string;
  opsets: { domain: string; version: number }[];
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  layers: LayerInfo[];
  initializers: number;
  parameters: number;
  /** Why shapes are unknown, when they are. */
  shapeNote?: string;
}

export interface InspectOptions extends ReadModelOptions {
  /** Sizes for symbolic dims (as for probes). */
  dims?: Record<string, number>;
  vocab?: number;
}

/** Fills layer shapes by running INSPECT_PROBES probes with every layer exposed. */
export async function layerShapes(model: OnnxModel, spec: ProbeSpec = {}): Promise<LayerInfo[]> {
  const vocabByInput: Record<string, number> = {};
  for (const i of model.inputs) {
    const v = inferVocabSize(model, i.name);
    if (v) vocabByInput[i.name] = v;
  }
  const probes = generateProbes(
    model.inputs,
    { ...spec, count: INSPECT_PROBES, kinds: ['uniform'] },
    { file: model.path, vocabByInput },
  );
  const run = await runProbes(model, probes, {
    layers: model.layers.map((l) => l.name),
    checkFinite: false,
    threads: 1,
  });
  return model.layers.map((l) => {
    const t = run.tensors.get(l.name);
    if (!t) return { ...l, shape: null };
    return { ...l, shape: t.perProbe ? [-1, ...t.shape.slice(1)] : t.shape };
  });
}

export async function inspectModel(path: string, opts: InspectOptions = {}): Promise<InspectResult> {
  const model = await readModel(path, opts);
  let layers = model.layers;
  let shapeNote: string | undefined;
  try {
    layers = await layerShapes(model, { dims: opts.dims, vocab: opts.vocab });
  } catch (e) {
    shapeNote = describeError(e);
  }
  return {
    path: model.path,
    sizeBytes: model.sizeBytes,
    sha256: model.sha256,
    irVersion: model.irVersion,
    producer: model.producer,
    opsets: model.opsets,
    inputs: model.inputs,
    outputs: model.outputs,
    layers,
    initializers: model.initializers.length,
    parameters: model.initializers.reduce((s, t) => s + t.dims.reduce((a, b) => a * b, 1), 0),
    ...(shapeNote ? { shapeNote } : {}),
  };
}

function fmtShape(shape: (number | string | null)[] | null): string {
  if (!shape) return '?';
  return `[${shape.map((d) => (d === null ? '?' : d === -1 ? 'N' : String(d))).join(', ')}]`;
}

/** A terminal rendering of an InspectResult. */
export function formatInspect(r: InspectResult): string {
  const lines: string[] = [];
  lines.push(`${r.path}`);
  lines.push(`  size       ${r.sizeBytes} bytes   sha256 ${r.sha256}`);
  lines.push(`  producer   ${r.producer || '(none)'}   IR ${r.irVersion}`);
  lines.push(`  opsets     ${r.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')}`);
  lines.push(`  weights    ${r.initializers} tensors, ${r.parameters} parameters`);
  lines.push('  inputs');
  for (const t of r.inputs) lines.push(`    ${t.name}  ${t.dtype}${fmtShape(t.shape)}`);
  lines.push('  outputs');
  for (const t of r.outputs) lines.push(`    ${t.name}  ${t.dtype}${fmtShape(t.shape)}`);
  lines.push(`  layers (${r.layers.length})`);
  const w = Math.min(60, Math.max(...r.layers.map((l) => l.name.length), 4));
  const opw = Math.max(...r.layers.map((l) => l.op.length), 2);
  for (const l of r.layers) lines.push(`    ${l.name.padEnd(w)}  ${l.op.padEnd(opw)}  ${fmtShape(l.shape)}`);
  if (r.shapeNote) lines.push(`  (layer shapes unknown: ${r.shapeNote})`);
  return lines.join('\n') + '\n';
}
