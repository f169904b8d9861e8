/**
 * Shapes bench:torch shares between its runner and its report: the zoo manifest train.py writes, the
 * conditions each architecture is scanned under, and the results file (bench/results/torch.json).
 */
import type { BuildResult } from './cli.js';
import type { ConditionMetrics, ScanRow } from './metrics.js';

export interface ManifestModel {
  id: string;
  arch: string;
  split: 'reference' | 'test';
  label: 'clean' | 'backdoored';
  attack: string | null;
  trigger: Record<string, unknown> | null;
  rate: number;
  target: number | null;
  cleanAcc: number;
  asr: number | null;
  train: { seed: number; lr: number; momentum: number; epochs: number; batch: number };
  file: string;
  sha256: string;
}

export interface Manifest {
  torch: string;
  opset: number;
  exporter: string;
  splitSeed: number;
  data: { train: number; test: number; samples: number };
  /** Per architecture whose data is not the MNIST digits of `data` (digits8: scikit-learn's 8x8 digits). */
  dataByArch?: Record<
    string,
    { source: string; splitSeed: number; train: number; test: number; samples: number }
  >;
  /** Where an architecture's inputs are normalised when not as `normalisation` (rgb: outside the graph). */
  normalisationByArch?: Record<string, { mean: number[]; std: number[]; inGraph: boolean }>;
  /** Per architecture, the folder (under the zoo) of its held-out PNG samples; absent = "samples". */
  sampleDirs?: Record<string, string>;
  trainSeconds: number;
  models: ManifestModel[];
  rejectedTries: {
    arch: string;
    index: number;
    attack: string;
    rate: number;
    cleanAcc: number;
    asr: number;
  }[];
}

export const CONDITIONS = [
  {
    id: 'baseline',
    label: 'baseline of 40 clean refs, generated probes (default)',
    baseline: true,
    samples: false,
    normalise: false,
  },
  {
    id: 'baseline+samples',
    label: 'baseline of 40 clean refs + --probe-samples (128 PNG images)',
    baseline: true,
    samples: true,
    normalise: false,
  },
  {
    id: 'no-baseline',
    label: 'no baseline (reference-free trigger probing)',
    baseline: false,
    samples: false,
    normalise: false,
  },
  {
    id: 'no-baseline+samples',
    label: 'no baseline, --probe-samples (128 PNG images)',
    baseline: false,
    samples: true,
    normalise: false,
  },
  // Only for architectures whose preprocessing is outside the graph (manifest normalisationByArch, inGraph
  // false): the same runs told the model's normalisation with --input-mean/--input-std.
  {
    id: 'baseline+samples+norm',
    label: 'baseline of 40 clean refs + --probe-samples + --input-mean/--input-std',
    baseline: true,
    samples: true,
    normalise: true,
  },
  {
    id: 'no-baseline+samples+norm',
    label: 'no baseline, --probe-samples + --input-mean/--input-std',
    baseline: false,
    samples: true,
    normalise: true,
  },
] as const;

export interface ConditionResult {
  condition: string;
  build: BuildResult | null;
  scanWallMs: number | null;
  scanError: string | null;
  metrics: ConditionMetrics | null;
  rows: ScanRow[];
}

export interface TorchBench {
  generatedAt: string;
  runner: string;
  bundleStale: boolean | null;
  manifest: Omit<Manifest, 'models'> & { models: number };
  models: ManifestModel[];
  results: Record<string, ConditionResult[]>;
  /** Per architecture, the run its results come from (`--archs` reruns keep the other architectures'). */
  runs?: Record<string, { generatedAt: string; runner: string; bundleStale: boolean | null }>;
}
