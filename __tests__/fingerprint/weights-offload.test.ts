/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * The weights:layers statistics on the worker thread (src/fingerprint/weights-offload.ts) against the
 * in-thread path: the same rows bit for bit on a real model with a matrix large enough for the block Krylov
 * estimate through ONNX Runtime; the model's time limit stops the worker with the in-thread path's error, and
 * the next request gets a fresh worker; the worker script is found in each layout (lib/, dist/, src/).
 * From the source (as here) the worker runs from the committed bundle dist/weights-worker, which CI checks
 * matches the source; a worker that cannot start leaves the statistics in-thread, unchanged.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseModel } from '../../src/model/read.js';
import { writeSequentialModel } from '../../src/model/write.js';
import { Rng } from '../../src/probes/rng.js';
import { EXACT_SVD_MAX_WORK, layerWeightStats } from '../../src/fingerprint/weights.js';
import {
  WEIGHTS_WORKER_ENV,
  layerWeightStatsOffloaded,
  stopWeightsWorker,
  workerScript,
} from '../../src/fingerprint/weights-offload.js';
import { Worker } from 'node:worker_threads';
import { InputError } from '../../src/errors.js';
import { dense } from '../fixtures/models.js';

/** 64 -> 300 -> relu -> 1500 -> relu -> 10: the 1500 x 300 weight (300² · 1500 multiply-adds) takes the Krylov path. */
function model() {
  const rng = new Rng(31);
  const bytes = writeSequentialModel({
    inputShape: ['N', 64],
    layers: [
      dense(rng, 64, 300),
      { kind: 'relu' },
      dense(rng, 300, 1500),
      { kind: 'relu' },
      dense(rng, 1500, 10),
    ],
  });
  return parseModel(bytes, 'offload.onnx');
}

/** The bundled worker the action and the CLI start. */
const DIST_WORKER = path.resolve('dist/weights-worker/index.js');

const saved = process.env[WEIGHTS_WORKER_ENV];
afterEach(() => {
  if (saved === undefined) delete process.env[WEIGHTS_WORKER_ENV];
  else process.env[WEIGHTS_WORKER_ENV] = saved;
});
afterAll(async () => {
  await stopWeightsWorker();
});

test('the worker thread gives the in-thread rows bit for bit, including a Krylov-sized matrix', async () => {
  expect(300 * 300 * 1500).toBeGreaterThan(EXACT_SVD_MAX_WORK);
  const m = model();
  const inThread = layerWeightStats(m);
  process.env[WEIGHTS_WORKER_ENV] = '1'; // a worker or an error: this test must not pass on the fallback
  const first = await layerWeightStatsOffloaded(m, { script: DIST_WORKER });
  const again = await layerWeightStatsOffloaded(m, { script: DIST_WORKER }); // the same worker, reused
  expect(first.names).toEqual(inThread.names);
  expect(first.names).toHaveLength(3);
  expect(Array.from(first.block)).toEqual(Array.from(inThread.block));
  expect(Array.from(again.block)).toEqual(Array.from(inThread.block));
  // the model's own bytes were not detached by the transfer: the in-thread path still reads them
  expect(Array.from(layerWeightStats(m).block)).toEqual(Array.from(inThread.block));
});

test('past the time limit the timeout error comes at once, and the same worker serves the next model', async () => {
  const m = model();
  process.env[WEIGHTS_WORKER_ENV] = '1';
  const late = layerWeightStatsOffloaded(m, { deadline: Date.now(), limitMs: 1, script: DIST_WORKER });
  await expect(late).rejects.toThrow(InputError);
  await expect(late).rejects.toThrow(
    /offload\.onnx: fingerprinting took longer than the .* limit \(weight statistics\)/,
  );
  const next = await layerWeightStatsOffloaded(m, { script: DIST_WORKER });
  expect(Array.from(next.block)).toEqual(Array.from(layerWeightStats(m).block));
});

test('the worker drops a request the main thread gave up on before its next matrix, and serves the next one', async () => {
  // the cooperative stop that replaces terminating the thread (which can abort the process inside ORT)
  const matrices = () => [{ values: new Float32Array(64 * 300).fill(0.5), rows: 64, cols: 300 }];
  const cancel = new Int32Array(new SharedArrayBuffer(4));
  Atomics.store(cancel, 0, 1); // request 1 was given up on before it started
  const w = new Worker(DIST_WORKER, { workerData: { cancel: cancel.buffer } });
  try {
    const ask = (id: number) =>
      new Promise<{ id: number; rows?: number[][]; error?: string }>((resolve) => {
        w.once('message', resolve);
        w.postMessage({ id, matrices: matrices() });
      });
    expect(await ask(1)).toEqual({ id: 1, error: 'request 1 cancelled' });
    const ok = await ask(2);
    expect(ok.error).toBeUndefined();
    expect(ok.rows).toHaveLength(1);
    expect(ok.rows?.[0][0]).toBeCloseTo(Math.sqrt(64 * 300 * 0.25), 3); // Frobenius norm of a 0.5 matrix
  } finally {
    await w.terminate();
  }
});

test('a worker that cannot start leaves the statistics in-thread, unchanged', async () => {
  const m = model();
  delete process.env[WEIGHTS_WORKER_ENV];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'badworker-'));
  try {
    const broken = path.join(dir, 'worker.mjs');
    writeFileSync(broken, "throw new Error('cannot start');\n");
    const r = await layerWeightStatsOffloaded(m, { script: broken });
    expect(Array.from(r.block)).toEqual(Array.from(layerWeightStats(m).block));
    // with FINGERPRINT_WEIGHTS_WORKER=1 the same failure is an error, not a silent fallback
    process.env[WEIGHTS_WORKER_ENV] = '1';
    await expect(layerWeightStatsOffloaded(m, { script: broken })).rejects.toThrow(/cannot start/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('from the source, the worker script found is the committed bundle', () => {
  expect(workerScript()).toBe(DIST_WORKER);
});

test('FINGERPRINT_WEIGHTS_WORKER=0 computes in-thread, with the same result', async () => {
  const m = model();
  process.env[WEIGHTS_WORKER_ENV] = '0';
  const r = await layerWeightStatsOffloaded(m);
  expect(Array.from(r.block)).toEqual(Array.from(layerWeightStats(m).block));
});

test('the worker script is found beside the compiled module, beside the bundles, or in dist/ from the source', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wscript-'));
  try {
    const lib = path.join(root, 'lib', 'fingerprint');
    const dist = path.join(root, 'dist');
    const src = path.join(root, 'src', 'fingerprint');
    for (const d of [lib, path.join(dist, 'main'), path.join(dist, 'weights-worker'), src])
      mkdirSync(d, { recursive: true });
    expect(workerScript(lib)).toBeNull();
    writeFileSync(path.join(lib, 'weights-worker.js'), '');
    expect(workerScript(lib)).toBe(path.join(lib, 'weights-worker.js'));
    writeFileSync(path.join(dist, 'weights-worker', 'index.js'), '');
    expect(workerScript(path.join(dist, 'main'))).toBe(path.join(dist, 'weights-worker', 'index.js'));
    // the source layout (src/fingerprint) falls back to the repository's dist/weights-worker
    expect(workerScript(src)).toBe(path.join(root, 'dist', 'weights-worker', 'index.js'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
