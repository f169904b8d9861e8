/**
 * Which fingerprint blocks and detectors the default ensemble uses, and how their channels are combined,
 * chosen by `npm run bench:detect` on the MNIST model zoo (bench/results/detect.md, "Candidate ensembles"):
 *
 *   blocks     what the model does, class-aligned: logits, softmax-stats, the per-class trigger block, its
 *              per-strength-tier form (trigger-tiers), and the self-check scalars. Class k means the same
 *              thing in every model of a task, so these compare across independently trained models. The
 *              hidden-layer summaries (gram:*, sorted:*) are permutation-invariant but weaker, and the weight
 *              statistics (weights:*) are weak channels too: in Fisher's mean each diluted the strong ones.
 *   detectors  kNN distance, the RBF one-class SVM and max_z (the largest per-feature robust z): kNN and
 *              the SVM see a model that differs everywhere a little, max_z one that differs a lot in one
 *              place (one class at one trigger strength), which distances over 240 features dilute. LOF
 *              needs more references than a small baseline has (its local density is noisy at 20), and
 *              the density/reconstruction detectors (GMM, autoencoder) cost far more for no gain. Below
 *              SMALL_BASELINE_REFERENCES references: kNN and distance to the mean.
 *   rule       Fisher (mean -ln p), re-calibrated on the references: beat min-p, top-k and Cauchy on every
 *              block and detector set measured (the evidence is spread over correlated channels).
 *   measured   bench "Variants of the shipped default" (stop 11): adding trigger-tiers and max_z raised the
 *              AUROC in all 8 cells (CNN/MLP x generated probes/samples x 80/20 references), e.g. CNN with
 *              samples 0.956 -> 0.964 (80) and 0.955 -> 0.972 (20), CNN with generated probes 0.947 ->
 *              0.960, the worst 20-reference draw in every cell, with no clean test model called high.
 *              The variant chosen is the uniform one (the same three detectors on every block); per-block
 *              detector sets (DEFAULT_BLOCK_DETECTORS) measured no better.
 *
 * Raw hidden activations (raw:*) are never used: hidden units of independently trained models are
 * permuted, so they are not comparable across models (the bench's "naive" rows measure it). One-value
 * self-check blocks (self:*) go through `identity` (their value is already a statistic; the calibrator
 * ranks it among the references').
 */
import type { DetectorName, DetectorParams } from '../detect/detector.js';
import { EMBEDDING_BLOCK } from '../fingerprint/embedding-stats.js';
import { TOKEN_GAIN_MAP_BLOCK } from '../selfcheck/token-probe.js';
import { DEFAULT_FOLDS } from '../score/calibrate.js';
import type { CombineSpec } from '../score/combine.js';
import { isSelfCheckBlock, type ChannelConfig, type EnsembleConfig } from '../score/ensemble.js';

/** Block name prefixes the default ensemble reads ("name" matches exactly, "name:" any "name:..."). */
export const DEFAULT_BLOCK_PREFIXES = ['logits', 'softmax-stats', 'trigger', 'trigger-tiers', 'self:'];

/** Block prefixes never used by default, whatever the prefixes say (not comparable across models). */
export const EXCLUDED_BLOCK_PREFIXES = ['raw:'];

/** Detectors run on every chosen multi-value block. */
export const DEFAULT_DETECTORS: DetectorName[] = ['knn', 'ocsvm', 'max_z'];

/**
 * Blocks whose channels use their own detectors instead of the block-wide set above (matched like the
 * block prefixes). Empty by default; see bench/results/detect.md for the measured per-block choices.
 */
export const DEFAULT_BLOCK_DETECTORS: Record<string, DetectorName[]> = {};

/**
 * Widest block max_z reads. Its cross-fitting takes two selections per feature, fold and reference
 * (~7 s on 1000 references x 16384 features, where kNN and the SVM together take ~1.5 s), and the blocks
 * it was measured on are far narrower (logits 640, trigger-tiers 240 for ten classes): wider blocks
 * (many classes, or custom probe counts) keep kNN and the SVM only.
 */
export const MAX_Z_MAX_FEATURES = 2048;

/**
 * The position-aligned patch map (fingerprint block "trigger-map": per solid patch position and class,
 * the share of the map's inputs sent into the class) is a test of its own, not one more channel of the
 * Fisher mean: a backdoor that every other channel calls typical (the zoo's adaptive attacker, trained to
 * look clean to our probes) lights up ONE of thousands of features, and a mean over 14 channels dilutes
 * one small p-value away (measured: a position map added as a Fisher channel left that model at p 0.8-1).
 * It is calibrated on the references like every channel and enters the verdict beside the ensemble and the
 * trigger test by Bonferroni (src/score/final.ts). The detector is max_z on the MAD alone (see
 * src/detect/max-z.ts); the floor: a flip-rate deviation below a tenth is not evidence (on a small model the
 * map is measured on up to 64 samples, sweep.ts MAP_INPUTS; a model too big for that keeps the sweep's 8
 * inputs, where one input is 0.125). The block exists when the triggers were stamped on the user's samples
 * or on a base mined per model (src/fingerprint/extract.ts), never on the plain probe set.
 */
export const TRIGGER_MAP_BLOCK = 'trigger-map';
export const TRIGGER_MAP_MAD_FLOOR = 0.1;
/**
 * A text model's token GAIN map (fingerprint block "trigger-gain-map": per token id and class, the mean margin
 * gain into the class, in clean-logit spreads, of inserting that one word into the screened texts;
 * src/selfcheck/token-probe.ts gainMap) is the text models' separate test in place of the token map's flip
 * shares, which it subsumes (a word that flips texts has a large gain). Why: a flip share of ~8-16 texts is a
 * count of one or two texts, coarser than any floor assumes, so a common class word that happened to flip two
 * texts called clean bags high (bench/text/findings.md: 2 of 20 with 20 references); and a word of a sentence
 * trigger moves the margin toward the target without flipping any text alone, which only the gain shows.
 * max_z on the MAD floored at TOKEN_GAIN_MAP_MAD_FLOOR (the token map's rule, the floor in logit spreads).
 * Chosen on the text zoo's dev split only (20 references, held-out texts; the test split is what bench:text
 * reports): max_z AUROC of the gain map against the flip map, CNN 0.858 vs 0.762 (sentences 0.70 vs 0.95,
 * decoyed sentences 0.80 vs 0.23, decoyed phrases 0.65 vs 0.40), bag 1.000 vs 1.000; floors 0.25-1 and the
 * max(MAD, sd) spread were no better on the CNN's dev split (0.75-0.90, within its 22 models' noise).
 */
export { TOKEN_GAIN_MAP_BLOCK };
/** A gain deviation below a tenth of a clean-logit spread is not evidence (as for the flip map's shares). */
export const TOKEN_GAIN_MAP_MAD_FLOOR = 0.1;

/**
 * A text model's per-token embedding norms ("weights:embedding", token-aligned across models of one
 * vocabulary: src/fingerprint/embedding-stats.ts) are a separate test too, for the same reason: a trigger word
 * trained into a target class by the poisoned texts has a row far longer than the same word's row in clean
 * models, ONE feature of thousands. max_z with its default spread (the larger of MAD and standard deviation,
 * relative floor). Measured on the text zoo's dev split (bench/text, embedding bags, 40 references): the
 * largest per-token z of the 10 clean dev models 2.8-3.8, of the 10 backdoored 6.0-24.5 (every attack, the
 * decoy attacker's included), AUROC 1.000; the test split is reported by bench:text.
 */
export const SEPARATE_TEST_CHANNELS: readonly ChannelConfig[] = [
  {
    representation: TRIGGER_MAP_BLOCK,
    detector: 'max_z',
    params: { madFloor: TRIGGER_MAP_MAD_FLOOR },
    separate: true,
  },
  {
    representation: TOKEN_GAIN_MAP_BLOCK,
    detector: 'max_z',
    params: { madFloor: TOKEN_GAIN_MAP_MAD_FLOOR },
    separate: true,
  },
  { representation: EMBEDDING_BLOCK, detector: 'max_z', params: {}, separate: true },
];

/** A separate test left out when the named block is present: the gain map replaces a text model's token map. */
const SUPERSEDED_BY: Record<string, string> = { [TRIGGER_MAP_BLOCK]: TOKEN_GAIN_MAP_BLOCK };

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
  /** Add SEPARATE_TEST_CHANNELS whose block is present (default true; the bench compares without). */
  separateTests?: boolean;
  detectors?: DetectorName[];
  /** Per block prefix, detectors that replace `detectors` on the matching blocks (first match wins). */
  blockDetectors?: Record<string, DetectorName[]>;
}

/** The detectors of one block: its own entry in `perBlock` if a prefix matches, else `fallback`. */
export function detectorsForBlock(
  name: string,
  fallback: DetectorName[],
  perBlock: Record<string, DetectorName[]> = DEFAULT_BLOCK_DETECTORS,
): DetectorName[] {
  const hit = Object.keys(perBlock).find((p) => matches(name, p));
  return hit === undefined ? fallback : perBlock[hit];
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
    for (const detector of detectorsForBlock(name, detectors, choice.blockDetectors)) {
      if (detector === 'identity') continue;
      if (detector === 'max_z' && blockSizes[name] > MAX_Z_MAX_FEATURES) continue;
      channels.push({ representation: name, detector, params: detectorParams(detector, nRefs) });
    }
  }
  channels.sort((a, b) => Number(a.detector === 'identity') - Number(b.detector === 'identity'));
  // Separate tests last (the first channel's block serves the nearest-reference explanation). With a small
  // baseline they are left out: a third Bonferroni test costs power that a few references cannot repay.
  if ((choice.separateTests ?? true) && nRefs >= SMALL_BASELINE_REFERENCES)
    for (const t of SEPARATE_TEST_CHANNELS) {
      const by = SUPERSEDED_BY[t.representation];
      if (by !== undefined && blockSizes[by] !== undefined) continue;
      if (blockSizes[t.representation] !== undefined) channels.push({ ...t, params: { ...t.params } });
    }
  return channels;
}

export function baselineEnsembleConfig(blocks: Record<string, Float32Array>, nRefs: number): EnsembleConfig {
  const sizes = Object.fromEntries(Object.entries(blocks).map(([n, b]) => [n, b.length]));
  return { channels: selectChannels(sizes, nRefs), folds: DEFAULT_FOLDS };
}
