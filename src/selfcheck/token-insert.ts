/**
 * Inserting candidate trigger tokens into texts of token ids, the way text backdoors are planted: the
 * trigger (a word, a phrase) goes in before a random word of the text, the rest of the text moves right, and
 * whatever passes the end of the model's window is cut. Texts are padded at the end with `pad`; a text's
 * length is the number of tokens before its trailing run of padding. The position is drawn so that the whole
 * trigger stays inside the window.
 */
import type { Rng } from '../probes/rng.js';

/** Tokens before the trailing run of `pad` in each of `count` texts of `seq` ids (seq without padding). */
export function textLengths(
  ids: Int32Array,
  count: number,
  seq: number,
  pad: number | undefined,
): Int32Array {
  const out = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    let len = seq;
    if (pad !== undefined) while (len > 0 && ids[r * seq + len - 1] === pad) len--;
    out[r] = len;
  }
  return out;
}

/** One random insertion position per row, in [0, min(length, seq - triggerLength)]. */
export function insertionPositions(
  lengths: Int32Array,
  rows: readonly number[],
  seq: number,
  triggerLength: number,
  rng: Rng,
): Int32Array {
  return Int32Array.from(rows, (r) => rng.int(Math.max(0, Math.min(lengths[r], seq - triggerLength)) + 1));
}

/**
 * Writes text `src` (seq ids) with `trigger` inserted at `pos` into `dst` (seq ids): src[0..pos) + trigger +
 * src[pos..], cut to seq.
 */
export function insertTokens(
  src: Int32Array,
  trigger: ArrayLike<number>,
  pos: number,
  dst: Int32Array,
): void {
  const seq = dst.length;
  const p = Math.min(pos, seq);
  dst.set(src.subarray(0, p), 0);
  const t = Math.min(trigger.length, seq - p);
  for (let i = 0; i < t; i++) dst[p + i] = trigger[i];
  const rest = seq - p - t;
  if (rest > 0) dst.set(src.subarray(p, p + rest), p + t);
}
