/**
 * buildGradientGraph: one ONNX graph that computes a model's forward pass (behind an optional prelude), a
 * scalar objective on it, and the objective's gradient with respect to chosen tensors, for ONNX Runtime to
 * run as one session. The forward nodes are the model's own, unchanged (a MaxPool gains its Indices
 * output), so the forward values are the model's; the backward nodes are written by reverse-mode sweep:
 * nodes on a path from a differentiated tensor to the objective are visited in reverse topological order,
 * each through its operator's vector-Jacobian rule (rules/), and the adjoints reaching a tensor from
 * several consumers are summed.
 *
 * Nothing from the file is executed: the builder reads the graph, writes ONNX operators, and ONNX Runtime
 * later runs those operators only. The model has passed the reader's checks (read.ts); the combined graph
 * is bounded by MAX_GRADIENT_GRAPH_NODES.
 */
import onnxProto from 'onnx-proto';
import type { onnx as pb } from 'onnx-proto';
import { MAX_GRADIENT_GRAPH_NODES } from '../../limits.js';
import { elemTypeCode } from '../dtypes.js';
import { topologicalNodeOrder } from '../graph.js';
import { inlineExternalData } from '../session.js';
import type { OnnxModel } from '../types.js';
import { valueInfo } from '../write.js';
import { Attrs } from './attrs.js';
import { Emitter, MIN_GRAD_OPSET } from './emit.js';
import { emitObjective, scaled } from './objective.js';
import { emitPrelude, type BuiltPrelude } from './prelude.js';
import { carriesGradient, NO_GRADIENT_OPS, RULES } from './rules/index.js';
import { RuleFailure } from './rules/rule.js';
import { inferNode, isFloat, tensorMeta, valueInfoMeta, type Meta } from './shapes.js';
import {
  GradientSpecError,
  GradientUnsupported,
  type FeedInfo,
  type GradientGraph,
  type GradientSpec,
  type TensorRef,
  type UnsupportedItem,
} from './types.js';

const { onnx } = onnxProto;

/** The model's ai.onnx opset. */
export function onnxOpset(model: OnnxModel): number {
  return model.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0;
}

function nodeLabel(n: pb.INodeProto): string {
  return n.name || (n.output ?? [])[0] || n.opType || '?';
}

/** A prefix no name of the graph starts with. */
function freshPrefix(g: pb.IGraphProto): string {
  const names: string[] = [];
  for (const n of g.node ?? []) names.push(n.name ?? '', ...(n.output ?? []), ...(n.input ?? []));
  for (const t of g.initializer ?? []) names.push(t.name ?? '');
  for (const v of g.input ?? []) names.push(v.name ?? '');
  for (let k = 0; ; k++) {
    const prefix = k === 0 ? 'grad/' : `grad${k}/`;
    if (!names.some((n) => n.startsWith(prefix))) return prefix;
  }
}

/** Why a tensor's type rules out a gradient (null when it is float32 or not known to be otherwise). */
function dtypeProblem(m: Meta): string | null {
  if (m.dtype === 'float32' || m.dtype === 'unknown') return null;
  return isFloat(m.dtype) ? `${m.dtype} tensors (only float32 is differentiated)` : null;
}

export function buildGradientGraph(model: OnnxModel, spec: GradientSpec): GradientGraph {
  const file = model.path;
  const opset = onnxOpset(model);
  if (opset < MIN_GRAD_OPSET)
    throw new GradientUnsupported(file, [
      {
        op: 'opset',
        node: '',
        why: `ai.onnx opset ${opset} (the backward graph needs ${MIN_GRAD_OPSET} or later)`,
      },
    ]);
  const proto = onnx.ModelProto.decode(inlineExternalData(model));
  const graph = proto.graph as pb.GraphProto;
  const modelNodes = graph.node ?? [];
  const order = topologicalNodeOrder(graph, file).map((i) => modelNodes[i]);
  const prefix = freshPrefix(graph);

  const metas = new Map<string, Meta>();
  for (const t of graph.initializer ?? []) metas.set(t.name ?? '', tensorMeta(t));
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  for (const v of graph.input ?? [])
    if (!initNames.has(v.name ?? '')) metas.set(v.name ?? '', valueInfoMeta(v));
  const declared = new Map<string, Meta>();
  for (const v of [...(graph.valueInfo ?? []), ...(graph.output ?? [])])
    declared.set(v.name ?? '', valueInfoMeta(v));

  const e = new Emitter(opset, prefix, metas);
  const feeds: Record<string, FeedInfo> = {};
  const addFeed = (logical: string, info: Omit<FeedInfo, 'graphName'>): string => {
    const existing = feeds[logical];
    if (existing) {
      if (existing.kind !== info.kind)
        throw new GradientSpecError(`feed "${logical}" is used both as ${existing.kind} and as ${info.kind}`);
      return existing.graphName;
    }
    const graphName = `${prefix}feed/${logical}`;
    feeds[logical] = { ...info, graphName };
    metas.set(graphName, { dtype: info.kind === 'classes' ? 'int64' : 'float32', shape: info.shape });
    return graphName;
  };

  // The prelude, whose last node writes the model's input.
  let prelude: BuiltPrelude | null = null;
  const modelInput = model.inputs[0];
  if (spec.prelude) {
    if (modelInput.dtype !== 'float32')
      throw new GradientSpecError(
        `${file}: a prelude needs a float32 input; "${modelInput.name}" is ${modelInput.dtype}`,
      );
    prelude = emitPrelude(e, spec.prelude, modelInput, (logical) => `${prefix}feed/${logical}`);
    for (const [k, v] of Object.entries(prelude.feeds)) feeds[k] = v;
    graph.input = (graph.input ?? []).filter((v) => v.name !== modelInput.name);
  }
  for (const inp of model.inputs) {
    if (prelude && inp.name === modelInput.name) continue;
    if (feeds[inp.name]) throw new GradientSpecError(`${file}: the feed name "${inp.name}" is taken twice`);
    feeds[inp.name] = {
      graphName: inp.name,
      kind: inp.dtype === 'float32' ? 'float' : 'int',
      shape: inp.shape,
    };
  }
  const preludeNodes = e.nodes.length;

  // Shapes of the model's tensors, declared value_info filling what inference leaves unknown.
  for (const n of order) {
    const out = inferNode(n, (t) => metas.get(t) ?? { dtype: 'unknown', shape: null }, opset);
    (n.output ?? []).forEach((o, i) => {
      if (!o) return;
      let m = out[i] ?? { dtype: 'unknown', shape: null };
      const d = declared.get(o);
      if (d && (m.shape === null || m.dtype === 'unknown'))
        m = { ...m, dtype: m.dtype === 'unknown' ? d.dtype : m.dtype, shape: m.shape ?? d.shape };
      metas.set(o, m);
    });
  }

  const resolve = (ref: TensorRef): { name: string; key: string } => {
    if (ref === 'input') return { name: modelInput.name, key: 'input' };
    if ('prelude' in ref) {
      const name = prelude?.values[ref.prelude];
      if (!name)
        throw new GradientSpecError(
          prelude
            ? `the ${spec.prelude?.kind} prelude has no value "${ref.prelude}" (it has ${Object.keys(prelude.values).join(', ')})`
            : `"${ref.prelude}" names a prelude value, and the spec has no prelude`,
        );
      return { name, key: ref.prelude };
    }
    if (!metas.has(ref.model)) throw new GradientSpecError(`${file}: the model has no tensor "${ref.model}"`);
    return { name: ref.model, key: ref.model };
  };

  const objective = emitObjective(
    {
      e,
      outputs: model.outputs.map((o) => ({ name: o.name, shape: metas.get(o.name)?.shape ?? o.shape })),
      resolve: (r) => resolve(r).name,
      nodes: order,
      addFeed,
    },
    spec.terms,
  );
  const forward = [...e.nodes.slice(0, preludeNodes), ...order, ...e.nodes.slice(preludeNodes)];
  const objectiveNodes = e.nodes.length - preludeNodes;

  const wrtRefs: TensorRef[] =
    spec.wrt ?? (prelude ? prelude.params.map((p): TensorRef => ({ prelude: p })) : ['input']);
  if (wrtRefs.length === 0)
    throw new GradientSpecError('wrt: at least one tensor to differentiate with respect to');
  const wrt = wrtRefs.map(resolve);

  // Which tensors depend on a differentiated one, and which nodes lie on a path to the objective.
  const reached = new Set(wrt.map((w) => w.name));
  for (const n of forward) {
    const op = n.opType ?? '';
    if (!(n.input ?? []).some((t, i) => reached.has(t) && carriesGradient(op, i))) continue;
    for (const o of n.output ?? []) {
      const m = metas.get(o);
      if (o && (!m || m.dtype === 'unknown' || isFloat(m.dtype))) reached.add(o);
    }
  }
  // The sweep starts from each term: at the tensor its closed-form adjoint is for, or at its value.
  const starts = objective.terms.map((t, i) => objective.seeds[i]?.tensor ?? t);
  const needed = new Set(starts);
  const active: pb.INodeProto[] = [];
  for (let k = forward.length - 1; k >= 0; k--) {
    const n = forward[k];
    if (!(n.output ?? []).some((o) => needed.has(o))) continue;
    if (NO_GRADIENT_OPS.has(n.opType ?? '')) continue;
    const ins = (n.input ?? []).filter((t, i) => reached.has(t) && carriesGradient(n.opType ?? '', i));
    if (ins.length === 0) continue;
    active.push(n);
    for (const i of ins) needed.add(i);
  }

  const items: UnsupportedItem[] = [];
  for (const n of active) {
    const op = n.opType ?? '';
    if ((n.domain ?? '') !== '' && n.domain !== 'ai.onnx')
      items.push({
        op: `${n.domain}::${op}`,
        node: nodeLabel(n),
        why: 'an operator outside the ONNX standard set',
      });
    else if (!RULES[op]) items.push({ op, node: nodeLabel(n), why: 'no gradient rule' });
    else {
      const bad = [...(n.input ?? []), ...(n.output ?? [])]
        .filter((t) => reached.has(t))
        .map((t) => dtypeProblem(metas.get(t) ?? { dtype: 'unknown', shape: null }))
        .find(Boolean);
      if (bad) items.push({ op, node: nodeLabel(n), why: bad });
    }
  }
  if (items.length) throw new GradientUnsupported(file, items);

  // The reverse sweep.
  const adjoints = new Map<string, string[]>();
  const push = (t: string, g: string) => {
    const list = adjoints.get(t);
    if (list) list.push(g);
    else adjoints.set(t, [g]);
  };
  const adjointOf = (t: string): string | null => {
    const list = adjoints.get(t);
    if (!list || list.length === 0) return null;
    if (list.length > 1) {
      const s = e.op('Sum', list);
      adjoints.set(t, [s]);
      return s;
    }
    return list[0];
  };
  objective.terms.forEach((t, i) => {
    const seed = objective.seeds[i];
    const w = objective.weights[i];
    if (seed) push(seed.tensor, scaled(e, seed.adjoint, w));
    else push(t, typeof w === 'number' ? e.f(w) : w);
  });
  // Fusions (a rule that also handles the node before it, see RuleContext.absorb) need to know who
  // produces a tensor and whether anything else reads it.
  const producers = new Map<string, pb.INodeProto>();
  const uses = new Map<string, number>();
  for (const n of forward) {
    for (const o of n.output ?? []) if (o) producers.set(o, n);
    for (const i of n.input ?? []) if (i) uses.set(i, (uses.get(i) ?? 0) + 1);
  }
  const wrtNames = new Set(wrt.map((w) => w.name));
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const absorbed = new Set<pb.INodeProto>();
  for (const n of active) {
    if (absorbed.has(n)) continue;
    const outs = [...(n.output ?? [])];
    const gy = outs.map((o) => (o ? adjointOf(o) : null));
    if (gy.every((g) => g === null)) continue;
    const ins = [...(n.input ?? [])];
    const needs = ins.map((t, i) => t !== '' && reached.has(t) && carriesGradient(n.opType ?? '', i));
    const fusedAdjoints: [string, string][] = [];
    const claimed: pb.INodeProto[] = [];
    try {
      const grads = RULES[n.opType ?? '']({
        node: n,
        a: new Attrs(n),
        e,
        opset,
        ins,
        outs,
        gy,
        needs,
        meta: (t) => e.meta(t),
        producer: (t) => producers.get(t),
        soleUse: (t) => uses.get(t) === 1 && !wrtNames.has(t) && !graphOutputs.has(t),
        reached: (t) => reached.has(t),
        absorb: (node, adjoints) => {
          claimed.push(node);
          for (const [t, g] of adjoints) fusedAdjoints.push([t, g]);
        },
      });
      ins.forEach((name, i) => {
        const g = grads[i];
        if (needs[i] && g) push(name, g);
      });
      for (const node of claimed) absorbed.add(node);
      for (const [t, g] of fusedAdjoints) push(t, g);
    } catch (err) {
      if (!(err instanceof RuleFailure)) throw err;
      items.push({ op: n.opType ?? '', node: nodeLabel(n), why: err.message });
    }
    if (e.nodes.length + modelNodes.length > MAX_GRADIENT_GRAPH_NODES)
      throw new GradientUnsupported(file, [
        { op: 'graph', node: '', why: `the gradient graph would exceed ${MAX_GRADIENT_GRAPH_NODES} nodes` },
      ]);
  }
  if (items.length) throw new GradientUnsupported(file, items);

  // Outputs: the objective, each term, each gradient (zeros where the objective does not depend on it).
  const outputs: pb.IValueInfoProto[] = [];
  const named = (t: string, hint: string): string => {
    const out = e.node('Identity', [t], {}, 1, hint)[0];
    outputs.push(valueInfo(out, 'float32'));
    return out;
  };
  const objectiveOut = named(objective.total, 'objective');
  const termOuts = objective.terms.map((t, i) => named(t, `term${i}`));
  const grads: Record<string, string> = {};
  for (const w of wrt) {
    if (grads[w.key]) continue;
    grads[w.key] = named(adjointOf(w.name) ?? e.zerosLike(w.name), `grad`);
  }

  graph.node = [...forward, ...e.nodes.slice(preludeNodes + objectiveNodes)];
  graph.initializer = [...(graph.initializer ?? []), ...e.initializers];
  graph.input ??= [];
  for (const f of Object.values(feeds)) {
    if (model.inputs.some((i) => i.name === f.graphName)) continue;
    graph.input.push({
      name: f.graphName,
      type: {
        tensorType: {
          elemType: elemTypeCode(f.kind === 'classes' || f.kind === 'int' ? 'int64' : 'float32'),
          shape: {
            dim: f.shape.map((d) =>
              typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {},
            ),
          },
        },
      },
    });
  }
  graph.output = [...(graph.output ?? []), ...outputs];
  if (graph.node.length > MAX_GRADIENT_GRAPH_NODES)
    throw new GradientUnsupported(file, [
      {
        op: 'graph',
        node: '',
        why: `the gradient graph has ${graph.node.length} nodes (limit ${MAX_GRADIENT_GRAPH_NODES})`,
      },
    ]);

  return {
    bytes: onnx.ModelProto.encode(proto).finish(),
    feeds,
    objective: objectiveOut,
    terms: termOuts,
    grads,
    outputs: Object.fromEntries(
      model.outputs.filter((o) => o.dtype === 'float32').map((o) => [o.name, o.name]),
    ),
    bnNodes: objective.bnNodes,
    forwardNodes: modelNodes.length,
    totalNodes: graph.node.length,
    opset,
  };
}
