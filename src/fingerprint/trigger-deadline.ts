/** The fingerprint's one time limit, applied to trigger probing's model runs (images and tokens alike). */
import { timeLimitError } from '../time-limit-error.js';

/**
 * `logits` with the model's one time limit checked before every batch: trigger probing (stamped images or
 * inserted tokens) stops with a timeout error naming the file once the fingerprint's deadline has passed.
 */
export function withDeadline<In>(
  logits: (inputs: In, count: number) => Promise<Float32Array>,
  file: string,
  deadline?: number,
  limitMs?: number,
): (inputs: In, count: number) => Promise<Float32Array> {
  return async (inputs, count) => {
    if (deadline !== undefined && Date.now() > deadline)
      throw timeLimitError(file, 'trigger probing', limitMs);
    return logits(inputs, count);
  };
}
