/**
 * Candidate default ensembles the bench compares: block sets (by name prefix, the same matching
 * src/baseline/config.ts uses) x detector sets x combination rules. The grid is small and structured on
 * purpose: with 20 clean and ~30 backdoored test models per architecture, searching freely over channel
 * subsets would fit the test set; a choice that wins across both architectures, both reference counts and
 * every probe configuration is a choice of method, not of test models.
 */
import { DETECTOR_NAMES, type DetectorName } from '../../src/detect/detector.js';
import { DEFAULT_BLOCK_PREFIXES, DEFAULT_COMBINE, DEFAULT_DETECTORS } from '../../src/baseline/config.js';
import { combineLabel, type CombineSpec } from '../../src/score/combine.js';
import { TRIGGER_POLICY_WITH_BASELINE, type TriggerPolicy } from '../../src/score/final.js';

export interface Candidate {
  name: string;
  prefixes: string[];
  detectors: DetectorName[];
  /** Per block prefix, detectors replacing `detectors` on that block (src/baseline/config.ts ChannelChoice). */
  blockDetectors?: Record<string, DetectorName[]>;
  rule: CombineSpec;
  /**
   * How the p-value is made from the ensemble's: 'scan' = src/score/final.ts finalVerdict with the shipped
   * policy (what `scan` reports); 'bonferroni' = the same with the reference-free trigger test combined by
   * Bonferroni; absent = the ensemble's p alone.
   */
  verdict?: 'scan' | TriggerPolicy;
}

export const BLOCK_SETS: Record<string, string[]> = {
  default: DEFAULT_BLOCK_PREFIXES,
  previous: ['logits', 'softmax-stats', 'weights:final', 'gram:', 'trigger', 'self:'],
  'class-aligned': ['logits', 'softmax-stats', 'weights:final', 'trigger', 'self:'],
  'logits+weights': ['logits', 'weights:final', 'weights:layers', 'trigger', 'self:'],
  'no-gram': ['logits', 'softmax-stats', 'weights:final', 'weights:layers', 'sorted:', 'trigger', 'self:'],
  'all-invariant': [
    'logits',
    'softmax-stats',
    'weights:final',
    'weights:layers',
    'gram:',
    'sorted:',
    'trigger',
    'self:',
  ],
  'outputs+trigger': ['logits', 'softmax-stats', 'trigger', 'self:'],
  'default+tiers': [...DEFAULT_BLOCK_PREFIXES, 'trigger-tiers'],
  'outputs+weights': ['logits', 'softmax-stats', 'weights:final', 'weights:layers', 'trigger', 'self:'],
  weights: ['weights:final', 'weights:layers', 'self:'],
  logits: ['logits'],
};

/** Every detector that is fitted on a block (identity only carries a self-check's one value). */
export const BLOCK_DETECTORS: DetectorName[] = DETECTOR_NAMES.filter((d) => d !== 'identity');

export const DETECTOR_SETS: Record<string, DetectorName[]> = {
  default: DEFAULT_DETECTORS,
  'knn+lof+ocsvm': ['knn', 'lof', 'ocsvm'],
  knn: ['knn'],
  'knn+pca': ['knn', 'pca_mahalanobis'],
  'knn+mean': ['knn', 'distance_to_clean_mean'],
  'knn+ocsvm': ['knn', 'ocsvm'],
  'pca+mean': ['pca_mahalanobis', 'distance_to_clean_mean'],
  ocsvm: ['ocsvm'],
  'knn+ocsvm+pca': ['knn', 'ocsvm', 'pca_mahalanobis'],
  'knn+ocsvm+mean': ['knn', 'ocsvm', 'distance_to_clean_mean'],
  'ocsvm+pca+mean': ['ocsvm', 'pca_mahalanobis', 'distance_to_clean_mean'],
  'knn+ocsvm+maxz': ['knn', 'ocsvm', 'max_z'],
  all: BLOCK_DETECTORS,
};

export const RULES: CombineSpec[] = [
  { rule: 'fisher' },
  { rule: 'min-p' },
  { rule: 'top-k', k: 2 },
  { rule: 'top-k', k: 3 },
  { rule: 'cauchy' },
];

/** Every block set x detector set x rule (block or detector sets with the same members listed once). */
export function candidateGrid(): Candidate[] {
  const out: Candidate[] = [];
  const seenB = new Set<string>();
  const seenD = new Set<string>();
  const blockSets = Object.entries(BLOCK_SETS).filter(([, p]) => {
    const k = JSON.stringify([...p].sort());
    return !seenB.has(k) && !!seenB.add(k);
  });
  const detectorSets = Object.entries(DETECTOR_SETS).filter(([, d]) => {
    const k = JSON.stringify([...d].sort());
    return !seenD.has(k) && !!seenD.add(k);
  });
  for (const [bn, prefixes] of blockSets)
    for (const [dn, detectors] of detectorSets)
      for (const rule of RULES)
        out.push({ name: `${bn} · ${dn} · ${combineLabel(rule)}`, prefixes, detectors, rule });
  return out;
}

/** The shipped default (config.ts) as `scan` reports it, under a fixed name. */
export function shippedDefault(): Candidate {
  return {
    name: 'DEFAULT (config.ts)',
    prefixes: DEFAULT_BLOCK_PREFIXES,
    detectors: DEFAULT_DETECTORS,
    rule: DEFAULT_COMBINE,
    verdict: 'scan',
  };
}

/** The shipped default under the trigger policy that is NOT shipped (src/score/final.ts), for comparison. */
export function shippedOtherPolicy(): Candidate {
  const other: TriggerPolicy = TRIGGER_POLICY_WITH_BASELINE === 'bonferroni' ? 'report' : 'bonferroni';
  return { ...shippedDefault(), name: OTHER_POLICY_NAME, verdict: other };
}

/** The name of shippedOtherPolicy's candidate. */
export const OTHER_POLICY_NAME = 'default under the other trigger policy';

/** The ensemble before this bench (fisher over kNN, LOF, OCSVM on the first-guess blocks). */
export function previousDefault(): Candidate {
  return {
    name: 'previous default',
    prefixes: BLOCK_SETS.previous,
    detectors: ['knn', 'lof', 'ocsvm'],
    rule: { rule: 'fisher' },
  };
}

/** The prefix of the names of the shipped default's variants (the report compares them across probe configurations). */
export const VARIANT_PREFIX = 'DEFAULT';

/**
 * Variants of the shipped default, as `scan` reports them, each one step away from it: without the per-tier
 * trigger block ("trigger-tiers"), without max_z, without both (the stop-10 default), and with per-block
 * detector sets on trigger-tiers. The question is what each part of the default adds, not which of ~600
 * combinations wins on this test set.
 */
export function tierCandidates(): Candidate[] {
  const noTiers = DEFAULT_BLOCK_PREFIXES.filter((p) => p !== 'trigger-tiers');
  const noMaxZ = DEFAULT_DETECTORS.filter((d) => d !== 'max_z');
  const variants: [string, string[], DetectorName[], Record<string, DetectorName[]> | undefined][] = [
    ['without trigger-tiers', noTiers, DEFAULT_DETECTORS, undefined],
    ['without max_z', DEFAULT_BLOCK_PREFIXES, noMaxZ, undefined],
    ['without both (the stop-10 default)', noTiers, noMaxZ, undefined],
    [
      '· tiers: max_z only, knn+ocsvm elsewhere',
      DEFAULT_BLOCK_PREFIXES,
      noMaxZ,
      { 'trigger-tiers': ['max_z'] },
    ],
    [
      '· tiers: max_z+knn+ocsvm, knn+ocsvm elsewhere',
      DEFAULT_BLOCK_PREFIXES,
      noMaxZ,
      { 'trigger-tiers': ['max_z', 'knn', 'ocsvm'] },
    ],
  ];
  return variants.map(([label, prefixes, detectors, blockDetectors]) => ({
    name: `${VARIANT_PREFIX} ${label}`,
    prefixes,
    detectors,
    ...(blockDetectors ? { blockDetectors } : {}),
    rule: DEFAULT_COMBINE,
    verdict: 'scan' as const,
  }));
}
