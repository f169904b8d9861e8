/**
 * Class-mined base inputs for trigger probing when the user gives no samples.
 *
 * Why: triggers stamped on noise probes say little (noise lands in one or two "sink" classes of the model,
 * so every class but those is far from the inputs), and an attacker can train the model to look clean on a
 * fixed noise probe set. Real inputs work because they sit inside every class region. This module makes
 * the closest thing without data: it generates a large seeded pool of synthetic image-like candidates
 * (smooth thresholded noise, pen strokes, rings and bars, blobs, faint noise, at the input's value range),
 * runs the pool through the model once (forward passes only, counted against the caller's budget) and keeps,
 * per class, the candidates the model assigns to that class with the largest logit margin, round-robin over
 * the classes so the base covers every class the model predicts (128 inputs = about 13 per class on 10
 * classes; a class the model never predicts on the pool gets none, its share goes to the others). The mined
 * inputs depend on the model itself, so matching a teacher on fixed probes does not hide a backdoor.
 *
 * Deterministic: candidate i is drawn from its own generator seeded by (seed, i), so the same model and seed
 * give the same base bit for bit, and the pool is generated and run in chunks (large inputs never hold the
 * whole pool in memory); the kept candidates are re-drawn by index at the end. Hand-written: no maintained
 * package generates synthetic class exemplars for an arbitrary ONNX classifier.
 */
import { mix32, Rng } from '../probes/rng.js';
import { BudgetedRunner, MAX_FLOATS_PER_RUN, type RunLogits } from './budgeted-runner.js';
import { MIN_TRIGGER_BUDGET } from './trigger-probe.js';
import { imageGeometry, inputSize, type ImageGeometry, type ValueRange } from './triggers.js';

/** Candidates generated and run per model (when the budget and input size allow). */
export const MINE_POOL = 4096;
/** Base inputs kept (the same as the most user samples the check uses). */
export const MINED_BASE_COUNT = 128;
/** The mining pass spends at most this share of the trigger check's forward-pass budget. */
export const MINE_BUDGET_SHARE = 0.1;
/** Most floats of candidates generated at once (also bounds the pool for very large inputs). */
export const MAX_MINE_POOL_FLOATS = 16 * 1024 * 1024;
/** Fewest pool candidates per kept input (a smaller pool keeps fewer inputs). */
export const MIN_POOL_PER_KEPT = 2;
/** Fewest kept inputs worth probing on (the same floor as a samples base): below it the caller keeps its probes. */
export const MIN_MINED_COUNT = 16;
/**
 * On a small trigger budget the mining still gets up to this many candidates (when the probing keeps at
 * least MIN_TRIGGER_BUDGET): a 10% share of a few thousand passes would be too small a pool to mine.
 */
export const MIN_MINE_POOL = 256;
/** Most candidates run per model call. */
const MINE_CHUNK = 1024;

export interface MineOptions {
  classes: number;
  /** Forward passes the mining may spend (the pool is cut to fit). */
  budget: number;
  seed?: number;
  range?: ValueRange;
  /** Inputs to keep (default MINED_BASE_COUNT). */
  count?: number;
  /** Pool size before the budget cut (default MINE_POOL). */
  pool?: number;
  file?: string;
}

export interface MinedBase {
  /** count x prod(shape) float32 values, class-interleaved (round-robin order). */
  base: Float32Array;
  count: number;
  /** Per kept input: the class the model assigns it and its logit margin over the runner-up. */
  classOf: Int32Array;
  margin: Float32Array;
  /** Kept inputs per class. */
  perClass: number[];
  /** Candidates run (= forward passes spent). */
  forwardPasses: number;
}

/** Pool size that the mining budget and input size allow. */
export function minePoolSize(budget: number, inputFloats: number, pool = MINE_POOL): number {
  return Math.max(
    0,
    Math.min(pool, Math.floor(budget), Math.floor(MAX_MINE_POOL_FLOATS / Math.max(1, inputFloats))),
  );
}

/** Inputs kept from a pool: the request, cut so each is chosen from MIN_POOL_PER_KEPT candidates; 0 = too few. */
export function minedCount(pool: number, requested: number): number {
  const n = Math.min(requested, Math.floor(pool / MIN_POOL_PER_KEPT));
  return n >= MIN_MINED_COUNT ? n : 0;
}

// Local names for the Math functions of the per-pixel loops: a global lookup per call is slow in sandboxed
// contexts (vm, test runners), and these loops run a few million times per model.
const { abs, ceil, exp, floor, imul, max, min, round, sqrt } = Math;

function dist(dy: number, dx: number): number {
  return sqrt(dy * dy + dx * dx);
}

/** Uniform in [0, 1) for (key, i): splitmix32's mix of the i-th step, so per-pixel noise costs no generator calls. */
function hashUniform(key: number, i: number): number {
  return mix32(key + imul(i + 1, 0x9e3779b9)) / 4294967296;
}

/** About standard normal for (key, i): the sum of four hashed uniforms, centred and scaled (Irwin-Hall). */
function hashNormal(key: number, i: number): number {
  const j = 4 * i;
  return (
    (hashUniform(key, j) + hashUniform(key, j + 1) + hashUniform(key, j + 2) + hashUniform(key, j + 3) - 2) *
    SQRT3
  );
}
const SQRT3 = sqrt(3);

/** The seed of candidate i: one generator per candidate so any candidate can be re-drawn alone. */
function candidateRng(seed: number, i: number): Rng {
  return new Rng(`mine-base:${seed}:${i}`);
}

/** Box blur of n values at stride `step` from `at` (running sum: cost independent of r; edges average fewer). */
function blurLine(
  src: Float32Array,
  dst: Float32Array,
  at: number,
  step: number,
  n: number,
  r: number,
): void {
  let sum = 0;
  let count = 0;
  for (let d = 0; d <= min(r, n - 1); d++) {
    sum += src[at + d * step];
    count++;
  }
  for (let x = 0; x < n; x++) {
    dst[at + x * step] = sum / count;
    const add = x + r + 1;
    const drop = x - r;
    if (add < n) {
      sum += src[at + add * step];
      count++;
    }
    if (drop >= 0) {
      sum -= src[at + drop * step];
      count--;
    }
  }
}

/** In-place separable box blur of an h x w plane, radius r, applied twice (close to a Gaussian). */
function blur(p: Float32Array, h: number, w: number, r: number): void {
  if (r < 1) return;
  const tmp = new Float32Array(p.length);
  for (let pass = 0; pass < 2; pass++) {
    for (let y = 0; y < h; y++) blurLine(p, tmp, y * w, 1, w, r);
    for (let x = 0; x < w; x++) blurLine(tmp, p, x, w, h, r);
  }
}

/** Min-max stretch of a plane to [0, 1] (a flat plane becomes 0). */
function stretch(p: Float32Array): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of p) {
    lo = min(lo, v);
    hi = max(hi, v);
  }
  const span = hi - lo;
  for (let i = 0; i < p.length; i++) p[i] = span > 0 ? (p[i] - lo) / span : 0;
}

/** Paints a soft-edged stroke along a quadratic Bezier curve (max-composited). */
function stroke(
  p: Float32Array,
  h: number,
  w: number,
  pts: [number, number][],
  thick: number,
  value: number,
): void {
  const [a, b, c] = pts;
  const len = dist(b[0] - a[0], b[1] - a[1]) + dist(c[0] - b[0], c[1] - b[1]);
  // Samples every half pixel (a quarter of the thickness on thick strokes: large images stay cheap).
  const steps = max(2, ceil(len / max(0.5, thick / 4)));
  const reach = ceil(thick + 1);
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    const u = 1 - t;
    const py = u * u * a[0] + 2 * u * t * b[0] + t * t * c[0];
    const px = u * u * a[1] + 2 * u * t * b[1] + t * t * c[1];
    const y0 = max(0, floor(py) - reach);
    const y1 = min(h - 1, ceil(py) + reach);
    const x0 = max(0, floor(px) - reach);
    const x1 = min(w - 1, ceil(px) + reach);
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const v = value * min(1, max(0, thick + 0.5 - dist(y - py, x - px)));
        if (v > p[y * w + x]) p[y * w + x] = v;
      }
    }
  }
}

/** Candidate families, drawn in turn (candidate i uses family i mod FAMILY_COUNT). */
const FAMILY_COUNT = 6;

/** Draws one candidate's h x w intensity plane in [0, 1]. */
function drawPlane(rng: Rng, family: number, h: number, w: number): Float32Array {
  const p = new Float32Array(h * w);
  const side = max(1, min(h, w) === 1 ? max(h, w) : min(h, w));
  const pt = (): [number, number] => [rng.uniform(0.1, 0.9) * (h - 1), rng.uniform(0.1, 0.9) * (w - 1)];
  const thickness = () => rng.uniform(0.4, 1.3) * max(1, side / 14);
  switch (family) {
    case 0: {
      // Smooth noise, thresholded into a few soft shapes.
      const key = rng.nextUint32();
      for (let i = 0; i < p.length; i++) p[i] = hashNormal(key, i);
      blur(p, h, w, 1 + rng.int(max(1, round(side / 6))));
      stretch(p);
      const t = rng.uniform(0.45, 0.8);
      const k = rng.uniform(6, 24);
      for (let i = 0; i < p.length; i++) p[i] = 1 / (1 + exp(-k * (p[i] - t)));
      break;
    }
    case 1:
    case 2: {
      // Pen strokes (digit-like): 1-4 curves.
      const n = 1 + rng.int(4);
      const th = thickness();
      for (let s = 0; s < n; s++) stroke(p, h, w, [pt(), pt(), pt()], th, rng.uniform(0.7, 1));
      break;
    }
    case 3: {
      // A ring (ellipse outline) with 0-2 strokes: loops and loop-plus-tail shapes.
      const cy = rng.uniform(0.3, 0.7) * (h - 1);
      const cx = rng.uniform(0.3, 0.7) * (w - 1);
      const ry = max(0.5, rng.uniform(0.12, 0.4) * h);
      const rx = max(0.5, rng.uniform(0.12, 0.4) * w);
      const th = thickness();
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const d = abs(dist((y - cy) / ry, (x - cx) / rx) - 1) * min(ry, rx);
          p[y * w + x] = min(1, max(0, th + 0.5 - d));
        }
      }
      const n = rng.int(3);
      for (let s = 0; s < n; s++) stroke(p, h, w, [pt(), pt(), pt()], th, rng.uniform(0.7, 1));
      break;
    }
    case 4: {
      // Gaussian blobs.
      const n = 1 + rng.int(4);
      for (let b = 0; b < n; b++) {
        const [by, bx] = pt();
        const s = max(0.5, rng.uniform(0.06, 0.25) * side);
        const amp = rng.uniform(0.5, 1);
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++)
            p[y * w + x] += amp * exp(-((y - by) ** 2 + (x - bx) ** 2) / (2 * s * s));
      }
      for (let i = 0; i < p.length; i++) p[i] = min(1, p[i]);
      break;
    }
    default: {
      // Noise at a random mean and contrast, lightly blurred or not (the probe set's kind of input).
      const mean = rng.uniform(0.1, 0.6);
      const sd = rng.uniform(0.05, 0.4);
      const key = rng.nextUint32();
      for (let i = 0; i < p.length; i++) p[i] = mean + sd * hashNormal(key, i);
      blur(p, h, w, rng.int(2));
      for (let i = 0; i < p.length; i++) p[i] = min(1, max(0, p[i]));
    }
  }
  return p;
}

/** Writes candidate i (C x H x W at the value range) into out. */
export function drawCandidate(
  out: Float32Array,
  g: ImageGeometry,
  range: ValueRange,
  seed: number,
  i: number,
): void {
  const rng = candidateRng(seed, i);
  const plane = drawPlane(rng, i % FAMILY_COUNT, g.h, g.w);
  // Faint background noise on some candidates; a dark-on-light version of a fifth of them.
  const noise = rng.next() < 0.3 ? rng.uniform(0.02, 0.15) : 0;
  const key = rng.nextUint32();
  const invert = rng.next() < 0.2;
  const span = range.hi - range.lo;
  const hw = g.h * g.w;
  for (let ch = 0; ch < g.c; ch++) {
    const gain = g.c > 1 ? rng.uniform(0.6, 1) : 1;
    for (let j = 0; j < hw; j++) {
      let v = plane[j] * gain + (noise > 0 ? noise * hashNormal(key, ch * hw + j) : 0);
      v = min(1, max(0, v));
      out[ch * hw + j] = range.lo + span * (invert ? 1 - v : v);
    }
  }
}

/**
 * Mines `count` base inputs for the model behind `run`: generates the pool, runs it once, keeps the most
 * confidently classified candidates per class, round-robin over classes. Returns null when the budget or
 * input size affords too small a pool (the caller keeps its probe set).
 */
export async function mineBase(
  run: RunLogits,
  shape: readonly number[],
  opts: MineOptions,
): Promise<MinedBase | null> {
  const k = opts.classes;
  if (!Number.isInteger(k) || k < 2) throw new Error(`mineBase: need at least 2 classes, got ${k}`);
  const g = imageGeometry(shape);
  const size = inputSize(g);
  const range = opts.range ?? { lo: 0, hi: 1 };
  if (!(range.hi > range.lo)) throw new Error(`mineBase: empty value range [${range.lo}, ${range.hi}]`);
  const seed = opts.seed ?? 0;
  const pool = minePoolSize(opts.budget, size, opts.pool);
  const count = minedCount(pool, opts.count ?? MINED_BASE_COUNT);
  if (count === 0) return null;
  const runner = new BudgetedRunner(run, pool, size, k, opts.file ?? 'model');

  // 1. Run the pool in chunks; per candidate its class and margin over the runner-up.
  const pred = new Int32Array(pool);
  const margin = new Float32Array(pool);
  const chunk = Math.max(1, Math.min(MINE_CHUNK, Math.floor(MAX_FLOATS_PER_RUN / size)));
  for (let start = 0; start < pool; start += chunk) {
    const n = Math.min(chunk, pool - start);
    const batch = new Float32Array(n * size);
    for (let i = 0; i < n; i++)
      drawCandidate(batch.subarray(i * size, (i + 1) * size), g, range, seed, start + i);
    const logits = await runner.logits(batch, n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (logits[i * k + c] > logits[i * k + best]) best = c;
      let second = -Infinity;
      for (let c = 0; c < k; c++) if (c !== best) second = Math.max(second, logits[i * k + c]);
      pred[start + i] = best;
      // A NaN logit row ranks last.
      const m = logits[i * k + best] - second;
      margin[start + i] = Number.isFinite(m) ? m : -Infinity;
    }
  }

  // 2. Per class, its candidates by margin (ties: lower index); round-robin over classes.
  const byClass: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < pool; i++) byClass[pred[i]].push(i);
  for (const list of byClass) list.sort((a, b) => margin[b] - margin[a] || a - b);
  const kept: number[] = [];
  for (let r = 0; kept.length < count; r++) {
    let any = false;
    for (let c = 0; c < k && kept.length < count; c++) {
      if (r < byClass[c].length) {
        kept.push(byClass[c][r]);
        any = true;
      }
    }
    if (!any) break;
  }

  // 3. Re-draw the kept candidates.
  const base = new Float32Array(kept.length * size);
  kept.forEach((idx, j) => drawCandidate(base.subarray(j * size, (j + 1) * size), g, range, seed, idx));
  const perClass = new Array<number>(k).fill(0);
  for (const idx of kept) perClass[pred[idx]]++;
  return {
    base,
    count: kept.length,
    classOf: Int32Array.from(kept, (i) => pred[i]),
    margin: Float32Array.from(kept, (i) => margin[i]),
    perClass,
    forwardPasses: runner.used,
  };
}

/** A mined base and the budget left for trigger probing. */
export interface MinedTriggerBase extends MinedBase {
  /** The trigger check's budget minus the mining's forward passes. */
  probeBudget: number;
}

/**
 * The trigger check's no-samples path: mines the base with MINE_BUDGET_SHARE of the check's total `budget`
 * (at least MIN_MINE_POOL when the probing keeps MIN_TRIGGER_BUDGET), and says what is left for
 * probeTriggers (so mining plus probing stay within `budget`). Null when the budget or the input size is too
 * small to mine (the caller keeps the probe set).
 */
/**
 * The forward passes mining takes from a trigger budget for inputs of `inputFloats` values (its pool). A base
 * synthesised instead (synth-base.ts) leaves probing the same rest, so its null compares with the mined one's.
 */
export function miningPasses(budget: number, inputFloats: number): number {
  return minePoolSize(mineBudgetFor(budget), inputFloats);
}

function mineBudgetFor(budget: number): number {
  return Math.max(
    Math.floor(budget * MINE_BUDGET_SHARE),
    Math.min(MIN_MINE_POOL, budget - MIN_TRIGGER_BUDGET),
  );
}

export async function mineTriggerBase(
  run: RunLogits,
  shape: readonly number[],
  opts: Omit<MineOptions, 'budget' | 'pool'> & { budget: number },
): Promise<MinedTriggerBase | null> {
  const mined = await mineBase(run, shape, { ...opts, budget: mineBudgetFor(opts.budget) });
  if (!mined) return null;
  return { ...mined, probeBudget: opts.budget - mined.forwardPasses };
}
