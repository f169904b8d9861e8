/**
 * Worker-thread entry of the weight statistics (src/fingerprint/weights-offload.ts): receives weight matrices
 * (copies, transferred) and answers with each one's [Frobenius norm, sigma1, sigma2], computed by the very
 * functions the in-thread path uses (weights.ts matrixStats), so both give the same numbers bit for bit.
 * It reads nothing else and runs nothing from the model: the matrices are plain numbers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { matrixStats } from './weights.js';

/**
 * Cooperative stop: the main thread writes the id of a request it gave up on (its model's time limit) into
 * this shared cell, and the request stops before its next matrix. The main thread never terminates the
 * thread mid-work: onnxruntime-node aborts the whole process when its environment is torn down inside a
 * native call (seen as "terminate called after throwing an instance of 'Napi::Error'").
 */
const cancelled: Int32Array | null =
  workerData && (workerData as { cancel?: SharedArrayBuffer }).cancel
    ? new Int32Array((workerData as { cancel: SharedArrayBuffer }).cancel)
    : null;

/** A request: matrices as typed arrays with their shapes. */
export interface WeightsRequest {
  id: number;
  matrices: { values: Float32Array | Float64Array; rows: number; cols: number }[];
}

/** The answer: one row of three values per matrix, or the error message. */
export type WeightsResponse = { id: number; rows: number[][] } | { id: number; error: string };

parentPort?.on('message', (req: WeightsRequest) => {
  let res: WeightsResponse;
  try {
    const rows: number[][] = [];
    for (const m of req.matrices) {
      if (cancelled && Atomics.load(cancelled, 0) === req.id) break;
      rows.push(matrixStats(m.values, m.rows, m.cols));
    }
    res =
      rows.length === req.matrices.length
        ? { id: req.id, rows }
        : { id: req.id, error: `request ${req.id} cancelled` };
  } catch (e) {
    res = { id: req.id, error: e instanceof Error ? e.message : String(e) };
  }
  parentPort?.postMessage(res);
});
