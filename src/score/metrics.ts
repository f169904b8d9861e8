/**
 * Detection metrics for the benchmarks and tests: AUROC with ties counted half (exactly scikit-learn's
 * roc_auc_score, via mid-ranks = the Mann-Whitney U statistic) and the best TPR among thresholds whose
 * FPR is at most a bound (0.10 by default), thresholds taken at every distinct score, "flag if >= t".
 */

/** AUROC of `scores` for binary `labels` (1 = positive = anomalous). */
export function auroc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = labels.length;
  if (scores.length !== n) throw new Error('auroc: labels and scores differ in length');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  const ranks = new Float64Array(n);
  for (let s = 0; s < n;) {
    let e = s;
    while (e + 1 < n && scores[order[e + 1]] === scores[order[s]]) e++;
    const mid = (s + e) / 2 + 1; // 1-based mid-rank of the tie group
    for (let t = s; t <= e; t++) ranks[order[t]] = mid;
    s = e + 1;
  }
  let nPos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] === 1) {
      nPos++;
      rankSum += ranks[i];
    }
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) throw new Error('auroc: needs both positive and negative labels');
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Best TPR among thresholds t (flag score >= t) with FPR <= maxFpr. */
export function tprAtFpr(labels: ArrayLike<number>, scores: ArrayLike<number>, maxFpr = 0.1): number {
  const n = labels.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) nPos++;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) throw new Error('tprAtFpr: needs both positive and negative labels');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let best = 0;
  let tp = 0;
  let fp = 0;
  for (let s = 0; s < n;) {
    let e = s;
    while (e + 1 < n && scores[order[e + 1]] === scores[order[s]]) e++;
    for (let t = s; t <= e; t++) {
      if (labels[order[t]] === 1) tp++;
      else fp++;
    }
    if (fp / nNeg <= maxFpr) best = Math.max(best, tp / nPos);
    s = e + 1;
  }
  return best;
}
