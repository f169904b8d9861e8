/**
 * The real-size zoo's manifest (bench/realsize/train.py writes one per architecture, DIR/<arch>/manifest.json;
 * zoo.ts merges them into DIR/manifest.json) and the settings the bench shares.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const ARCHS = ['resnet18', 'wrn16_2', 'vgg11', 'mobilenetv2'] as const;
export type RealsizeArch = (typeof ARCHS)[number];
export const DATASET = 'gtsrb';
export const ZOO_FORMAT = 'fingerprint-action-realsize-zoo';

export interface RealsizeModel {
  id: string;
  /** Relative to the manifest's folder ('' for rejected attempts). */
  file: string;
  sha256: string;
  configHash: string;
  arch: RealsizeArch;
  split: 'reference' | 'test';
  label: 'clean' | 'backdoor';
  attack: 'patch' | 'blend' | 'sig' | 'wanet' | 'frequency' | null;
  trigger: Record<string, unknown> | null;
  poisonRate: number | null;
  poisonedSamples: number;
  targetClass: number | null;
  seed: number;
  attempt: number;
  hyper: {
    lr: number;
    images: number;
    epochs: number;
    batch: number;
    momentum: number;
    weightDecay: number;
    warmupEpochs?: number;
  };
  /** train.py's fine-tuning recipe (absent in zoos built before recipes: "cheap"). */
  recipe?: string;
  cleanAccuracy: number;
  asr: number | null;
  /** argmax of the model (in PyTorch) on the 128 probe samples, to check the ONNX export against. */
  probePredictions: number[];
  howMade: string;
  trainingCpuS: number;
  trainingWallS: number;
}

export interface RejectedModel extends RealsizeModel {
  reason: string;
}

export interface BaseRecord {
  configHash: string;
  sha256: string;
  seed: number;
  trainImages: number;
  hyper: Record<string, number>;
  cleanAccuracy: number;
  trainingCpuS: number;
  trainingWallS: number;
  params: number;
  macs: number;
}

export interface ArchManifest {
  zooVersion: number;
  arch: RealsizeArch;
  base: BaseRecord | null;
  width: number;
  fullWidth: number;
  /** The clean median of the test models' recipe (the one the stealth rule held backdoored models to). */
  cleanMedianAccuracy: number | null;
  cleanMedianByRecipe?: Record<string, number>;
  recipes?: Record<string, Record<string, number | number[]>>;
  normalisation: { mean: number[]; std: number[]; inGraph: boolean };
  models: RealsizeModel[];
  rejected: RejectedModel[];
}

export interface RealsizeManifest {
  format: typeof ZOO_FORMAT;
  version: 1;
  data: {
    dataset: string;
    source: { repo: string; commit: string };
    counts: Record<string, number>;
    classes: number;
    dir: string;
  };
  input: { name: string; shape: (number | string)[]; range: [number, number]; normalisation: string };
  output: { name: string };
  probeSamples: string;
  archs: Record<string, Omit<ArchManifest, 'models' | 'rejected'>>;
  models: RealsizeModel[];
  rejected: RejectedModel[];
  runs: {
    startedAt: string;
    wallS: number;
    workers: number;
    archs: string[];
    quick: boolean;
    loadAvgStart: number[];
    loadAvgEnd: number[];
  }[];
}

/** Every architecture's models of a zoo (ROOT/<arch>/manifest.json; files relative to ROOT), by id. */
export function readArchManifests(root: string): Map<string, RealsizeModel> {
  const files = existsSync(root)
    ? readdirSync(root)
        .map((d) => path.join(root, d, 'manifest.json'))
        .filter((f) => existsSync(f))
    : [];
  if (files.length === 0)
    throw new Error(`no ${root}/<arch>/manifest.json (give the real-size zoo's folder)`);
  return new Map(
    files.flatMap((f) => (JSON.parse(readFileSync(f, 'utf8')) as ArchManifest).models.map((x) => [x.id, x])),
  );
}
