/**
 * Which candidates trigger probing screens when its budget affords only a prefix of them. The candidate
 * list is in priority order (guided triggers, corner patches, random patches, sparse pixels, blends,
 * warps: src/selfcheck/triggers.ts), and a plain prefix spends a short budget on patches alone: on a
 * 43-class GTSRB DeepID at the default budget (about 4,000 passes) the pixel and blend tiers got no
 * candidate at all, and the class-anomaly score cannot run a test on a cell nobody searched, so the scan
 * reported the model "not assessed" (bench/results/refree.md).
 *
 * The plan: when the prefix leaves a (family, tier) cell of the candidate list empty, COVER_SHARE of the
 * screened candidates are dealt round-robin over the cells first (each cell's own priority order kept),
 * and the rest go to the remaining candidates in priority order. When the prefix already reaches every cell
 * (every model the budget lets screen enough, e.g. the MNIST, 8x8 and Fashion-MNIST zoos) the prefix is
 * kept exactly, so those scans are unchanged.
 */
import type { Trigger } from './triggers.js';

/**
 * Share of the screened candidates spread evenly over the cells when the prefix misses one. Half: every
 * cell gets a few candidates (each class is still searched alike within a cell, which is all the class-
 * anomaly test needs), while the common attack (corner and random patches) keeps half of a short budget.
 */
export const COVER_SHARE = 0.5;

const cellKey = (t: Pick<Trigger, 'kind' | 'tier'>): string => `${t.kind}:${t.tier}`;

/** The `n` candidates to screen, in the list's priority order (see the header). */
export function screenedCandidates<T extends Pick<Trigger, 'kind' | 'tier'>>(
  all: readonly T[],
  n: number,
): T[] {
  if (n >= all.length) return [...all];
  const prefix = all.slice(0, Math.max(0, n));
  const reached = new Set(prefix.map(cellKey));
  const queues = new Map<string, number[]>();
  all.forEach((t, i) => {
    const key = cellKey(t);
    queues.set(key, [...(queues.get(key) ?? []), i]);
  });
  if ([...queues.keys()].every((k) => reached.has(k))) return prefix;
  const picked = new Set<number>();
  const spread = Math.floor(n * COVER_SHARE);
  const lists = [...queues.values()];
  for (let round = 0; picked.size < spread; round++) {
    let any = false;
    for (const q of lists) {
      if (picked.size >= spread) break;
      if (round < q.length) {
        picked.add(q[round]);
        any = true;
      }
    }
    if (!any) break;
  }
  for (let i = 0; i < all.length && picked.size < n; i++) picked.add(i);
  return [...picked].sort((a, b) => a - b).map((i) => all[i]);
}
