/**
 * What the zoo trains: every model as a small, fully seeded spec (architecture, split, label, attack, poison
 * rate, target, hyper-parameters), and the config hash that lets a re-run skip models already built.
 *
 * - reference clean models (the baseline a defender would build from), per architecture;
 * - test clean models (held out, same training distribution);
 * - test backdoored models: every attack x poison rate, per architecture; a cell whose model is not stealthy
 *   (clean accuracy off the clean median or ASR too low) is retried with a new seed and a stronger trigger.
 * Clean and backdoored models draw their hyper-parameters from the same distribution, so nothing but the
 * backdoor tells them apart.
 */
import { createHash } from 'node:crypto';
import { Rng } from '../../src/probes/rng.js';
import { DATA_SPLIT_SEED, NUM_CLASSES, TRAIN_SIZE } from './data.js';
import type { Arch } from './nets.js';
import type { HyperParams } from './train.js';
import { ATTACKS, type AttackName, type Trigger } from './triggers.js';

/** Bump when training code changes in a way that changes models: invalidates every cached model. */
export const ZOO_VERSION = 1;

export const POISON_RATES = [0.01, 0.02, 0.05, 0.1, 0.2] as const;
/** Attempts per backdoor cell before it is given up (each a new seed, the trigger drawn stronger). */
export const MAX_BACKDOOR_ATTEMPTS = 3;
/** Stealth rule: clean accuracy within this of the clean median (fraction, i.e. 2 points)... */
export const STEALTH_ACCURACY_TOLERANCE = 0.02;
/** ...and at least this attack success rate. */
export const STEALTH_MIN_ASR = 0.8;
/**
 * Adaptive attacker: weight of the noise-distillation term and noise inputs per step. At weight 1 most
 * adaptive models lost more than 2 points of accuracy (rejected as not stealthy); 0.1 keeps both accuracy
 * and ASR (measured on one MLP and one CNN at 5% poisoning: accuracy 0.916 / 0.946, ASR 0.97 / 0.96).
 */
export const DISTILL_WEIGHT = 0.1;
export const DISTILL_NOISE_BATCH = 32;

export interface ZooSize {
  reference: number;
  testClean: number;
  /** Backdoor cells (attack x rate); null = all. */
  backdoorCells: { attack: AttackName; rate: number }[] | null;
}

export const FULL_SIZE: ZooSize = { reference: 80, testClean: 20, backdoorCells: null };
export const QUICK_SIZE: ZooSize = {
  reference: 8,
  testClean: 2,
  backdoorCells: [
    { attack: 'badnets-corner', rate: 0.1 },
    { attack: 'blend', rate: 0.2 },
  ],
};

export interface DistillPlan {
  weight: number;
  noiseBatch: number;
  teacherSeed: number;
  teacherHyper: HyperParams;
}

export interface ModelSpec {
  id: string;
  arch: Arch;
  split: 'reference' | 'test';
  label: 'clean' | 'backdoor';
  attack: AttackName | null;
  poisonRate: number | null;
  targetClass: number | null;
  seed: number;
  hyper: HyperParams;
  triggerSeed: number | null;
  /** 0..1: how far up its ranges the trigger is drawn (grows with the attempt). */
  triggerBoost: number;
  attempt: number;
  distill: DistillPlan | null;
  /** A trigger given outright instead of drawn from triggerSeed (the examples' fixed BadNets patch). */
  fixedTrigger?: Trigger;
}

const HYPER_CHOICES: Record<Arch, { lr: number[]; epochs: number[]; batchSize: number[] }> = {
  mlp: { lr: [0.001, 0.002, 0.003], epochs: [3, 4, 5], batchSize: [32, 64, 128] },
  cnn: { lr: [0.003, 0.005, 0.008], epochs: [2, 3], batchSize: [64, 128] },
};

const ARCH_SEED_BASE: Record<Arch, number> = { mlp: 100_000, cnn: 200_000 };

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)];
}

/** Hyper-parameters drawn from the architecture's distribution with a seed. */
export function drawHyper(arch: Arch, seed: number): HyperParams {
  const rng = new Rng(`zoo-hyper-${arch}-${seed}`);
  const c = HYPER_CHOICES[arch];
  return { lr: pick(rng, c.lr), epochs: pick(rng, c.epochs), batchSize: pick(rng, c.batchSize) };
}

function pad(n: number, w = 3): string {
  return String(n).padStart(w, '0');
}

export function cleanSpec(arch: Arch, split: 'reference' | 'test', index: number): ModelSpec {
  const seed = ARCH_SEED_BASE[arch] + (split === 'reference' ? 0 : 10_000) + index;
  return {
    id: `${arch}-${split}-clean-${pad(index)}`,
    arch,
    split,
    label: 'clean',
    attack: null,
    poisonRate: null,
    targetClass: null,
    seed,
    hyper: drawHyper(arch, seed),
    triggerSeed: null,
    triggerBoost: 0,
    attempt: 0,
    distill: null,
  };
}

export function backdoorSpec(arch: Arch, attack: AttackName, rate: number, attempt: number): ModelSpec {
  const cell = ATTACKS.indexOf(attack) * POISON_RATES.length + POISON_RATES.findIndex((r) => r === rate);
  const seed = ARCH_SEED_BASE[arch] + 50_000 + cell * 100 + attempt;
  const rng = new Rng(`zoo-backdoor-${arch}-${seed}`);
  const targetClass = rng.int(NUM_CLASSES);
  const triggerSeed = rng.nextUint32();
  const hyper = drawHyper(arch, seed);
  return {
    id: `${arch}-test-backdoor-${attack}-r${pad(Math.round(rate * 100), 2)}-a${attempt}`,
    arch,
    split: 'test',
    label: 'backdoor',
    attack,
    poisonRate: rate,
    targetClass,
    seed,
    hyper,
    triggerSeed,
    triggerBoost: attempt / MAX_BACKDOOR_ATTEMPTS,
    attempt,
    distill:
      attack === 'adaptive'
        ? {
            weight: DISTILL_WEIGHT,
            noiseBatch: DISTILL_NOISE_BATCH,
            teacherSeed: seed + 1_000,
            teacherHyper: drawHyper(arch, seed + 1_000),
          }
        : null,
  };
}

export function cleanPlan(archs: readonly Arch[], size: ZooSize): ModelSpec[] {
  const out: ModelSpec[] = [];
  for (const arch of archs) {
    for (let i = 0; i < size.reference; i++) out.push(cleanSpec(arch, 'reference', i));
    for (let i = 0; i < size.testClean; i++) out.push(cleanSpec(arch, 'test', i));
  }
  return out;
}

export function backdoorCells(size: ZooSize): { attack: AttackName; rate: number }[] {
  return size.backdoorCells ?? ATTACKS.flatMap((attack) => POISON_RATES.map((rate) => ({ attack, rate })));
}

/** Hash of everything that determines a model's bytes (the id and the output folder excluded). */
export function configHash(spec: ModelSpec): string {
  const { id: _id, ...rest } = spec;
  const key = JSON.stringify({ zoo: ZOO_VERSION, data: { DATA_SPLIT_SEED, TRAIN_SIZE }, ...rest });
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export function fileFor(spec: ModelSpec): string {
  return `${spec.arch}/${spec.split}/${spec.id}.onnx`;
}

/** Why a backdoored model is not stealthy, or null when it is. */
export function stealthProblem(
  r: { cleanAccuracy: number; asr: number | null },
  cleanMedian: number,
): string | null {
  if (Math.abs(r.cleanAccuracy - cleanMedian) > STEALTH_ACCURACY_TOLERANCE) {
    return `clean accuracy ${r.cleanAccuracy.toFixed(4)} is more than ${STEALTH_ACCURACY_TOLERANCE} from the clean median ${cleanMedian.toFixed(4)}`;
  }
  if (r.asr === null || r.asr < STEALTH_MIN_ASR) return `ASR ${r.asr?.toFixed(4)} < ${STEALTH_MIN_ASR}`;
  return null;
}

/**
 * The next backdoor attempt of a cell to train, from attempt `from` on: 'kept' when an attempt is already
 * kept, 'exhausted' when every remaining attempt was rejected, else the spec to train.
 */
export function nextBackdoorAttempt(
  cell: { arch: Arch; attack: AttackName; rate: number },
  from: number,
  state: (hash: string) => 'kept' | 'rejected' | 'none',
): ModelSpec | 'kept' | 'exhausted' {
  for (let attempt = from; attempt < MAX_BACKDOOR_ATTEMPTS; attempt++) {
    const spec = backdoorSpec(cell.arch, cell.attack, cell.rate, attempt);
    const s = state(configHash(spec));
    if (s === 'kept') return 'kept';
    if (s === 'none') return spec;
  }
  return 'exhausted';
}
