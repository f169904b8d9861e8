/**
 * The model zoos the reference-free bench reads, as one list of models with what an outsider's scan would
 * get: the file, its domain (data + toolchain: the unit of leave-one-domain-out), the held-out samples
 * folder of its domain, the input normalisation a user would pass, and the truth (clean or backdoored,
 * attack family, target class or classes, all-to-all).
 *
 *   mnist   bench/.cache/zoo (npm run bench:zoo): tfjs MLPs/CNNs on 14x14 MNIST
 *   torch   bench/.cache/torch-zoo (npm run bench:torch): PyTorch on 28x28 MNIST (cnn, mlp), recoloured
 *           32x32 RGB digits normalised outside the graph (rgb), scikit-learn's 8x8 digits (digits8)
 *   families  the families zoo (/work/cache/families-zoo or --families DIR): new attack families, data
 *           domains and architectures, read from its manifest.json
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureSampleDir } from '../detect/samples.js';
import { loadZoo } from '../detect/zoo.js';

export interface BenchModel {
  zoo: string;
  /** Data + toolchain: the unit a held-out figure leaves out. */
  domain: string;
  arch: string;
  id: string;
  /** Absolute path. */
  file: string;
  label: 'clean' | 'backdoor';
  /** Attack family (null for clean models). */
  attack: string | null;
  /** The target class of a single-target backdoor. */
  target: number | null;
  /** All-to-all (y -> y+1) or several targets: no one class to name. */
  multiTarget: boolean;
  /** Held-out samples of the domain (a folder the CLI's --probe-samples would get). */
  samplesDir: string | null;
  normalize?: { mean: number[]; std: number[] };
}

export function mnistZoo(dir: string, cacheRoot: string): BenchModel[] {
  if (!existsSync(dir)) return [];
  const zoo = loadZoo(dir);
  const samplesDir = ensureSampleDir(cacheRoot, 128);
  return zoo.models.map((m) => ({
    zoo: 'mnist',
    domain: 'mnist14-tfjs',
    arch: `tfjs-${m.arch}`,
    id: m.id,
    file: m.file,
    label: m.label,
    attack: m.attack,
    target: m.targetClass,
    multiTarget: false,
    samplesDir,
  }));
}

interface TorchManifest {
  sampleDirs?: Record<string, string>;
  normalisationByArch?: Record<string, { mean: number[]; std: number[]; inGraph: boolean }>;
  models: {
    id: string;
    arch: string;
    label: 'clean' | 'backdoored';
    attack: string | null;
    target: number | null;
    file: string;
  }[];
}

const TORCH_DOMAIN: Record<string, string> = {
  cnn: 'mnist28-torch',
  mlp: 'mnist28-torch',
  rgb: 'rgb-digits-torch',
  digits8: 'digits8-torch',
};

interface MultiManifest {
  models: { id: string; arch: string; attack: string; targets: number[] | null; file: string }[];
}

/**
 * Backdoors with no single target (bench/refree/multi_target.py): all-to-all and two-target digits8
 * convnets trained with bench:torch's recipe, scored beside that zoo's clean digits8 models.
 */
export function multiTargetZoo(dir: string, torchDir: string): BenchModel[] {
  const file = path.join(dir, 'manifest.json');
  if (!existsSync(file)) return [];
  const m = JSON.parse(readFileSync(file, 'utf8')) as MultiManifest;
  const t = existsSync(path.join(torchDir, 'manifest.json'))
    ? (JSON.parse(readFileSync(path.join(torchDir, 'manifest.json'), 'utf8')) as TorchManifest)
    : null;
  return m.models.map((e) => ({
    zoo: 'multi',
    domain: TORCH_DOMAIN[e.arch] ?? `torch-${e.arch}`,
    arch: `torch-${e.arch}`,
    id: e.id,
    file: path.join(dir, e.file),
    label: 'backdoor',
    attack: e.attack,
    target: null,
    multiTarget: true,
    samplesDir: path.join(torchDir, t?.sampleDirs?.[e.arch] ?? 'samples'),
  }));
}

export function torchZoo(dir: string): BenchModel[] {
  const file = path.join(dir, 'manifest.json');
  if (!existsSync(file)) return [];
  const m = JSON.parse(readFileSync(file, 'utf8')) as TorchManifest;
  return m.models.map((e) => {
    const norm = m.normalisationByArch?.[e.arch];
    return {
      zoo: 'torch',
      domain: TORCH_DOMAIN[e.arch] ?? `torch-${e.arch}`,
      arch: `torch-${e.arch}`,
      id: e.id,
      file: path.join(dir, e.file),
      label: e.label === 'clean' ? 'clean' : 'backdoor',
      attack: e.attack,
      target: e.target,
      multiTarget: false,
      samplesDir: path.join(dir, m.sampleDirs?.[e.arch] ?? 'samples'),
      ...(norm && !norm.inGraph ? { normalize: { mean: norm.mean, std: norm.std } } : {}),
    };
  });
}
