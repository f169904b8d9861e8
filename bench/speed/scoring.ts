/**
 * Section "scoring" of the speed benchmark: the default ensemble (src/baseline/config.ts) fitted on N
 * random reference fingerprints of D dims (one block "logits"), then 20 more scored one by one, as a scan
 * does. The "sklearn-set" variant times our LOF + One-Class SVM + Isolation Forest + PCA-Mahalanobis the
 * way the scikit-learn comparison was timed (plain fit on all references, then score the 20: no
 * cross-fitting), and also as a full calibrated ensemble of those four channels.
 */
import { baselineEnsembleConfig } from '../../src/baseline/config.js';
import type { DetectorName } from '../../src/detect/detector.js';
import { mat } from '../../src/detect/linalg.js';
import { createDetector } from '../../src/detect/registry.js';
import { Rng } from '../../src/probes/rng.js';
import { fitEnsemble, scoreEnsemble, type EnsembleConfig } from '../../src/score/ensemble.js';
import { peakRssMb, timeIt } from './common.js';

export const SCORED_MODELS = 20;
export const SKLEARN_SET: DetectorName[] = ['lof', 'ocsvm', 'isolation_forest', 'pca_mahalanobis'];

export interface ScoringResult {
  set: 'default' | 'sklearn-set';
  refs: number;
  dims: number;
  channels: string[];
  /** fitEnsemble: detectors + cross-fitted calibration. */
  fitMs: number;
  /** scoreEnsemble of SCORED_MODELS fingerprints, in total. */
  scoreMs: number;
  /** sklearn-set only: plain fit of the four detectors on all references + scoring the 20 (what sklearn's 9.5 s covers). */
  plainFitScoreMs?: number;
  plainPerDetectorMs?: Record<string, number>;
  peakRssMb: number;
}

function randomRows(n: number, d: number, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  // a shared mean direction plus per-model noise, like fingerprints of one architecture
  const base = rng.normals(d);
  return Array.from({ length: n }, () => {
    const r = rng.normals(d);
    for (let j = 0; j < d; j++) r[j] = base[j] + 0.5 * r[j];
    return r;
  });
}

export async function runScoring(
  refs: number,
  dims: number,
  set: 'default' | 'sklearn-set',
): Promise<ScoringResult> {
  const rows = randomRows(refs + SCORED_MODELS, dims, 11);
  const refBlocks = rows.slice(0, refs).map((r) => ({ logits: r }));
  const ids = refBlocks.map((_, i) => `ref-${String(i).padStart(5, '0')}`);
  const news = rows.slice(refs).map((r) => ({ logits: r }));
  const config: EnsembleConfig =
    set === 'default'
      ? baselineEnsembleConfig(refBlocks[0], refs)
      : {
          channels: SKLEARN_SET.map((detector) => ({ representation: 'logits', detector, params: {} })),
          folds: 10,
        };
  let plainFitScoreMs: number | undefined;
  let plainPerDetectorMs: Record<string, number> | undefined;
  if (set === 'sklearn-set') {
    // first, so the Gram cache of the ensemble's own stacked block cannot help it
    const X = mat(refs, dims, new Float32Array(refs * dims));
    refBlocks.forEach((b, i) => (X.data as Float32Array).set(b.logits, i * dims));
    const Y = mat(SCORED_MODELS, dims, new Float32Array(SCORED_MODELS * dims));
    news.forEach((b, i) => (Y.data as Float32Array).set(b.logits, i * dims));
    plainPerDetectorMs = {};
    const t0 = performance.now();
    for (const name of SKLEARN_SET) {
      const t = performance.now();
      const det = createDetector(name, {});
      det.fit(X);
      det.score(Y);
      plainPerDetectorMs[name] = performance.now() - t;
    }
    plainFitScoreMs = performance.now() - t0;
  }
  const fit = await timeIt(() => fitEnsemble(refBlocks, ids, config));
  const score = await timeIt(() => {
    for (const b of news) scoreEnsemble(fit.value, b);
  });
  return {
    set,
    refs,
    dims,
    channels: config.channels.map((c) => `${c.detector}@${c.representation}`),
    fitMs: fit.ms,
    scoreMs: score.ms,
    plainFitScoreMs,
    plainPerDetectorMs,
    peakRssMb: peakRssMb(),
  };
}
