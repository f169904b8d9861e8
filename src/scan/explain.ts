/**
 * The per-model explanation: which channels drove the verdict, the nearest clean references (by path),
 * how small a p-value this baseline supports, and what reference-free trigger probing pointed at.
 */
import type { Explanation } from '../report/types.js';
import type { EnsembleVerdict } from '../score/ensemble.js';
import type { FinalVerdict } from '../score/final.js';
import type { Fingerprint } from '../fingerprint/types.js';
import type { BaselineManifest } from '../baseline/store.js';
import { formatPValue } from '../report/numbers.js';
import { TRIGGER_MAP_BLOCK } from '../baseline/config.js';
import { mapFeature } from '../selfcheck/sweep.js';
import { imageGeometry, type ImageGeometry } from '../selfcheck/triggers.js';
import { baselineTriggerSentence, differsSentence } from '../score/finding-words.js';
import { levelOf, riskScore } from '../score/risk.js';

/** The tests besides the ensemble that a verdict can combine (FinalVerdict.combined), in words. */
const TEST_WORDS: Record<string, string> = {
  trigger: 'the trigger test',
  [TRIGGER_MAP_BLOCK]: 'the patch map',
};
/** How many channels an explanation lists. */
export const EXPLANATION_DRIVERS = 5;
/** A trigger-probe p-value at or below this is named in the summary of a model that is not low risk. */
export const TRIGGER_MENTION_P = 0.05;

/** What each fingerprint block measures, in words a reviewer reads in a PR comment (docs/format.md). */
const BLOCK_WORDS: Record<string, string> = {
  logits: 'class scores on the probes',
  'softmax-stats': 'confidence on the probes',
  trigger: 'response to stamped triggers',
  'trigger-tiers': 'response to stamped triggers by strength',
  'weights:final': 'final-layer weights',
  'weights:layers': 'layer weight norms',
  'self:trigger': 'trigger probing score',
  'trigger-map': 'response to a patch at each position (patch map)',
  'self:weight-outlier': 'final-layer weight outlier score',
};
/** Blocks named after a layer: the prefix's words, then the layer. */
const LAYER_BLOCK_WORDS: Record<string, string> = {
  gram: 'activation similarity at',
  sorted: 'activation distribution at',
  raw: 'raw activations at',
};
/** The detectors' names in words (src/detect). `identity` only passes a self-check's own score on. */
const DETECTOR_WORDS: Record<string, string> = {
  knn: 'nearest-neighbour distance',
  lof: 'local outlier factor',
  ocsvm: 'one-class SVM',
  isolation_forest: 'isolation forest',
  pca_mahalanobis: 'PCA Mahalanobis distance',
  gmm: 'Gaussian mixture',
  autoencoder: 'autoencoder error',
  distance_to_clean_mean: 'distance to the clean mean',
  max_z: 'largest per-feature deviation',
};

/**
 * A channel in words, e.g. "response to stamped triggers by strength, one-class SVM" for ocsvm on the
 * trigger-tiers block; the JSON report keeps the channel's id (drivers[].channel) for tools. An unknown block
 * or detector (a newer baseline) falls back to "detector on block".
 */
export function describeChannel(detector: string, representation: string): string {
  // the reference-free trigger test (src/score/final.ts) is not a detector fitted on a block
  if (detector === 'trigger-probe') return 'trigger probing, reference-free';
  const colon = representation.indexOf(':');
  const layerWords = colon > 0 ? LAYER_BLOCK_WORDS[representation.slice(0, colon)] : undefined;
  const block =
    BLOCK_WORDS[representation] ??
    (layerWords ? `${layerWords} ${representation.slice(colon + 1)}` : undefined);
  if (!block) return `${detector.replace(/_/g, '-')} on ${representation}`;
  if (detector === 'identity') return block;
  const how = DETECTOR_WORDS[detector];
  return how ? `${block}, ${how}` : `${block}, ${detector.replace(/_/g, '-')}`;
}

export function selfCheckDetails(
  fp: Fingerprint,
): Pick<Explanation, 'suspectedTargetClass' | 'trigger' | 'multiTarget'> {
  const out: Pick<Explanation, 'suspectedTargetClass' | 'trigger' | 'multiTarget'> = {};
  const trig = fp.selfChecks['trigger'];
  if (trig?.trigger) out.trigger = trig.trigger;
  if (trig?.multiTarget) {
    out.multiTarget = { kind: trig.multiTarget.kind, classes: [...trig.multiTarget.classes] };
    return out;
  }
  const pointing = trig?.targetClass ?? fp.selfChecks['weight-outlier']?.targetClass;
  if (pointing !== undefined) out.suspectedTargetClass = pointing;
  return out;
}

/** What the patch map was measured on, by the trigger check's basis (src/selfcheck/base-inputs.ts). */
const MAP_INPUT_WORDS: Record<string, string> = {
  samples: 'of the samples',
  mined: 'of the inputs mined from the model',
};

/** The patch map's strongest feature, in the report's trigger terms. */
interface MapFinding {
  cls: number;
  location: string;
  flipRate: number;
  zScore: number;
}

/**
 * Which patch position and class made the patch-map test's score (the max_z feature), when the ensemble
 * reports it and the model's input (`inputShape`, batch axis first) is the geometry the map was made on.
 */
export function mapFinding(
  v: EnsembleVerdict,
  fp: Fingerprint,
  inputShape: readonly (number | string | null)[],
): MapFinding | undefined {
  const top = Object.entries(v.separateTop).find(([k]) => k.endsWith(`@${TRIGGER_MAP_BLOCK}`))?.[1];
  const block = fp.blocks[TRIGGER_MAP_BLOCK];
  const dims = inputShape.slice(1);
  if (!top || !block || !dims.every((d): d is number => typeof d === 'number')) return undefined;
  let g: ImageGeometry;
  try {
    g = imageGeometry(dims);
  } catch {
    return undefined;
  }
  const f = mapFeature(g, { lo: 0, hi: 1 }, fp.header.model.classes, top.index, block.length);
  if (!f || f.trigger.kind !== 'patch') return undefined;
  return { cls: f.cls, location: f.trigger.location, flipRate: block[top.index], zScore: top.z };
}

export function explain(
  v: EnsembleVerdict,
  final: FinalVerdict,
  fp: Fingerprint,
  manifest: BaselineManifest,
  inputShape: readonly (number | string | null)[] = [],
): Explanation {
  const pathOf = new Map(manifest.members.map((m) => [m.sha256, m.path]));
  const drivers: Explanation['drivers'] = v.drivers.slice(0, EXPLANATION_DRIVERS).map((d) => ({
    channel: d.channel,
    detector: d.detector,
    representation: d.representation,
    score: d.score,
    pValue: d.pValue,
  }));
  const details = selfCheckDetails(fp);
  // when the patch map decided the verdict, its position and class are the finding to show
  const found = final.decidedBy === TRIGGER_MAP_BLOCK ? mapFinding(v, fp, inputShape) : undefined;
  if (found) {
    details.suspectedTargetClass = found.cls;
    details.trigger = {
      kind: 'patch:solid',
      location: found.location,
      flipRate: found.flipRate,
      zScore: found.zScore,
    };
  }
  if (final.triggerPValue !== undefined) {
    const trig = fp.selfChecks.trigger;
    drivers.push({
      channel: 'trigger-probe',
      detector: 'trigger-probe',
      representation: 'self:trigger',
      score: trig.score,
      pValue: final.triggerPValue,
    });
    drivers.sort((a, b) => a.pValue - b.pValue);
  }
  const top = drivers[0];
  const strongestSignal = top ? describeChannel(top.detector, top.representation) : 'none';
  const n = manifest.members.length;
  const t = details.trigger;
  // the trigger probe's finding, when it decided the verdict or is itself unusual for a clean model
  const triggerP = final.triggerPValue ?? 1;
  const triggerText =
    t && (final.decidedBy === 'trigger' || triggerP <= TRIGGER_MENTION_P)
      ? baselineTriggerSentence(
          levelOf(riskScore(triggerP)),
          { cls: details.suspectedTargetClass, trigger: t },
          triggerP,
          "the larger of its p against our zoo's clean models and against your references",
        )
      : '';
  // the separate patch-map test, when it decided the verdict (src/baseline/config.ts SEPARATE_TEST_CHANNELS)
  const mapP = final.separate[TRIGGER_MAP_BLOCK];
  const mapInputs = MAP_INPUT_WORDS[fp.selfChecks.trigger?.basis ?? ''] ?? 'of the inputs';
  const mapText =
    final.decidedBy !== TRIGGER_MAP_BLOCK || mapP === undefined
      ? ''
      : found
        ? ` Patch map: a solid patch at ${found.location.replace(/ solid-hi$/, '')} sends ${Math.round(100 * found.flipRate)}% ${mapInputs} into class ${found.cls}, far more than the references do there (z = ${found.zScore.toFixed(1)}, patch map p = ${formatPValue(mapP)}).`
        : ` Patch map: a patch at one position sends inputs into one class far more often than in any reference (patch map p = ${formatPValue(mapP)}).`;
  // the reported p is the ensemble's unless other tests were combined with it (src/score/final.ts)
  const others = final.combined.filter((t) => t !== 'ensemble').map((t) => TEST_WORDS[t] ?? t);
  const verdictP =
    final.combined.length === 1
      ? `ensemble p = ${formatPValue(v.pValue)}`
      : `p = ${formatPValue(final.pValue)}: ensemble p = ${formatPValue(v.pValue)} with ${others.join(' and ')}, Bonferroni`;
  const summary =
    final.riskLevel === 'low'
      ? `Behaves like the ${n} clean references (p = ${formatPValue(final.pValue)}).`
      : differsSentence(
          final.riskLevel === 'high' ? 'high' : 'medium',
          n,
          `${verdictP}; strongest channel ${top ? `${describeChannel(top.detector, top.representation)}, p = ${formatPValue(top.pValue)}` : 'none'}`,
        ) +
        triggerText +
        mapText;
  return {
    summary,
    strongestSignal,
    drivers: drivers.slice(0, EXPLANATION_DRIVERS),
    nearestReferences: v.nearest.map((x) => ({
      member: pathOf.get(x.member) ?? x.member,
      distance: x.distance,
    })),
    minSupportedPValue: v.minRankPValue,
    ...details,
  };
}
