/**
 * Shapes bench:families shares between its runner and its report: the zoo manifest train.py writes, the
 * conditions every architecture is scanned under, and the results file (bench/results/families.json).
 */
import type { BuildResult } from '../torch/cli.js';
import type { FamilyRow } from './metrics.js';

export interface FamilyModel {
  id: string;
  file: string;
  sha256: string;
  domain: string;
  arch: string;
  split: 'reference' | 'test';
  label: 'clean' | 'backdoored';
  family: string | null;
  trigger: Record<string, unknown> | null;
  poisonRate: number;
  poisonedSamples: number;
  /** The class for single-target families; "all (y -> y+1)" for all-to-all; null for clean models. */
  targetClass: number | string | null;
  cleanAccuracy: number;
  attackSuccess: number | null;
  recipe: { seed: number; optimizer: string; lr: number; epochs: number; batch: number };
  attempt: number;
  trainSeconds: number;
  decoyFlipRate?: number;
}

export interface DomainInfo {
  source: string;
  classes: number;
  splitSeed: number;
  train: number;
  test: number;
  shape: number[];
  samples: { dir: string; count: number };
}

export interface FamilyManifest {
  format: string;
  version: number;
  generator: string;
  torch: string;
  exporter: string;
  opset: number;
  stealth: { accuracyTolerance: number; minAttackSuccess: number; maxTries: number };
  domains: Record<string, DomainInfo>;
  plan: Record<
    string,
    { refs: number; cleanTest: number; perFamily: number; epochs: number[]; seed: number }
  >;
  rates: Record<string, number>;
  cleanMedianAccuracy: Record<string, number | null>;
  models: FamilyModel[];
  rejectedTries: {
    id: string;
    family: string;
    attempt: number;
    cleanAccuracy: number;
    attackSuccess: number;
    final: boolean;
    reason: string;
  }[];
  trainSeconds: Record<string, number>;
}

export interface Condition {
  id: string;
  label: string;
  /** Clean references in the baseline (0 = no baseline). */
  refs: number;
  /** The domain's 128 real held-out samples (--probe-samples). */
  samples: boolean;
}

export const CONDITIONS: Condition[] = [
  {
    id: 'ref20',
    label: 'baseline of 20 clean references, generated probes (the default build)',
    refs: 20,
    samples: false,
  },
  { id: 'ref40', label: 'baseline of 40 clean references, generated probes', refs: 40, samples: false },
  {
    id: 'ref20+samples',
    label: 'baseline of 20 clean references + --probe-samples (128 real images)',
    refs: 20,
    samples: true,
  },
  { id: 'none+samples', label: 'no baseline, --probe-samples (128 real images)', refs: 0, samples: true },
  { id: 'none', label: 'no baseline, no samples', refs: 0, samples: false },
];

export interface ConditionRun {
  build: BuildResult | null;
  scanWallMs: number | null;
  scanError: string | null;
  rows: FamilyRow[];
}

export interface FamiliesBench {
  generatedAt: string;
  runner: string;
  bundleStale: boolean | null;
  zoo: string;
  manifest: Omit<FamilyManifest, 'models' | 'rejectedTries'> & { models: number; rejectedTries: number };
  models: FamilyModel[];
  /** Per architecture, per condition id. */
  results: Record<string, Record<string, ConditionRun>>;
}
