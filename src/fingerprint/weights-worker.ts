/**
 * Worker-thread entry of the weight statistics (src/fingerprint/weights-offload.ts): receives weight matrices
 * (copies, transferred) and answers with each one's [Frobenius norm, sigma1, sigma2], computed by the very
 * functions the in-thread path uses (weights.ts matrixStats), so both give the same numbers bit for bit.
 * It reads nothing else and runs nothing from the model: the matrices are plain numbers.
 */
import { parentPort } from 'node:worker_threads';
import { matrixStats } from './weights.js';

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
    res = { id: req.id, rows: req.matrices.map((m) => matrixStats(m.values, m.rows, m.cols)) };
  } catch (e) {
    res = { id: req.id, error: e instanceof Error ? e.message : String(e) };
  }
  parentPort?.postMessage(res);
});
