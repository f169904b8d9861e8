/** The fingerprint's one time limit, applied to trigger probing's model runs (images and tokens alike). */
import { InputError } from '../errors.js';
import { TIME_LIMIT_FIX } from '../limits.js';

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
    if (deadline !== undefined && Date.now() > deadline) {
      const secs = ((limitMs ?? 0) / 1000).toFixed(1).replace(/\.0$/, '');
      throw new InputError(
        'timeout',
        `${file}: fingerprinting took longer than the ${secs} s limit (trigger probing); ${TIME_LIMIT_FIX}, or give a smaller --budget`,
        file,
      );
    }
    return logits(inputs, count);
  };
}
