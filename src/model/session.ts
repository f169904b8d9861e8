/**
 * Runs a probe set through ONE onnxruntime-node InferenceSession, in batches, capturing the graph outputs and
 * the chosen intermediate layers (exposed as extra graph outputs, see graph.ts). ORT failures become
 * InputError('runtime-error') naming the file; NaN/Inf outputs become InputError('non-finite-output'); a
 * per-model time limit and a memory budget (checked before allocating) bound the work.
 *
 * Safety: custom-op libraries are never registered, and external tensor data is inlined from the already
 * checked files (external-data.ts) so ORT itself never opens a path named by the model.
 *
 * Graph optimisations: ORT fuses nodes (Conv+BatchNormalization at 'basic', a residual Add into the NCHWc
 * convolution before it at 'all') only when the intermediate is not a graph output, so exposing such an
 * intermediate changes the logits in the last bits (measured: ~1e-6). ORT's CPU fusions do not continue
 * past a Relu's output (checked on the test models and the benchmark ResNet, each Relu exposed alone and all
 * together), and Relu itself is exact (max(x, 0), fused into its producer or not), so a session whose exposed
 * layers are all Relu outputs (the 'auto' rule's usual pick) runs at ORT's 'all' level, which is also ORT's
 * default (NCHWc convolutions: 12-28% faster on the speed benchmark CNN), and its logits are bit-identical
 * to a plain session's.
 * Any other exposure runs with optimisations disabled, where exposing never changes the logits (those
 * logits can then differ from the plain session's by ~1e-6). See optimizationLevelFor; both properties are
 * tested in __tests__/model/session.test.ts.
 * Input normalisation (ProbeInput.normalize, `--input-mean`/`--input-std`) is applied here and only here,
 * while a batch is copied into its tensor: probe data stays in probe space everywhere else and is never
 * changed in place. Set ORT_DISABLE_TELEMETRY=1 in the process environment (the CLI
 * and action entry points do) before this module loads ORT.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { InputError, describeError } from '../errors.js';
import { DEFAULT_BATCH_SIZE, MAX_PROBE_BATCH_BYTES, MODEL_TIME_LIMIT_MS } from '../limits.js';
import { timeLimitError } from '../time-limit-error.js';
import { applyNormalization } from '../probes/normalize.js';
import type { InputNormalization, ProbeData, ProbeInput, ProbeSet } from '../probes/types.js';
import { bytesPerElement } from './dtypes.js';
import { declaredTypes, exposeOutputsLease } from './graph.js';
import type { OnnxModel } from './types.js';

const { onnx } = onnxProto;

export interface CapturedTensor {
  name: string;
  /** [count, ...per-probe dims] when perProbe; otherwise the tensor's own shape (from the first batch). */
  shape: number[];
  data: Float32Array;
  /** False when the tensor has no batch axis (e.g. a Shape output): then it is the first batch's value. */
  perProbe: boolean;
}

export interface RunProbesOptions {
  /** Intermediate tensors to capture besides the graph outputs. */
  layers?: string[];
  batchSize?: number;
  timeLimitMs?: number;
  memoryBudgetBytes?: number;
  threads?: number;
  /** Refuse NaN/Inf in graph outputs (default true). Non-finite values in layers are zeroed. */
  checkFinite?: boolean;
  /** ORT graph optimisation level; default optimizationLevelFor(model, layers). */
  graphOptimization?: GraphOptimization;
}

/** The two ORT graph optimisation levels sessions use (see the file header). */
export type GraphOptimization = 'disabled' | 'all';

/**
 * Operators whose outputs can be exposed without changing any fusion ORT makes at the 'all' level: no ORT
 * fusion continues past them (Relu+Clip and Relu+QuantizeLinear drop an exact Relu), and the value is exact.
 */
export const EXPOSURE_SAFE_OPS: ReadonlySet<string> = new Set(['Relu']);

/** 'all' when every exposed layer is a graph output or a Relu output, else 'disabled' (file header). */
export function optimizationLevelFor(model: OnnxModel, layers: string[]): GraphOptimization {
  const outputs = new Set(model.outputs.map((o) => o.name));
  const op = new Map(model.layers.map((l) => [l.name, l.op]));
  return layers.every((l) => outputs.has(l) || EXPOSURE_SAFE_OPS.has(op.get(l) ?? '')) ? 'all' : 'disabled';
}

export interface RunProbesResult {
  tensors: Map<string, CapturedTensor>;
  batchSize: number;
  millis: number;
}

/** Model bytes with external tensor data embedded (paths were validated by read.ts). */
export function inlineExternalData(model: OnnxModel): Uint8Array {
  if (!model.initializers.some((t) => t.externalPath)) return model.bytes;
  const proto = onnx.ModelProto.decode(model.bytes);
  const byName = new Map(model.initializers.map((t) => [t.name, t]));
  for (const t of proto.graph?.initializer ?? []) {
    const info = byName.get(t.name ?? '');
    if (!info?.externalPath) continue;
    const kv = new Map((t.externalData ?? []).map((e) => [e.key, e.value]));
    const offset = Number(kv.get('offset') ?? 0);
    const want = info.dims.reduce((a, b) => a * b, 1) * bytesPerElement(info.dtype);
    const length = kv.has('length') ? Number(kv.get('length')) : want;
    // Only the declared slice is read (checked against the file's size first): a huge or sparse side file
    // named by the model is never loaded whole.
    const fd = openSync(info.externalPath, 'r');
    try {
      const size = fstatSync(fd).size;
      if (!Number.isSafeInteger(offset) || offset < 0 || length !== want || offset + length > size) {
        throw new InputError(
          'external-data',
          `${model.path}: external data for "${t.name}" (offset ${offset}, length ${length}) does not match its file or dims; re-export the model`,
          model.path,
        );
      }
      const data = new Uint8Array(length);
      for (let got = 0; got < length;) {
        const n = readSync(fd, data, got, length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      t.rawData = data;
    } finally {
      closeSync(fd);
    }
    t.externalData = [];
    t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
  }
  return onnx.ModelProto.encode(proto).finish();
}

/**
 * The one session configuration entry besides the typed options, fixed here and never taken from a model:
 * ORT's intra-op threads sleep between operators instead of spinning. A fingerprint runs the weight
 * statistics on a worker thread beside the probe pass (src/fingerprint/weights-offload.ts); spinning threads
 * burn the core that worker needs, and on a shared 2-core runner a spinning partner that is descheduled
 * stalls every parallel operator. Measured with `npm run bench:speed` on its ResNet (full fingerprint / raw
 * ORT, median of 11 rounds): 1.29x and 1.32x spinning, 1.19x-1.21x in four runs not spinning. Threading does
 * not change any output (all 255 zoo fingerprints identical). The same setting src/detect/gram-ort.ts uses for
 * its products. __tests__/hardening/isolation.test.ts pins this value.
 */
export const SESSION_CONFIG_NO_SPIN = Object.freeze({
  session: Object.freeze({ intra_op: Object.freeze({ allow_spinning: '0' }) }),
});

/**
 * Batch size for the many small runs of trigger probing (logitsFunction): DEFAULT_BATCH_SIZE inputs, or
 * fewer when one input is large, so a batch holds at most LOGITS_BATCH_FLOATS input values. Measured on
 * this 2-core machine with ONNX Runtime 1.x (under load; bench/results/speed.md): a 224x224 ResNet-18 ran
 * as many inputs per second at batch 4 or 16 as at 64 while its peak memory fell from 695 MB to 277-337 MB,
 * MobileNetV2 likewise (804 MB at 64, 159-287 MB at 4-16): beyond a few large inputs a bigger batch buys no
 * throughput on a CPU, only memory. Inputs of up to 32x32x3 keep 64, as before.
 */
export function logitsBatchSize(sampleElements: number, wanted = DEFAULT_BATCH_SIZE): number {
  return Math.max(1, Math.min(wanted, Math.floor(LOGITS_BATCH_FLOATS / Math.max(1, sampleElements))));
}

/** Input values per batch of trigger probing's runs (see logitsBatchSize): 8 MB of float32. */
export const LOGITS_BATCH_FLOATS = 2 ** 21;

/** Creates the session; ORT load failures become InputError('runtime-error'). */
export async function createSession(
  model: OnnxModel,
  layers: string[],
  threads?: number,
  level: GraphOptimization = optimizationLevelFor(model, layers),
): Promise<ort.InferenceSession> {
  const base = inlineExternalData(model);
  const { bytes, release } = exposeOutputsLease(
    base,
    layers,
    model.outputs.map((o) => o.name),
    declaredTypes(model.proto),
  );
  try {
    return await openSession(bytes, model.path, threads, level);
  } finally {
    release();
  }
}

/**
 * The one place sessions are created (a hardening test pins it): over a model's checked bytes, or a graph
 * the project wrote from them (src/model/grad). `what` names the graph in the load error.
 */
export async function openSession(
  bytes: Uint8Array,
  file: string,
  threads: number | undefined,
  level: GraphOptimization,
  what = 'the model',
): Promise<ort.InferenceSession> {
  // logSeverityLevel 4 (fatal): ONNX Runtime's own error lines, red on stderr, would only repeat what the
  // InputError below says
  try {
    return await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: level,
      executionMode: 'sequential',
      intraOpNumThreads: threads ?? Math.max(1, os.availableParallelism()),
      interOpNumThreads: 1,
      logSeverityLevel: 4,
      extra: SESSION_CONFIG_NO_SPIN,
    });
  } catch (e) {
    throw new InputError(
      'runtime-error',
      `${file}: ONNX Runtime could not load ${what}: ${describeError(e)}`,
      file,
    );
  }
}

function elementsOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The batch size all inputs allow: 1 without a batch axis, the fixed size if numeric. */
function feasibleBatch(inputs: ProbeInput[], wanted: number): { size: number; pad: boolean } {
  if (inputs.some((i) => i.batch === 'none')) return { size: 1, pad: false };
  const fixed = inputs.find((i) => i.batch === 'fixed');
  if (fixed) return { size: fixed.fixedBatch ?? 1, pad: true };
  return { size: Math.max(1, wanted), pad: false };
}

function sliceProbes(input: ProbeInput, start: number, n: number, batch: number): ort.Tensor {
  const per = elementsOf(input.sampleShape);
  const dims = input.batch === 'none' ? input.sampleShape : [batch, ...input.sampleShape];
  const src = input.data;
  // Padding (fixed batch larger than what is left) repeats nothing: the padded rows stay zero and are dropped.
  // A normalised float input (input.normalize) is normalised by the copy itself; the source is not touched.
  const make = <T extends ProbeData>(ctor: { new (n: number): T }, s: T): T => {
    const out = new ctor(batch * per);
    if (input.normalize && (s instanceof Float32Array || s instanceof Float64Array)) {
      applyNormalization(s, start * per, out as Float32Array | Float64Array, n * per, input.normalize);
    } else {
      (out as unknown as { set(a: ArrayLike<unknown>): void }).set(
        s.subarray(start * per, (start + n) * per),
      );
    }
    return out;
  };
  switch (input.dtype) {
    case 'float32':
      return new ort.Tensor('float32', make(Float32Array, src as Float32Array), dims);
    case 'float64':
      return new ort.Tensor('float64', make(Float64Array, src as Float64Array), dims);
    case 'int64':
      return new ort.Tensor('int64', make(BigInt64Array, src as BigInt64Array), dims);
    case 'int32':
      return new ort.Tensor('int32', make(Int32Array, src as Int32Array), dims);
    case 'uint8':
      return new ort.Tensor('uint8', make(Uint8Array, src as Uint8Array), dims);
    case 'int8':
      return new ort.Tensor('int8', make(Int8Array, src as Int8Array), dims);
    case 'bool':
      return new ort.Tensor('bool', make(Uint8Array, src as Uint8Array), dims);
    default:
      throw new Error(`sliceProbes: unsupported dtype ${input.dtype}`);
  }
}

function toFloat32(t: ort.Tensor): Float32Array | null {
  const d = t.data;
  if (d instanceof Float32Array) return d;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array)
    return Float32Array.from(d, (v) => Number(v));
  if (ArrayBuffer.isView(d)) return Float32Array.from(d as unknown as ArrayLike<number>);
  if (Array.isArray(d) && d.every((v) => typeof v === 'number')) return Float32Array.from(d as number[]);
  return null;
}

/** Sets NaN and +-Inf to 0 in place (x - x is NaN exactly for those; a small loop V8 optimises alone). */
function zeroNonFinite(data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) data[i] = 0;
  }
}

/**
 * Waits for `p` until the deadline. ORT cannot cancel a native run, so on timeout the run is abandoned (its
 * result is ignored) and the caller stops; the CLI exits afterwards.
 */
async function withDeadline<T>(p: Promise<T>, deadline: number, file: string, limitMs: number): Promise<T> {
  const left = deadline - Date.now();
  if (left <= 0) {
    p.catch(() => undefined);
    throw timeLimitError(file, 'probing', limitMs);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeLimitError(file, 'probing', limitMs)), left);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a run feeds: the probe count and per-input data (a ProbeSet satisfies it). */
export type ProbeFeed = Pick<ProbeSet, 'count' | 'inputs'>;

/**
 * One ORT session over a model (graph outputs + `layers` exposed), reusable for many runs: fingerprinting
 * uses one run; trigger probing sends many batches through the same session.
 */
export class ModelRunner {
  private inflight: Promise<unknown> | null = null;
  private released = false;

  private constructor(
    readonly model: OnnxModel,
    private readonly session: ort.InferenceSession,
    readonly layers: string[],
    private readonly threads?: number,
  ) {}

  static async open(
    model: OnnxModel,
    opts: { layers?: string[]; threads?: number; graphOptimization?: GraphOptimization } = {},
  ): Promise<ModelRunner> {
    const layers = opts.layers ?? [];
    const session = await createSession(model, layers, opts.threads, opts.graphOptimization);
    return new ModelRunner(model, session, layers, opts.threads);
  }

  /** Releases the session; a timed-out native run cannot be cancelled, so then it waits for that run. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const pending = this.inflight;
    if (pending) void pending.then(() => this.session.release()).catch(() => undefined);
    else await this.session.release();
  }

  /** Feeds `probes` in batches; returns graph outputs and exposed layers concatenated along the probe axis. */
  async run(
    probes: ProbeFeed,
    opts: Omit<RunProbesOptions, 'layers' | 'threads' | 'graphOptimization'> = {},
  ): Promise<RunProbesResult> {
    if (this.released) throw new Error('ModelRunner.run after release');
    const model = this.model;
    const started = Date.now();
    const limitMs = opts.timeLimitMs ?? MODEL_TIME_LIMIT_MS;
    const deadline = started + limitMs;
    const budget = opts.memoryBudgetBytes ?? MAX_PROBE_BATCH_BYTES;
    const file = model.path;

    // Memory: one batch of inputs must fit the budget before anything is allocated.
    const inputBytesPerProbe = probes.inputs.reduce(
      (s, i) => s + elementsOf(i.sampleShape) * Math.max(1, bytesPerElement(i.dtype)),
      0,
    );
    const plan = feasibleBatch(probes.inputs, opts.batchSize ?? DEFAULT_BATCH_SIZE);
    let batch = plan.size;
    if (!plan.pad) batch = Math.max(1, Math.min(batch, Math.floor(budget / Math.max(1, inputBytesPerProbe))));
    if (inputBytesPerProbe * batch > budget) {
      throw new InputError(
        'too-large',
        `${file}: one probe batch needs ${inputBytesPerProbe * batch} bytes of input, over the ${budget}-byte budget`,
        file,
      );
    }

    const layers = this.layers;
    const wanted = [
      ...model.outputs.map((o) => o.name),
      ...layers.filter((l) => !model.outputs.some((o) => o.name === l)),
    ];
    const noBatchAxis = probes.inputs.some((i) => i.batch === 'none');
    const outputNames = new Set(model.outputs.map((o) => o.name));
    const parts = new Map<string, { chunks: Float32Array[]; dims: number[]; perProbe: boolean }>();
    for (let start = 0; start < probes.count; start += batch) {
      const n = Math.min(batch, probes.count - start);
      const runBatch = plan.pad ? batch : n;
      const feeds: Record<string, ort.Tensor> = {};
      for (const inp of probes.inputs) feeds[inp.name] = sliceProbes(inp, start, n, runBatch);
      if (Date.now() >= deadline) throw timeLimitError(file, 'probing', limitMs);
      let out: ort.InferenceSession.ReturnType;
      try {
        const p = this.session.run(feeds, wanted);
        this.inflight = p;
        out = await withDeadline(p, deadline, file, limitMs);
        this.inflight = null;
      } catch (e) {
        if (e instanceof InputError) throw e;
        this.inflight = null;
        throw new InputError(
          'runtime-error',
          `${file}: ONNX Runtime failed to run the model: ${describeError(e)}`,
          file,
        );
      }
      for (const name of wanted) {
        const t = out[name];
        if (!t) continue;
        const data = toFloat32(t);
        if (!data) continue; // string / non-numeric tensors are not captured
        const dims = [...t.dims];
        let p = parts.get(name);
        if (!p) {
          const perProbe = noBatchAxis || dims[0] === runBatch;
          p = { chunks: [], dims: noBatchAxis ? dims : dims.slice(1), perProbe };
          parts.set(name, p);
          // Memory: what all probes of this tensor will hold, before it is collected.
          const total = [...parts.values()].reduce(
            (s, q) => s + (q.perProbe ? elementsOf(q.dims) * probes.count * 4 : 0),
            0,
          );
          if (total > budget) {
            throw new InputError(
              'too-large',
              `${file}: the captured activations need ${total} bytes, over the ${budget}-byte budget; capture fewer layers or use fewer probes`,
              file,
            );
          }
        }
        if (p.perProbe) {
          const per = elementsOf(p.dims);
          // ORT returns a fresh array per output: kept as is when it holds exactly this batch's probes
          p.chunks.push(data.length === n * per ? data : data.slice(0, n * per));
        } else if (p.chunks.length === 0) {
          p.dims = dims;
          p.chunks.push(data.slice());
        }
      }
    }

    const tensors = new Map<string, CapturedTensor>();
    for (const [name, p] of parts) {
      let data: Float32Array;
      if (p.chunks.length === 1) data = p.chunks[0];
      else {
        data = new Float32Array(p.chunks.reduce((s, c) => s + c.length, 0));
        let off = 0;
        for (const c of p.chunks) {
          data.set(c, off);
          off += c.length;
        }
      }
      if (opts.checkFinite !== false && outputNames.has(name)) {
        const bad = data.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) {
          const per = p.perProbe ? elementsOf(p.dims) : data.length;
          throw new InputError(
            'non-finite-output',
            `${file}: the model produced ${Number.isNaN(data[bad]) ? 'NaN' : 'Inf'} in "${name}" on probe ${Math.floor(bad / Math.max(1, per))}; its weights or operators are broken (check for NaN/Inf weights)`,
            file,
          );
        }
      }
      // Intermediate layers may hold -Inf legitimately (attention masks): zeroed so statistics stay finite.
      if (!outputNames.has(name)) zeroNonFinite(data);
      tensors.set(name, {
        name,
        shape: p.perProbe ? [probes.count, ...p.dims] : p.dims,
        data,
        perProbe: p.perProbe,
      });
    }
    return { tensors, batchSize: batch, millis: Date.now() - started };
  }

  /**
   * A `(inputs, count) => logits` function over this session for a model with one float32 input: `inputs`
   * holds `count` probes of `sampleShape` packed; returns count x classes values of the first output.
   * (The shape of src/selfcheck's RunLogits.) `opts.normalize` (the probe set's ProbeInput.normalize): the
   * inputs are in probe space and are normalised as they are copied into the tensor, as in `run`.
   */
  /**
   * logitsFunction for a model whose one input is token ids (int64 or int32, src/selfcheck/token-probe.ts):
   * the ids arrive as Int32Array (count x prod(sampleShape)) and are widened to the input's type here.
   */
  tokenLogitsFunction(
    sampleShape: number[],
    opts: Omit<RunProbesOptions, 'layers' | 'threads' | 'graphOptimization'> = {},
  ): (ids: Int32Array, count: number) => Promise<Float32Array> {
    const inp = this.model.inputs;
    if (inp.length !== 1 || (inp[0].dtype !== 'int64' && inp[0].dtype !== 'int32')) {
      throw new InputError(
        'unsupported-input',
        `${this.model.path}: token trigger probing needs a model with one int64 or int32 token-id input`,
        this.model.path,
      );
    }
    const dtype = inp[0].dtype;
    const rank = inp[0].shape.length;
    const batchDim = inp[0].shape[0];
    const batch: ProbeInput['batch'] =
      rank <= 1 && typeof batchDim === 'number' ? 'none' : typeof batchDim === 'number' ? 'fixed' : 'dynamic';
    return async (ids, count) => {
      const data = dtype === 'int64' ? BigInt64Array.from(ids, (v) => BigInt(v)) : ids;
      const feed: ProbeFeed = {
        count,
        inputs: [
          {
            name: inp[0].name,
            dtype,
            sampleShape,
            batch,
            ...(batch === 'fixed' ? { fixedBatch: batchDim as number } : {}),
            data,
          },
        ],
      };
      const res = await this.run(feed, opts);
      return (res.tensors.get(this.model.outputs[0].name) as CapturedTensor).data;
    };
  }

  logitsFunction(
    sampleShape: number[],
    opts: Omit<RunProbesOptions, 'layers' | 'threads' | 'graphOptimization'> & {
      normalize?: InputNormalization;
    } = {},
  ): (inputs: Float32Array, count: number) => Promise<Float32Array> {
    const { normalize, ...given } = opts;
    const runOpts = {
      ...given,
      batchSize: given.batchSize ?? logitsBatchSize(sampleShape.reduce((a, b) => a * b, 1)),
    };
    const inp = this.model.inputs;
    if (inp.length !== 1 || inp[0].dtype !== 'float32') {
      throw new InputError(
        'unsupported-input',
        `${this.model.path}: trigger probing needs a model with one float32 input`,
        this.model.path,
      );
    }
    const rank = inp[0].shape.length;
    const batchDim = inp[0].shape[0];
    const batch: ProbeInput['batch'] =
      rank <= 1 && typeof batchDim === 'number' ? 'none' : typeof batchDim === 'number' ? 'fixed' : 'dynamic';
    return async (inputs, count) => {
      const feed: ProbeFeed = {
        count,
        inputs: [
          {
            name: inp[0].name,
            dtype: 'float32',
            sampleShape,
            batch,
            ...(batch === 'fixed' ? { fixedBatch: batchDim as number } : {}),
            data: inputs,
            ...(normalize ? { normalize } : {}),
          },
        ],
      };
      const res = await this.run(feed, runOpts);
      return (res.tensors.get(this.model.outputs[0].name) as CapturedTensor).data;
    };
  }
}

/**
 * Feeds every probe through one session (opened and released here) and returns the graph outputs and
 * `opts.layers`, concatenated over batches along the probe axis.
 */
export async function runProbes(
  model: OnnxModel,
  probes: ProbeFeed,
  opts: RunProbesOptions = {},
): Promise<RunProbesResult> {
  const started = Date.now();
  const runner = await ModelRunner.open(model, {
    layers: opts.layers,
    threads: opts.threads,
    graphOptimization: opts.graphOptimization,
  });
  try {
    const left = (opts.timeLimitMs ?? MODEL_TIME_LIMIT_MS) - (Date.now() - started);
    const res = await runner.run(probes, { ...opts, timeLimitMs: Math.max(0, left) });
    return { ...res, millis: Date.now() - started };
  } finally {
    await runner.release();
  }
}
