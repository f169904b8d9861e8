/**
 * One zoo model as the trigger search sees it: an ONNX Runtime session on one thread (the benches run beside
 * other work on 2 cores, and one thread keeps their timings comparable) wrapped as the RunLogits the
 * product's probing takes. Shared by bench/inversion.ts, bench/synth.ts and bench/selfcheck-eval.ts.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { RunLogits } from '../../src/selfcheck/budgeted-runner.js';

export interface LogitsSession {
  run: RunLogits;
  release(): Promise<void>;
}

/** A session on `file` feeding `inputName` ([n, ...shape] float32) and returning `outputName`'s values. */
export async function logitsSession(
  file: string,
  io: { inputName: string; outputName: string },
  shape: readonly number[],
): Promise<LogitsSession> {
  const session = await ort.InferenceSession.create(readFileSync(file), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const run: RunLogits = async (x, n) => {
    const out = await session.run({ [io.inputName]: new ort.Tensor('float32', x, [n, ...shape]) });
    return out[io.outputName].data as Float32Array;
  };
  return { run, release: () => session.release() };
}
