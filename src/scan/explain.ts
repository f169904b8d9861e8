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
import { triggerWordsText } from '../report/describe.js';
import { withArticle } from '../report/trigger-text.js';
import { wordOf, type Vocabulary } from '../probes/vocab.js';
import { TOKEN_GAIN_MAP_BLOCK, TRIGGER_MAP_BLOCK } from '../baseline/config.js';
import { gainMapFinding } from './gain-map-finding.js';
import { EMBEDDING_BLOCK } from '../fingerprint/embedding-stats.js';
import { mapFeature } from '../selfcheck/sweep.js';
import { imageGeometry, type ImageGeometry } from '../selfcheck/triggers.js';
import { baselineTriggerSentence, differsSentence } from '../score/finding-words.js';
import { levelOf, riskScore } from '../score/risk.js';

/** The tests besides the ensemble that a verdict can combine (FinalVerdict.combined), in words. */
const TEST_WORDS: Record<string, string> = {
  trigger: 'the trigger test',
  [TRIGGER_MAP_BLOCK]: 'the patch map',
  [TOKEN_GAIN_MAP_BLOCK]: 'the token gain map',
  [EMBEDDING_BLOCK]: 'the embedding-norm test',
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
  'weights:embedding': 'embedding row norms per token',
  'self:embedding-outlier': 'most outlying embedding row',
};
/** The trigger blocks of a text model (token trigger probing) in words: inserted words, not stamped patterns. */
const TEXT_BLOCK_WORDS: Record<string, string> = {
  trigger: 'response to inserted words',
  'trigger-tiers': 'response to inserted words by phrase length',
  'trigger-map': 'response to each inserted word (token map)',
  'trigger-gain-map': 'margin gain of each inserted word (token gain map)',
  'self:trigger': 'word trigger probing score',
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
export function describeChannel(detector: string, representation: string, text = false): string {
  // the reference-free trigger test (src/score/final.ts) is not a detector fitted on a block
  if (detector === 'trigger-probe')
    return text ? 'word trigger probing, reference-free' : 'trigger probing, reference-free';
  // the opt-in gradient inversion (scan --inversion, src/fingerprint/inversion-selfcheck.ts), likewise
  if (detector === 'trigger-inversion') return 'trigger inversion by gradient, reference-free';
  const colon = representation.indexOf(':');
  const layerWords = colon > 0 ? LAYER_BLOCK_WORDS[representation.slice(0, colon)] : undefined;
  const block =
    (text ? TEXT_BLOCK_WORDS[representation] : undefined) ??
    BLOCK_WORDS[representation] ??
    (layerWords ? `${layerWords} ${representation.slice(colon + 1)}` : undefined);
  if (!block) return `${detector.replace(/_/g, '-')} on ${representation}`;
  if (detector === 'identity') return block;
  const how = DETECTOR_WORDS[detector];
  return how ? `${block}, ${how}` : `${block}, ${detector.replace(/_/g, '-')}`;
}

/** Whether the fingerprint is a text model's: its trigger probing inserted tokens (token-probe.ts). */
export function isTextModel(fp: Fingerprint): boolean {
  return (
    fp.selfChecks['trigger']?.trigger?.kind === 'tokens' || fp.selfChecks['embedding-outlier'] !== undefined
  );
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

/** The patch map's strongest feature, in the report's trigger terms (a text model's token map: the token). */
export interface MapFinding {
  cls: number;
  location: string;
  flipRate: number;
  zScore: number;
  /** The token map of a text model: the token whose row stood out. */
  token?: number;
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
  const k = fp.header.model.classes;
  // a text model's token map: one row of class flip shares per token id (token-probe.ts)
  if (top && block && isTextModel(fp) && k > 0 && block.length % k === 0)
    return {
      cls: top.index % k,
      location: 'inserted anywhere',
      flipRate: block[top.index],
      zScore: top.z,
      token: Math.floor(top.index / k),
    };
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
  vocab?: Vocabulary,
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
  const gainFound = final.decidedBy === TOKEN_GAIN_MAP_BLOCK ? gainMapFinding(v, fp) : undefined;
  const found: MapFinding | undefined =
    final.decidedBy === TRIGGER_MAP_BLOCK ? mapFinding(v, fp, inputShape) : gainFound;
  if (found) {
    details.suspectedTargetClass = found.cls;
    details.trigger =
      found.token !== undefined
        ? {
            kind: 'tokens',
            location: found.location,
            flipRate: found.flipRate,
            zScore: found.zScore,
            tokens: [found.token],
            ...(vocab ? { words: [wordOf(vocab, found.token)] } : {}),
          }
        : {
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
  const text = isTextModel(fp);
  const strongestSignal = top ? describeChannel(top.detector, top.representation, text) : 'none';
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
      : found?.token !== undefined && details.trigger
        ? ` Token map: inserting the ${triggerWordsText(details.trigger)} sends ${Math.round(100 * found.flipRate)}% ${mapInputs.replace('inputs', 'texts')} into class ${found.cls}, far more than in the references (z = ${found.zScore.toFixed(1)}, token map p = ${formatPValue(mapP)}).`
        : found
          ? ` Patch map: ${withArticle(found.location)} sends ${Math.round(100 * found.flipRate)}% ${mapInputs} into class ${found.cls}, far more than the references do there (z = ${found.zScore.toFixed(1)}, patch map p = ${formatPValue(mapP)}).`
          : ` Patch map: a patch at one position sends inputs into one class far more often than in any reference (patch map p = ${formatPValue(mapP)}).`;
  // the text model's token gain map, when it decided: the word that moves texts toward a class far more
  const gainP = final.separate[TOKEN_GAIN_MAP_BLOCK];
  const gainText =
    gainFound && gainP !== undefined && details.trigger
      ? ` Token gain map: inserting the ${triggerWordsText(details.trigger)} into ${mapInputs.replace(/^of /, '').replace('inputs', 'texts')} moves them toward class ${gainFound.cls} by ${gainFound.gain.toFixed(2)} logit spreads on average (${Math.round(100 * gainFound.flipRate)}% sent there), far more than in the references (z = ${gainFound.zScore.toFixed(1)}, token gain map p = ${formatPValue(gainP)}).`
      : '';
  // the separate embedding-norm test of a text model, when it decided: the token whose row stands out
  const embP = final.separate[EMBEDDING_BLOCK];
  const embTop = Object.entries(v.separateTop).find(([key]) => key.endsWith(`@${EMBEDDING_BLOCK}`))?.[1];
  const embText =
    final.decidedBy === EMBEDDING_BLOCK && embP !== undefined && embTop
      ? ` Embedding: the row of ${vocab ? `the word "${wordOf(vocab, embTop.index)}"` : `token id ${embTop.index}`} is far longer than in the references (z = ${embTop.z.toFixed(1)}, embedding-norm test p = ${formatPValue(embP)}): a word trained hard into the model, as a trigger word is.`
      : '';
  // the reported p is the ensemble's unless other tests were combined with it (src/score/final.ts)
  const words: Record<string, string> = text
    ? { ...TEST_WORDS, [TRIGGER_MAP_BLOCK]: 'the token map' }
    : TEST_WORDS;
  const others = final.combined.filter((t) => t !== 'ensemble').map((t) => words[t] ?? t);
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
          `${verdictP}; strongest channel ${top ? `${describeChannel(top.detector, top.representation, text)}, p = ${formatPValue(top.pValue)}` : 'none'}`,
        ) +
        triggerText +
        mapText +
        gainText +
        embText;
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
