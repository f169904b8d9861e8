/**
 * The weights:layers statistics on a worker thread, so they run beside the probe pass instead of after it.
 * Creating the ONNX Runtime session of a mid-size CNN is mostly single-threaded (graph optimisation, weight
 * re-layout), and the statistics (~0.1 s of matrix-vector products on a 12.5 M-parameter model) fit into that
 * time on the second core: they were the largest cost of a full fingerprint beyond inference itself
 * (bench/results/speed.md).
 *
 * One worker per process, started on first use and reused (a baseline build fingerprints many models);
 * unref'd when idle, so it never keeps the process alive. The matrices are copied once and transferred. The
 * model's time limit still holds: past the deadline the same timeout error as the in-thread path is thrown at
 * once, and the worker is told to drop that request before its next matrix (a shared cell it reads). It is
 * never terminated mid-work: onnxruntime-node, whose kernels the statistics use, aborts the whole process
 * when a thread is torn down inside one of its calls (measured under jest: 1 run in 3-8 aborted with
 * "terminate called after throwing an instance of 'Napi::Error'"). Until it has dropped the request it keeps
 * the process alive, so an exit cannot tear it down mid-call either. Where no worker can start (the worker script is
 * missing, FINGERPRINT_WEIGHTS_WORKER=0, or it crashed), the statistics run in-thread, with the same result.
 *
 * Why hand-written: Node's worker_threads is the mechanism; no maintained pool package knows where our
 * bundled worker script sits beside dist/ or how to honour the model's time limit.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { OnnxModel } from '../model/types.js';
import {
  assembleLayerStats,
  layerWeightPlan,
  layerWeightStats,
  layerWeightStatsOf,
  weightsTimeout,
  type LayerWeightStats,
} from './weights.js';
import type { WeightsRequest, WeightsResponse } from './weights-worker.js';

/** Most bytes of weight matrices copied to the worker; larger models compute in-thread, without a copy. */
export const OFFLOAD_MAX_BYTES = 512 * 1024 * 1024;

/**
 * Environment switch: unset = a worker when one can start, else in-thread; "0" = always in-thread (debugging,
 * or a runtime without workers); "1" = a worker or an error for models within OFFLOAD_MAX_BYTES (the tests
 * prove the bundled worker ships).
 */
export const WEIGHTS_WORKER_ENV = 'FINGERPRINT_WEIGHTS_WORKER';

/**
 * Where the worker script sits, by layout: beside this module when compiled (lib/), in dist/weights-worker/
 * beside the bundles (dist/main, dist/cli), or, when this module runs as TypeScript source (tsx, jest), the
 * repository's committed bundle dist/weights-worker/ (a worker thread cannot load TypeScript: the tsx
 * loader does not reach it, measured; CI checks that dist/ matches the source).
 */
export function workerScript(here = path.dirname(fileURLToPath(import.meta.url))): string | null {
  const candidates = [
    path.join(here, 'weights-worker.js'),
    path.join(here, '..', 'weights-worker', 'index.js'),
    path.join(here, '..', '..', 'dist', 'weights-worker', 'index.js'),
  ];
  return candidates.find((f) => existsSync(f)) ?? null;
}

interface Pending {
  resolve: (rows: number[][]) => void;
  reject: (e: Error) => void;
}

class WeightsWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  /** The id of the request given up on (weights-worker.ts reads it between matrices). */
  private readonly cancel = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 1;
  dead = false;

  /** Whether the worker ever answered (one that fails before its first answer cannot run here). */
  answered = false;

  constructor(
    readonly script: string,
    onUnusable: () => void,
  ) {
    this.worker = new Worker(script, { workerData: { cancel: this.cancel.buffer } });
    this.worker.unref();
    this.worker.on('message', (res: WeightsResponse) => {
      this.answered = true;
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      if (this.pending.size === 0) this.worker.unref();
      if ('error' in res) p.reject(new Error(res.error));
      else p.resolve(res.rows);
    });
    const fail = (e: Error): void => {
      if (!this.answered && !this.dead) onUnusable();
      this.dead = true;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      this.worker.unref();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`weight statistics worker exited (code ${code})`)));
  }

  compute(matrices: WeightsRequest['matrices']): { id: number; rows: Promise<number[][]> } {
    const id = this.nextId++;
    const rows = new Promise<number[][]>((resolve, reject) => {
      // referenced while work is pending (an awaited answer must keep the process alive), unref'd when idle
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      const req: WeightsRequest = { id, matrices };
      this.worker.postMessage(
        req,
        matrices.map((m) => m.values.buffer as ArrayBuffer),
      );
    });
    return { id, rows };
  }

  /**
   * Gives up on request `id`: the worker drops it before its next matrix, and its answer is ignored. The
   * request stays pending (the worker stays referenced) until that answer, so the process does not exit
   * while the worker is inside a native call.
   */
  abandon(id: number): void {
    Atomics.store(this.cancel, 0, id);
    const p = this.pending.get(id);
    if (p) this.pending.set(id, { resolve: () => undefined, reject: () => undefined });
  }

  async terminate(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }
}

/** Whether `a` is the whole of its own buffer, and that buffer is not the model's. */
function ownsBuffer(a: Float32Array | Float64Array, modelBuffer: ArrayBufferLike): boolean {
  return a.buffer !== modelBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
}

let shared: WeightsWorker | null = null;
let unavailable = false;

function workerFor(script?: string): WeightsWorker | null {
  const mode = process.env[WEIGHTS_WORKER_ENV];
  if (mode === '0') return null;
  if (shared && !shared.dead && (!script || shared.script === script)) return shared;
  const file = script ?? (unavailable ? null : workerScript());
  if (!file) {
    unavailable = true;
    if (mode === '1') {
      throw new Error(`${WEIGHTS_WORKER_ENV}=1 but the weight statistics worker script was not found`);
    }
    return null;
  }
  // a discovered script that cannot even start is not retried for every model
  const markUnusable = (): void => {
    if (!script) unavailable = true;
  };
  try {
    shared = new WeightsWorker(file, markUnusable);
    return shared;
  } catch (e) {
    markUnusable();
    if (mode === '1') throw e;
    return null;
  }
}

/** Stops the shared worker (tests; a process exits without it, the worker is unref'd). */
export async function stopWeightsWorker(): Promise<void> {
  const w = shared;
  shared = null;
  await w?.terminate();
}

/**
 * layerWeightStats, computed on the worker thread; resolves to the same block. Call it before the probe
 * pass and await it after. Rejects with the timeout InputError past `deadline`.
 */
export async function layerWeightStatsOffloaded(
  model: OnnxModel,
  opts: {
    deadline?: number;
    limitMs?: number;
    /** The worker script (default: workerScript()). */ script?: string;
  } = {},
): Promise<LayerWeightStats> {
  const plan = layerWeightPlan(model);
  if (plan.matrices.length === 0) return assembleLayerStats(plan, []);
  // the worker gets copies: past the budget (a model of gigabytes) the in-thread path reads the weights in place
  const bytes = plan.matrices.reduce((s, m) => s + m.values.byteLength, 0);
  const worker = bytes <= OFFLOAD_MAX_BYTES ? workerFor(opts.script) : null;
  if (!worker) return layerWeightStatsOf(model, plan, opts);
  // Transferred, so never a view into the model's bytes (the transfer would detach them): such views are
  // copied, while the copies constantFloat32 already made (unaligned raw data) are handed over as they are.
  const matrices = plan.matrices.map((m) => ({
    values: ownsBuffer(m.values, model.bytes.buffer) ? m.values : m.values.slice(),
    rows: m.rows,
    cols: m.cols,
  }));
  const { id, rows: work } = worker.compute(matrices);
  let timer: NodeJS.Timeout | undefined;
  let timedOut: Error | null = null;
  const limit =
    opts.deadline === undefined
      ? null
      : new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject((timedOut = weightsTimeout(model, opts.limitMs))),
            Math.max(0, (opts.deadline as number) - Date.now()),
          );
        });
  try {
    const rows = await (limit ? Promise.race([work, limit]) : work);
    return assembleLayerStats(plan, rows);
  } catch (e) {
    if (e === timedOut) {
      // the worker may be deep inside one matrix: it drops this request at the next one and serves the next
      // model after that (terminating it mid-call could abort the process: see the header)
      worker.abandon(id);
      throw e;
    }
    // the worker failed (crashed, or refused the data): the in-thread path gives the same numbers
    if (process.env[WEIGHTS_WORKER_ENV] === '1') throw e;
    // a fresh plan: the matrices handed over without a copy were detached by the transfer
    return layerWeightStats(model, opts);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
