/**
 * Weight-space signals of a text model's token embedding: the table a Gather reads with the token-id input
 * (rows = vocabulary entries). A trigger word trained into a target class is pushed far along the target's
 * direction by hundreds of poisoned texts, while a rare word of clean training moves little from where it
 * started: its row's norm stands out. Per token:
 *   norm      the row's L2 norm;
 *   z         its robust z against all rows' norms (median and MAD; all-zero rows, a padding_idx, left out);
 *   offset    the distance of the row from the mean row, as a robust z (a row pulled away in any direction).
 * The per-token norms are token-aligned across models that share a vocabulary (every model of one text
 * architecture), so a baseline can compare token by token ("weights:embedding" block); the largest of the z's
 * is the "embedding-outlier" self-check (no reference-free null: calibrated by a baseline only). The same
 * order ranks trigger candidates when the budget cannot screen every token (src/selfcheck/token-candidates.ts).
 */
import type { OnnxModel } from '../model/types.js';
import { constantFloat32 } from '../model/tensor-data.js';
import { MAD_TO_SD, median } from '../util/robust-stats.js';
import type { SelfCheck } from './types.js';

/** The fingerprint block of per-token embedding norms. */
export const EMBEDDING_BLOCK = 'weights:embedding';

/** The embedding table of a token-id input: [vocab, dim] row-major. */
export interface EmbeddingTable {
  name: string;
  vocab: number;
  dim: number;
  values: Float32Array | Float64Array;
}

export interface EmbeddingStats {
  norms: Float32Array;
  /** Robust z of each row's norm (0 for all-zero rows). */
  normZ: Float32Array;
  /** Robust z of each row's distance from the mean row. */
  offsetZ: Float32Array;
  /** The one all-zero row (PyTorch's padding_idx), when exactly one row is all zeros. */
  zeroRow?: number;
}

/** The table the Gather fed by `inputName` reads (a float initializer of rank 2), or null. */
export function findEmbedding(model: OnnxModel, inputName: string): EmbeddingTable | null {
  for (const n of model.proto.graph?.node ?? []) {
    if (n.opType !== 'Gather' || (n.input ?? [])[1] !== inputName) continue;
    const name = (n.input ?? [])[0];
    const axis = (n.attribute ?? []).find((a) => a.name === 'axis')?.i;
    if (!name || (axis != null && Number(axis) !== 0)) continue;
    const t = constantFloat32(model, name);
    if (!t || t.dims.length !== 2 || t.dims[0] < 2 || t.dims[1] < 1) continue;
    return { name, vocab: t.dims[0], dim: t.dims[1], values: t.values };
  }
  return null;
}

function robustZOf(xs: Float32Array, use: (i: number) => boolean): Float32Array {
  const kept = Array.from(xs).filter((_, i) => use(i));
  const med = median(kept);
  const mad = median(kept.map((x) => Math.abs(x - med)));
  const scale = Math.max(MAD_TO_SD * mad, 1e-12);
  return Float32Array.from(xs, (x, i) => (use(i) ? (x - med) / scale : 0));
}

export function embeddingStats(t: EmbeddingTable): EmbeddingStats {
  const { vocab: v, dim: d, values } = t;
  const norms = new Float32Array(v);
  const mean = new Float64Array(d);
  const zeros: number[] = [];
  for (let r = 0; r < v; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const x = values[r * d + j];
      s += x * x;
      mean[j] += x / v;
    }
    norms[r] = Math.sqrt(s);
    if (s === 0) zeros.push(r);
  }
  const offsets = new Float32Array(v);
  for (let r = 0; r < v; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (values[r * d + j] - mean[j]) ** 2;
    offsets[r] = Math.sqrt(s);
  }
  const nonZero = (i: number) => norms[i] > 0;
  return {
    norms,
    normZ: robustZOf(norms, nonZero),
    offsetZ: robustZOf(offsets, nonZero),
    ...(zeros.length === 1 ? { zeroRow: zeros[0] } : {}),
  };
}

/** Token ids by how far their row stands out (the larger of its two z's), most outlying first. */
export function outlierOrder(s: EmbeddingStats): Int32Array {
  const score = Float32Array.from(s.normZ, (z, i) => Math.max(z, s.offsetZ[i]));
  return Int32Array.from(
    Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[b] - score[a] || a - b),
  );
}

/** The "embedding-outlier" self-check: the token whose row stands out most, and by how much. */
export function embeddingSelfCheck(s: EmbeddingStats): SelfCheck {
  let top = 0;
  let best = -Infinity;
  s.normZ.forEach((z, i) => {
    const v = Math.max(z, s.offsetZ[i]);
    if (v > best) {
      best = v;
      top = i;
    }
  });
  return {
    score: Number.isFinite(best) ? best : 0,
    detail: `token ${top} has the most outlying embedding row (robust z ${best.toFixed(1)} of its norm or offset)`,
  };
}
