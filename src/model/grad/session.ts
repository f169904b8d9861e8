/**
 * GradientSession: one ONNX Runtime session over a gradient graph (build.ts), configured as the project's
 * other sessions are (session.ts: no custom-op libraries, no spinning threads, ORT's own log silenced, load
 * and run failures as InputError naming the file). `run` takes the caller's feeds by name and returns the
 * objective, each term, the gradients and the model's outputs of the same forward pass.
 */
import * as ort from 'onnxruntime-node';
import { InputError, describeError } from '../../errors.js';
import { MAX_PROBE_BATCH_BYTES } from '../../limits.js';
import { openSession, type GraphOptimization } from '../session.js';
import type { OnnxModel } from '../types.js';
import { buildGradientGraph } from './build.js';
import {
  GradientSpecError,
  type Feed,
  type FeedInfo,
  type FloatTensor,
  type GradientGraph,
  type GradientResult,
  type GradientSpec,
} from './types.js';

export interface GradientSessionOptions {
  threads?: number;
  /** ORT graph optimisation level (default 'all'; see docs/gradients.md for what each gives). */
  graphOptimization?: GraphOptimization;
  /** The file named in errors. */
  file?: string;
}

function floatOf(t: ort.Tensor): FloatTensor {
  const d = t.data;
  const data = d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
  return { data, dims: [...t.dims] };
}

function checkDims(name: string, info: FeedInfo, dims: readonly number[]): void {
  if (dims.length !== info.shape.length)
    throw new GradientSpecError(
      `feed "${name}": rank ${dims.length}, the graph wants [${info.shape.join(', ')}]`,
    );
  info.shape.forEach((d, i) => {
    if (typeof d === 'number' && dims[i] !== d)
      throw new GradientSpecError(
        `feed "${name}": dims [${dims.join(', ')}], the graph wants [${info.shape.join(', ')}]`,
      );
  });
}

function tensorFor(name: string, info: FeedInfo, feed: Feed): ort.Tensor {
  switch (info.kind) {
    case 'scalar':
      if (typeof feed !== 'number') throw new GradientSpecError(`feed "${name}" is a number`);
      return new ort.Tensor('float32', Float32Array.of(feed), []);
    case 'classes': {
      if (!Array.isArray(feed)) throw new GradientSpecError(`feed "${name}" is an array of class indices`);
      const ids = feed as readonly number[];
      return new ort.Tensor(
        'int64',
        BigInt64Array.from(ids, (v) => BigInt(v)),
        [ids.length],
      );
    }
    case 'int': {
      const t = feed as { data: BigInt64Array; dims: number[] };
      if (!(t && t.data instanceof BigInt64Array))
        throw new GradientSpecError(`feed "${name}" is an int64 tensor`);
      checkDims(name, info, t.dims);
      return new ort.Tensor('int64', t.data, t.dims);
    }
    default: {
      const t = feed as FloatTensor;
      if (!(t && t.data instanceof Float32Array))
        throw new GradientSpecError(`feed "${name}" is a float32 tensor`);
      checkDims(name, info, t.dims);
      if (t.data.length !== t.dims.reduce((a, b) => a * b, 1))
        throw new GradientSpecError(
          `feed "${name}": ${t.data.length} values for dims [${t.dims.join(', ')}]`,
        );
      return new ort.Tensor('float32', t.data, t.dims);
    }
  }
}

export class GradientSession {
  private released = false;
  private readonly fetches: string[];

  private constructor(
    readonly graph: GradientGraph,
    private readonly session: ort.InferenceSession,
    private readonly file: string,
  ) {
    this.fetches = [
      graph.objective,
      ...graph.terms,
      ...Object.values(graph.grads),
      ...Object.values(graph.outputs),
    ];
  }

  /** Opens a session over a built graph. */
  static async open(graph: GradientGraph, opts: GradientSessionOptions = {}): Promise<GradientSession> {
    const file = opts.file ?? 'gradient graph';
    const session = await openSession(
      graph.bytes,
      file,
      opts.threads,
      opts.graphOptimization ?? 'all',
      'the gradient graph',
    );
    return new GradientSession(graph, session, file);
  }

  /** The feeds `run` expects, by name. */
  get feeds(): Record<string, FeedInfo> {
    return this.graph.feeds;
  }

  async run(feeds: Record<string, Feed>): Promise<GradientResult> {
    if (this.released) throw new Error('GradientSession.run after release');
    const input: Record<string, ort.Tensor> = {};
    let bytes = 0;
    for (const [name, info] of Object.entries(this.graph.feeds)) {
      const f = feeds[name];
      if (f === undefined)
        throw new GradientSpecError(
          `missing feed "${name}" (the graph takes ${Object.keys(this.graph.feeds).join(', ')})`,
        );
      input[info.graphName] = tensorFor(name, info, f);
      bytes += (input[info.graphName].data as ArrayBufferView).byteLength;
    }
    // the budget a probe batch has (the backward pass keeps a few times as much alive)
    if (bytes > MAX_PROBE_BATCH_BYTES)
      throw new InputError(
        'too-large',
        `${this.file}: one gradient batch feeds ${bytes} bytes, over the ${MAX_PROBE_BATCH_BYTES}-byte budget; use a smaller batch`,
        this.file,
      );
    for (const name of Object.keys(feeds))
      if (!this.graph.feeds[name]) throw new GradientSpecError(`unknown feed "${name}"`);
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.run(input, this.fetches);
    } catch (e) {
      throw new InputError(
        'runtime-error',
        `${this.file}: ONNX Runtime failed to run the gradient graph: ${describeError(e)}`,
        this.file,
      );
    }
    const scalar = (n: string) => floatOf(out[n]).data[0];
    return {
      objective: scalar(this.graph.objective),
      terms: this.graph.terms.map(scalar),
      grads: Object.fromEntries(Object.entries(this.graph.grads).map(([k, n]) => [k, floatOf(out[n])])),
      outputs: Object.fromEntries(Object.entries(this.graph.outputs).map(([k, n]) => [k, floatOf(out[n])])),
    };
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

/** Builds the gradient graph of `model` for `spec` and opens it (GradientUnsupported when a rule is missing). */
export async function openGradientSession(
  model: OnnxModel,
  spec: GradientSpec,
  opts: Omit<GradientSessionOptions, 'file'> = {},
): Promise<GradientSession> {
  return GradientSession.open(buildGradientGraph(model, spec), { ...opts, file: model.path });
}
