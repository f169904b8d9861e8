/**
 * Backdoor triggers for the zoo's poisoned models, as plain parameter records (stored in the manifest) plus
 * the code that stamps them on 14x14 images in [0,1]:
 * - patch: a BadNets square (solid or checkerboard) at a corner or a random fixed position;
 * - blend: a fixed random pattern blended in with weight alpha (Chen et al. 2017);
 * - pixels: a few fixed pixels set to a value (sparse trigger);
 * - warp: a smooth WaNet-style displacement field (Nguyen & Tran 2021), bilinear resampling.
 * Random parts (patterns, fields) are regenerated from a seed, so a record is small and reproducible.
 */
import { Rng } from '../../src/probes/rng.js';
import { IMAGE_SIDE, PIXELS } from './data.js';

export type AttackName = 'badnets-corner' | 'badnets-random' | 'blend' | 'sparse' | 'wanet' | 'adaptive';

export const ATTACKS: readonly AttackName[] = [
  'badnets-corner',
  'badnets-random',
  'blend',
  'sparse',
  'wanet',
  'adaptive',
];

export type Trigger =
  | { kind: 'patch'; size: number; row: number; col: number; intensity: number; pattern: 'solid' | 'checker' }
  | { kind: 'blend'; alpha: number; patternSeed: number }
  | { kind: 'pixels'; indices: number[]; value: number }
  | { kind: 'warp'; grid: number; strength: number; fieldSeed: number };

/** Ranges the attacks draw from (at 14x14 scale). */
export const TRIGGER_RANGES = {
  patchSize: [2, 5],
  patchIntensity: [0.6, 1.0],
  blendAlpha: [0.05, 0.3],
  sparsePixels: [3, 8],
  sparseValue: [0.8, 1.0],
  warpGrid: 4,
  warpStrength: [1.0, 2.0],
} as const;

/**
 * Draws one trigger for an attack from its seed. `boost` in [0,1] raises the lower end of every strength
 * range (size, intensity, alpha, pixel count, warp strength) that far towards its upper end: an attacker
 * whose first trigger did not take tries a stronger one.
 */
export function makeTrigger(attack: AttackName, seed: number, boost = 0): Trigger {
  const rng = new Rng(seed);
  const b = Math.min(Math.max(boost, 0), 1);
  const lift = (r: readonly [number, number]): [number, number] => [r[0] + b * (r[1] - r[0]), r[1]];
  const liftInt = (r: readonly [number, number]): [number, number] => [
    r[0] + Math.round(b * (r[1] - r[0])),
    r[1],
  ];
  const T = TRIGGER_RANGES;
  const R = {
    patchSize: liftInt(T.patchSize),
    patchIntensity: lift(T.patchIntensity),
    blendAlpha: lift(T.blendAlpha),
    sparsePixels: liftInt(T.sparsePixels),
    sparseValue: lift(T.sparseValue),
    warpGrid: T.warpGrid,
    warpStrength: lift(T.warpStrength),
  };
  switch (attack) {
    case 'badnets-corner':
    case 'adaptive':
    case 'badnets-random': {
      const size = R.patchSize[0] + rng.int(R.patchSize[1] - R.patchSize[0] + 1);
      const intensity = round3(rng.uniform(R.patchIntensity[0], R.patchIntensity[1]));
      const pattern = rng.int(2) === 0 ? 'solid' : 'checker';
      let row: number;
      let col: number;
      if (attack === 'badnets-random') {
        row = rng.int(IMAGE_SIDE - size + 1);
        col = rng.int(IMAGE_SIDE - size + 1);
      } else {
        const corner = rng.int(4);
        row = corner < 2 ? 0 : IMAGE_SIDE - size;
        col = corner % 2 === 0 ? 0 : IMAGE_SIDE - size;
      }
      return { kind: 'patch', size, row, col, intensity, pattern };
    }
    case 'blend':
      return {
        kind: 'blend',
        alpha: round3(rng.uniform(R.blendAlpha[0], R.blendAlpha[1])),
        patternSeed: rng.nextUint32(),
      };
    case 'sparse': {
      const k = R.sparsePixels[0] + rng.int(R.sparsePixels[1] - R.sparsePixels[0] + 1);
      const set = new Set<number>();
      while (set.size < k) set.add(rng.int(PIXELS));
      return {
        kind: 'pixels',
        indices: [...set].sort((a, b) => a - b),
        value: round3(rng.uniform(R.sparseValue[0], R.sparseValue[1])),
      };
    }
    case 'wanet':
      return {
        kind: 'warp',
        grid: R.warpGrid,
        strength: round3(rng.uniform(R.warpStrength[0], R.warpStrength[1])),
        fieldSeed: rng.nextUint32(),
      };
  }
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

const blendPatterns = new Map<number, Float32Array>();
function blendPattern(seed: number): Float32Array {
  let p = blendPatterns.get(seed);
  if (!p) {
    p = new Rng(seed).uniforms(PIXELS);
    blendPatterns.set(seed, p);
  }
  return p;
}

/** Per-pixel displacement (dy, dx) in pixels: a random k x k grid, normalised, bilinearly upsampled. */
const warpFields = new Map<string, Float32Array>();
export function warpField(grid: number, strength: number, seed: number): Float32Array {
  const key = `${grid}:${strength}:${seed}`;
  let field = warpFields.get(key);
  if (field) return field;
  const rng = new Rng(seed);
  const ctrl = rng.uniforms(grid * grid * 2, -1, 1);
  let meanAbs = 0;
  for (const v of ctrl) meanAbs += Math.abs(v) / ctrl.length;
  field = new Float32Array(PIXELS * 2);
  for (let r = 0; r < IMAGE_SIDE; r++) {
    for (let c = 0; c < IMAGE_SIDE; c++) {
      const gy = (r / (IMAGE_SIDE - 1)) * (grid - 1);
      const gx = (c / (IMAGE_SIDE - 1)) * (grid - 1);
      for (let ch = 0; ch < 2; ch++) {
        const v = bilinear((y, x) => ctrl[(y * grid + x) * 2 + ch], grid, grid, gy, gx);
        field[(r * IMAGE_SIDE + c) * 2 + ch] = (v / meanAbs) * strength;
      }
    }
  }
  warpFields.set(key, field);
  return field;
}

function bilinear(at: (y: number, x: number) => number, h: number, w: number, y: number, x: number): number {
  const cy = Math.min(Math.max(y, 0), h - 1);
  const cx = Math.min(Math.max(x, 0), w - 1);
  const y0 = Math.floor(cy);
  const x0 = Math.floor(cx);
  const y1 = Math.min(y0 + 1, h - 1);
  const x1 = Math.min(x0 + 1, w - 1);
  const fy = cy - y0;
  const fx = cx - x0;
  return (
    at(y0, x0) * (1 - fy) * (1 - fx) +
    at(y0, x1) * (1 - fy) * fx +
    at(y1, x0) * fy * (1 - fx) +
    at(y1, x1) * fy * fx
  );
}

/** Stamps the trigger on one image (PIXELS floats at `offset` in `x`), in place. */
export function applyTrigger(t: Trigger, x: Float32Array, offset = 0): void {
  switch (t.kind) {
    case 'patch':
      for (let r = 0; r < t.size; r++) {
        for (let c = 0; c < t.size; c++) {
          const on = t.pattern === 'solid' || (r + c) % 2 === 0;
          x[offset + (t.row + r) * IMAGE_SIDE + t.col + c] = on ? t.intensity : 0;
        }
      }
      return;
    case 'blend': {
      const p = blendPattern(t.patternSeed);
      for (let i = 0; i < PIXELS; i++) x[offset + i] = (1 - t.alpha) * x[offset + i] + t.alpha * p[i];
      return;
    }
    case 'pixels':
      for (const i of t.indices) x[offset + i] = t.value;
      return;
    case 'warp': {
      const f = warpField(t.grid, t.strength, t.fieldSeed);
      const src = x.slice(offset, offset + PIXELS);
      for (let r = 0; r < IMAGE_SIDE; r++) {
        for (let c = 0; c < IMAGE_SIDE; c++) {
          const k = r * IMAGE_SIDE + c;
          x[offset + k] = bilinear(
            (y, xx) => src[y * IMAGE_SIDE + xx],
            IMAGE_SIDE,
            IMAGE_SIDE,
            r + f[k * 2],
            c + f[k * 2 + 1],
          );
        }
      }
      return;
    }
  }
}
