/**
 * Which fingerprint blocks and detectors the default ensemble uses, and how their channels are combined,
 * chosen by `npm run bench:detect` on the MNIST model zoo (bench/results/detect.md, "Candidate ensembles"):
 *
 *   blocks     what the model does, class-aligned: logits, softmax-stats, the per-class trigger block, and
 *              the self-check scalars. Class k means the same thing in every model of a task, so these
 *              compare across independently trained models. The hidden-layer summaries (gram:*, sorted:*)
 *              are permutation-invariant but weaker, and the weight statistics (weights:*) are weak
 *              channels too: in Fisher's mean each diluted the strong ones (the bench ranks this set in
 *              the top few of ~500 candidates under each probe configuration; the variants with weights or
 *              gram blocks lower).
 *   detectors  kNN distance and the RBF one-class SVM: the best pair on both architectures, with 80 and
 *              with 20 references; LOF needs more references than a small baseline has (its local density
 *              is noisy at 20), and the density/reconstruction detectors (GMM, autoencoder) cost far more
 *              for no gain. Below SMALL_BASELINE_REFERENCES references: kNN and distance to the mean.
 *   rule       Fisher (mean -ln p), re-calibrated on the references: beat min-p, top-k and Cauchy on every
 *              block and detector set measured (the evidence is spread over correlated channels).
 *
 * Raw hidden activations (raw:*) are never used: hidden units of independently trained models are
 * permuted, so they are not comparable across models (the bench's "naive" rows measure it). One-value
 * self-check blocks (self:*) go through `identity` (their value is already a statistic; the calibrator
 * ranks it among the references').
 */
import type { DetectorName, DetectorParams } from '../detect/detector.js';
import { DEFAULT_FOLDS } from '../score/calibrate.js';
import type { CombineSpec } from '../score/combine.js';
import { isSelfCheckBlock, type ChannelConfig, type EnsembleConfig } from '../score/ensemble.js';

/** Block name prefixes the default ensemble reads ("name" matches exactly, "name:" any "name:..."). */
export const DEFAULT_BLOCK_PREFIXES = ['logits', 'softmax-stats', 'trigger', 'self:'];

/** Block prefixes never used by default, whatever the prefixes say (not comparable across models). */
export const EXCLUDED_BLOCK_PREFIXES = ['raw:'];

/** Detectors run on every chosen multi-value block. */
export const DEFAULT_DETECTORS: DetectorName[] = ['knn', 'ocsvm'];

/** Detectors used instead when the baseline is small. */
export const SMALL_BASELINE_DETECTORS: DetectorName[] = ['knn', 'distance_to_clean_mean'];

/** Below this many references the small-baseline detectors are used. */
export const SMALL_BASELINE_REFERENCES = 12;

/**
 * How the channel p-values are combined (src/score/combine.ts). Fisher is what src/score/ensemble.ts
 * computes; a baseline records this rule in its config so a future switch stays explicit.
 */
export const DEFAULT_COMBINE: CombineSpec = { rule: 'fisher' };

function matches(name: string, prefix: string): boolean {
  return name === prefix || (prefix.endsWith(':') && name.startsWith(prefix));
}

/** The block names the default ensemble reads, in sorted order. */
export function selectBlocks(names: string[], prefixes = DEFAULT_BLOCK_PREFIXES): string[] {
  return names
    .filter((n) => prefixes.some((p) => matches(n, p)) && !EXCLUDED_BLOCK_PREFIXES.some((p) => matches(n, p)))
    .sort();
}

/** Neighbour counts capped to what a cross-fitting fold of n references can hold. */
export function detectorParams(detector: DetectorName, nRefs: number, folds = DEFAULT_FOLDS): DetectorParams {
  const foldTrain = nRefs - Math.ceil(nRefs / Math.max(2, Math.min(folds, nRefs)));
  if (detector === 'lof') return { k: Math.max(1, Math.min(20, foldTrain - 1)) };
  if (detector === 'knn') return { k: Math.max(1, Math.min(5, nRefs - 2)) };
  return {};
}

export interface ChannelChoice {
  prefixes?: string[];
  detectors?: DetectorName[];
}

/**
 * The channels for the blocks present: self-check blocks through identity, the others through each
 * detector. A multi-value block comes first (the ensemble computes "nearest references" on the first
 * channel's block).
 */
export function selectChannels(
  blockSizes: Record<string, number>,
  nRefs: number,
  choice: ChannelChoice = {},
): ChannelConfig[] {
  const detectors =
    choice.detectors ?? (nRefs >= SMALL_BASELINE_REFERENCES ? DEFAULT_DETECTORS : SMALL_BASELINE_DETECTORS);
  const channels: ChannelConfig[] = [];
  for (const name of selectBlocks(Object.keys(blockSizes), choice.prefixes)) {
    if (isSelfCheckBlock(name, blockSizes[name])) {
      channels.push({ representation: name, detector: 'identity' });
      continue;
    }
    for (const detector of detectors) {
      if (detector === 'identity') continue;
      channels.push({ representation: name, detector, params: detectorParams(detector, nRefs) });
    }
  }
  channels.sort((a, b) => Number(a.detector === 'identity') - Number(b.detector === 'identity'));
  return channels;
}

export function baselineEnsembleConfig(blocks: Record<string, Float32Array>, nRefs: number): EnsembleConfig {
  const sizes = Object.fromEntries(Object.entries(blocks).map(([n, b]) => [n, b.length]));
  return { channels: selectChannels(sizes, nRefs), folds: DEFAULT_FOLDS };
}
