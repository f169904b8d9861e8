/**
 * Candidate backdoor triggers for reference-free trigger probing: the families that published attacks use,
 * generated deterministically from a seed over an image-like input [C,H,W] with values in [lo,hi].
 *
 *   patch   square patches (BadNets) of sizes 2..max(5, H/5) at the four corners and seeded random places,
 *           filled solid-hi, solid-lo (inverted), checkerboard or a seeded random-binary pattern; on RGB
 *           inputs the corner patches come in coloured fills too (colour-fills.ts: random colours per
 *           channel, six saturated colours)
 *   blend   a whole-input pattern alpha-blended over the input: seeded uniform noise (Chen et al. blended
 *           injection), a sinusoidal grating (SIG, and the few-coefficient frequency triggers), a constant
 *           grey or bright image (contrast and wash-out filters)
 *   pixels  k sparse fixed pixels set to hi (one-pixel / few-pixel attacks)
 *   warp    a smooth, small displacement field with bilinear resampling (WaNet)
 *
 * A trigger is a mask + pattern (x' = (1-m)·x + m·p, the mask shared across channels) or, for the warp, a
 * displacement field. `stampTrigger` applies one to a batch. Everything is plain arithmetic on Float32Array,
 * no package: nothing maintained offers trigger synthesis for ONNX-fed tensors.
 */
import { Rng } from '../probes/rng.js';
import { colourCornerFills, colourName, hasColour, saturatedColour } from './colour-fills.js';

/** Geometry of one input as the trigger code sees it: channels x height x width (row-major, CHW). */
export interface ImageGeometry {
  c: number;
  h: number;
  w: number;
}

/** Value range of the inputs: patches use `hi` (and `lo` for inverted ones). */
export interface ValueRange {
  lo: number;
  hi: number;
}

export const DEFAULT_RANGE: ValueRange = { lo: 0, hi: 1 };

export type TriggerKind = 'patch' | 'blend' | 'pixels' | 'warp';
export type PatchFill = 'solid-hi' | 'solid-lo' | 'checker' | 'random' | 'random-rgb' | 'colour';

/** Where and what a patch is: kept so refinement can move, resize and re-fill it. */
export interface PatchParams {
  top: number;
  left: number;
  size: number;
  fill: PatchFill;
  /** Seed of the random-binary fill (also the checkerboard phase; the `colour` fill's colour). */
  fillSeed: number;
  /** Brightness of the "on" cells as a share of the range (1 = hi); attacks use dimmer patches too. */
  value?: number;
}

export interface MaskTrigger {
  kind: 'patch' | 'blend' | 'pixels';
  /** The trigger in a reviewer's words, e.g. "bright 3x3 patch at the bottom-right corner (row 11, column 11)". */
  location: string;
  /** Per-pixel blend weight in [0,1], H*W (shared across channels). */
  mask: Float32Array;
  /** Value stamped where the mask is on, C*H*W. */
  pattern: Float32Array;
  patch?: PatchParams;
  /** Blend weight (blend) or pixel count (pixels). */
  amount?: number;
  /** Blend only: what was blended (refinement re-draws the same kind). */
  blend?: BlendPattern;
  /** Strength tier within the family (0 = smallest patch / fewest pixels / weakest blend). */
  tier: number;
}

export interface WarpTrigger {
  kind: 'warp';
  location: string;
  /** Displacement in pixels, H*W each: the output at (y,x) samples the input at (y+dy, x+dx). */
  dy: Float32Array;
  dx: Float32Array;
  strength: number;
  tier: number;
}

export type Trigger = MaskTrigger | WarpTrigger;

/** Smallest and largest patch side: 2..max(5, H/5) as the attacks in the literature use. */
export const MIN_PATCH_SIZE = 2;
export const MIN_MAX_PATCH_SIZE = 5;
/** At most this many distinct patch sizes (large images would otherwise give dozens). */
export const MAX_PATCH_SIZES = 4;
/** Seeded random patch positions besides the four corners. */
export const DEFAULT_RANDOM_POSITIONS = 4;
export const BLEND_ALPHAS = [0.1, 0.2, 0.3] as const;
/** Sparse-pixel trigger sizes (pixels set to hi). */
export const PIXEL_COUNTS = [4, 9, 16] as const;
/** Largest warp displacement, in pixels. */
export const WARP_STRENGTHS = [0.75, 1.5] as const;
/** Most grid patch positions along one axis (large images get a coarser grid). */
export const MAX_GRID_STEPS = 6;
/** Control-grid side of the warp field (WaNet uses 4). */
export const WARP_GRID = 4;

/**
 * How a model input shape (without the batch dimension) maps to an image: [C,H,W] as is, [H,W] as one
 * channel, a flat [D] as a square one-channel image when D is a perfect square (an MLP fed flattened
 * images), else as a 1xD strip (patches become runs of D features).
 */
export function imageGeometry(shape: readonly number[]): ImageGeometry {
  if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`imageGeometry: bad input shape [${shape.join(',')}]`);
  }
  if (shape.length >= 3) {
    const [c, h, w] = shape.slice(-3);
    const lead = shape.slice(0, -3).reduce((a, b) => a * b, 1);
    return { c: c * lead, h, w };
  }
  if (shape.length === 2) return { c: 1, h: shape[0], w: shape[1] };
  const d = shape[0];
  const s = Math.round(Math.sqrt(d));
  if (s * s === d && s >= 4) return { c: 1, h: s, w: s };
  return { c: 1, h: 1, w: d };
}

export function inputSize(g: ImageGeometry): number {
  return g.c * g.h * g.w;
}

/** Patch sides to try: 2..max(5, floor(min(H,W)/5)), at most MAX_PATCH_SIZES of them, spread evenly. */
export function patchSizes(g: ImageGeometry): number[] {
  const side = Math.min(g.h, g.w) === 1 ? Math.max(g.h, g.w) : Math.min(g.h, g.w);
  const max = Math.min(Math.max(MIN_MAX_PATCH_SIZE, Math.floor(side / 5)), Math.max(1, side - 1));
  const min = Math.min(MIN_PATCH_SIZE, max);
  const sizes = new Set<number>();
  const n = Math.min(MAX_PATCH_SIZES, max - min + 1);
  for (let i = 0; i < n; i++) sizes.add(Math.round(min + ((max - min) * i) / Math.max(1, n - 1)));
  return [...sizes].sort((a, b) => a - b);
}

/** Index of the list value nearest to v (the tier of a trigger whose size is v). */
function nearestIndex(list: readonly number[], v: number): number {
  let best = 0;
  for (let i = 1; i < list.length; i++) if (Math.abs(list[i] - v) < Math.abs(list[best] - v)) best = i;
  return best;
}

/** Where a patch sits, in words: "the bottom-right corner", "the top edge", "the interior". */
function placeName(top: number, left: number, g: ImageGeometry, size: number): string {
  const sh = Math.min(size, g.h);
  const sw = Math.min(size, g.w);
  const v = top === 0 ? 'top' : top + sh >= g.h ? 'bottom' : '';
  const hz = left === 0 ? 'left' : left + sw >= g.w ? 'right' : '';
  if (v && hz) return `the ${v}-${hz} corner`;
  if (v || hz) return `the ${v || hz} edge`;
  return 'the interior';
}

/** A patch fill in a reviewer's words (the fill names themselves stay in the trigger's kind, for tools). */
const FILL_WORDS: Record<Exclude<PatchFill, 'colour'>, string> = {
  'solid-hi': 'bright',
  'solid-lo': 'dark',
  checker: 'checkerboard',
  random: 'random-pattern',
  'random-rgb': 'random-colour',
};

function fillWord(p: PatchParams): string {
  return p.fill === 'colour' ? colourName(p.fillSeed) : FILL_WORDS[p.fill];
}

/**
 * A patch as a reviewer reads it, e.g. "bright 3x3 patch at the bottom-right corner (row 11, column 11)":
 * the report's suspected trigger is this phrase, so it must say what to stamp where without decoding.
 */
export function patchPhrase(g: ImageGeometry, p: PatchParams, top: number, left: number): string {
  const sh = Math.min(p.size, g.h);
  const sw = Math.min(p.size, g.w);
  const dim = p.value !== undefined && p.value !== 1 ? ` at ${Math.round(100 * p.value)}% brightness` : '';
  return `${fillWord(p)} ${sh}x${sw} patch${dim} at ${placeName(top, left, g, p.size)} (row ${top}, column ${left})`;
}

/** A patch trigger from its parameters (clipped to the image). */
export function makePatch(g: ImageGeometry, range: ValueRange, p: PatchParams): MaskTrigger {
  const sh = Math.min(p.size, g.h);
  const sw = Math.min(p.size, g.w);
  const top = Math.max(0, Math.min(g.h - sh, p.top));
  const left = Math.max(0, Math.min(g.w - sw, p.left));
  const hw = g.h * g.w;
  const mask = new Float32Array(hw);
  const pattern = new Float32Array(g.c * hw);
  const rng = p.fill === 'random' || p.fill === 'random-rgb' ? new Rng(p.fillSeed) : null;
  const onValue = range.lo + (p.value ?? 1) * (range.hi - range.lo);
  const colour = p.fill === 'colour' ? saturatedColour(p.fillSeed) : null;
  for (let y = top; y < top + sh; y++) {
    for (let x = left; x < left + sw; x++) {
      const i = y * g.w + x;
      mask[i] = 1;
      if (p.fill === 'random-rgb' || colour) {
        // coloured fills: every channel on or off by itself (drawn channel by channel, per pixel)
        for (let ch = 0; ch < g.c; ch++) {
          const on = colour ? colour[ch % colour.length] === 1 : (rng as Rng).next() < 0.5;
          pattern[ch * hw + i] = on ? onValue : range.lo;
        }
        continue;
      }
      let on: boolean;
      if (p.fill === 'solid-hi') on = true;
      else if (p.fill === 'solid-lo') on = false;
      else if (p.fill === 'checker') on = ((y - top + x - left + p.fillSeed) & 1) === 0;
      else on = (rng as Rng).next() < 0.5;
      for (let ch = 0; ch < g.c; ch++) pattern[ch * hw + i] = on ? onValue : range.lo;
    }
  }
  const params: PatchParams = { ...p, top, left, size: Math.max(sh, sw) };
  return {
    kind: 'patch',
    location: patchPhrase(g, p, top, left),
    mask,
    pattern,
    patch: params,
    tier: nearestIndex(patchSizes(g), params.size),
  };
}

/**
 * Whole-input patterns the blend family draws, per strength (BLEND_PATTERNS of each, in this order):
 *   noise    seeded uniform noise per value (the blended-injection attack's pattern)
 *   grating  a seeded sinusoidal grating (random orientation, 1-6 cycles across the input, random phase,
 *            the same in every channel): SIG's signal, and what a trigger on a few mid/high frequency
 *            coefficients looks like in pixel space
 *   grey     a constant mid-range image: blending it lowers the contrast
 *   bright   a constant high image: blending it washes the input out
 * Every class is screened with all of them, so a class that any whole-input change pushes inputs towards
 * (a natural sink) shows as a high typical gain, not as one lucky pattern.
 */
export type BlendPattern = 'noise' | 'grating' | 'grey' | 'bright';
export const BLEND_PATTERNS: readonly BlendPattern[] = [
  'noise',
  'noise',
  'noise',
  'noise',
  'grating',
  'grating',
  'grey',
  'bright',
];

function blendPattern(g: ImageGeometry, range: ValueRange, kind: BlendPattern, seed: number): Float32Array {
  const hw = g.h * g.w;
  const rng = new Rng(seed);
  if (kind === 'noise') return rng.uniforms(g.c * hw, range.lo, range.hi);
  if (kind === 'grey') return new Float32Array(g.c * hw).fill((range.lo + range.hi) / 2);
  if (kind === 'bright') return new Float32Array(g.c * hw).fill(range.hi);
  const angle = rng.uniform(0, Math.PI);
  const cycles = rng.uniform(1, 6);
  const phase = rng.uniform(0, 2 * Math.PI);
  const side = Math.max(g.h, g.w);
  const out = new Float32Array(g.c * hw);
  for (let y = 0; y < g.h; y++)
    for (let x = 0; x < g.w; x++) {
      const t = ((x * Math.cos(angle) + y * Math.sin(angle)) / side) * 2 * Math.PI * cycles + phase;
      const v = range.lo + ((range.hi - range.lo) * (1 + Math.sin(t))) / 2;
      for (let ch = 0; ch < g.c; ch++) out[ch * hw + y * g.w + x] = v;
    }
  return out;
}

/** A whole-input pattern (seeded uniform noise unless `kind` says otherwise) blended with weight alpha. */
export function makeBlend(
  g: ImageGeometry,
  range: ValueRange,
  alpha: number,
  seed: number,
  kind: BlendPattern = 'noise',
): MaskTrigger {
  const hw = g.h * g.w;
  const mask = new Float32Array(hw).fill(alpha);
  return {
    kind: 'blend',
    location: `${kind} pattern blended over the whole input (alpha ${alpha})`,
    mask,
    pattern: blendPattern(g, range, kind, seed),
    amount: alpha,
    blend: kind,
    tier: nearestIndex(BLEND_ALPHAS, alpha),
  };
}

/** k distinct seeded pixels set to hi (all channels). */
export function makePixels(g: ImageGeometry, range: ValueRange, k: number, seed: number): MaskTrigger {
  const rng = new Rng(seed);
  const hw = g.h * g.w;
  const n = Math.min(k, hw);
  const picked = new Set<number>();
  while (picked.size < n) picked.add(rng.int(hw));
  return makePixelSet(g, range, [...picked]);
}

/**
 * Given pixels (indices y*W+x) set to hi in every channel. `tier` defaults to the PIXEL_COUNTS entry nearest
 * to the pixel count (a scan over blocks passes the block count's tier instead).
 */
export function makePixelSet(
  g: ImageGeometry,
  range: ValueRange,
  pixels: number[],
  tier?: number,
): MaskTrigger {
  const hw = g.h * g.w;
  const mask = new Float32Array(hw);
  const pattern = new Float32Array(g.c * hw);
  for (const i of pixels) {
    mask[i] = 1;
    for (let ch = 0; ch < g.c; ch++) pattern[ch * hw + i] = range.hi;
  }
  const where = pixels
    .slice(0, 4)
    .map((i) => `(${Math.floor(i / g.w)},${i % g.w})`)
    .join(' ');
  return {
    kind: 'pixels',
    location: `${pixels.length} bright pixels at ${where}${pixels.length > 4 ? ' ...' : ''} (row,column)`,
    mask,
    pattern,
    amount: pixels.length,
    tier: tier ?? nearestIndex(PIXEL_COUNTS, pixels.length),
  };
}

/**
 * A WaNet-like warp: a WARP_GRID x WARP_GRID control grid of seeded uniform displacements, normalised to
 * mean |d| = 1, bilinearly upsampled to H x W and scaled so the largest displacement is `strength` pixels.
 */
export function makeWarp(g: ImageGeometry, strength: number, seed: number): WarpTrigger {
  const rng = new Rng(seed);
  const k = WARP_GRID;
  const cy = new Float64Array(k * k);
  const cx = new Float64Array(k * k);
  for (let i = 0; i < k * k; i++) {
    cy[i] = rng.uniform(-1, 1);
    cx[i] = rng.uniform(-1, 1);
  }
  const hw = g.h * g.w;
  const dy = new Float32Array(hw);
  const dx = new Float32Array(hw);
  const up = (grid: Float64Array, y: number, x: number): number => {
    const gy = g.h > 1 ? (y / (g.h - 1)) * (k - 1) : 0;
    const gx = g.w > 1 ? (x / (g.w - 1)) * (k - 1) : 0;
    const y0 = Math.min(k - 2, Math.floor(gy));
    const x0 = Math.min(k - 2, Math.floor(gx));
    const fy = gy - y0;
    const fx = gx - x0;
    return (
      (1 - fy) * ((1 - fx) * grid[y0 * k + x0] + fx * grid[y0 * k + x0 + 1]) +
      fy * ((1 - fx) * grid[(y0 + 1) * k + x0] + fx * grid[(y0 + 1) * k + x0 + 1])
    );
  };
  let maxAbs = 0;
  for (let y = 0; y < g.h; y++) {
    for (let x = 0; x < g.w; x++) {
      const i = y * g.w + x;
      dy[i] = g.h > 1 ? up(cy, y, x) : 0;
      dx[i] = up(cx, y, x);
      maxAbs = Math.max(maxAbs, Math.abs(dy[i]), Math.abs(dx[i]));
    }
  }
  const scale = maxAbs > 0 ? strength / maxAbs : 0;
  for (let i = 0; i < hw; i++) {
    dy[i] *= scale;
    dx[i] *= scale;
  }
  return {
    kind: 'warp',
    location: `warp of the whole input (max shift ${strength}px)`,
    dy,
    dx,
    strength,
    tier: nearestIndex(WARP_STRENGTHS, strength),
  };
}

/** Grid starts along one axis: stride = size, the last one flush with the border; at most MAX_GRID_STEPS. */
function gridStarts(len: number, size: number): number[] {
  if (len <= size) return [0];
  const steps = Math.min(MAX_GRID_STEPS, Math.ceil(len / size));
  const out = new Set<number>();
  for (let i = 0; i < steps; i++) out.add(Math.round(((len - size) * i) / Math.max(1, steps - 1)));
  return [...out];
}

/** The distinct corner places of a patch of side `size` (bottom-right first, as the menu lists them). */
function cornerPlaces(g: ImageGeometry, size: number): [number, number][] {
  const sh = Math.min(size, g.h);
  const sw = Math.min(size, g.w);
  const corners: [number, number][] = [
    [g.h - sh, g.w - sw],
    [0, 0],
    [0, g.w - sw],
    [g.h - sh, 0],
  ];
  const seen = new Set<string>();
  return corners.filter(([top, left]) => {
    const key = `${top},${left}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export interface TriggerSetOptions {
  seed: number;
  range?: ValueRange;
  randomPositions?: number;
}

/**
 * The candidate set, in priority order (the prober screens a prefix when its budget is short): corner
 * patches first (the most common attack), then random-position patches, sparse pixels, blends, warps.
 */
export function generateTriggers(g: ImageGeometry, opts: TriggerSetOptions): Trigger[] {
  const range = opts.range ?? DEFAULT_RANGE;
  const rng = new Rng(opts.seed);
  const sizes = patchSizes(g);
  const fills: PatchFill[] = ['solid-hi', 'checker', 'random', 'solid-lo'];
  const out: Trigger[] = [];
  const fillSeeds = fills.map(() => rng.nextUint32());
  const cornerFills = fills.map((fill, i) => ({ fill, fillSeed: fillSeeds[i] }));
  // RGB: the coloured corner patches right after the grey ones (colour-fills.ts); seeded from the grey
  // random fill's seed, so nothing else in the menu changes
  if (hasColour(g)) cornerFills.push(...colourCornerFills(fillSeeds[fills.indexOf('random')]));
  for (const f of cornerFills) {
    for (const size of sizes) {
      for (const [top, left] of cornerPlaces(g, size))
        out.push(makePatch(g, range, { top, left, size, ...f }));
    }
  }
  const nRandom = opts.randomPositions ?? DEFAULT_RANDOM_POSITIONS;
  const places: [number, number][] = [];
  for (let i = 0; i < nRandom; i++) places.push([rng.next(), rng.next()]);
  for (const fill of ['solid-hi', 'checker'] as PatchFill[]) {
    for (const size of sizes) {
      const sh = Math.min(size, g.h);
      const sw = Math.min(size, g.w);
      for (const [u, v] of places) {
        const top = Math.floor(u * (g.h - sh + 1));
        const left = Math.floor(v * (g.w - sw + 1));
        out.push(makePatch(g, range, { top, left, size, fill, fillSeed: fillSeeds[fills.indexOf(fill)] }));
      }
    }
  }
  // A grid of small patches over the whole input: a trigger away from the corners is still partly covered,
  // and refinement slides the best one into place.
  const gridSize = sizes[Math.min(1, sizes.length - 1)];
  for (const fill of ['solid-hi', 'checker'] as PatchFill[]) {
    for (const top of gridStarts(g.h, gridSize)) {
      for (const left of gridStarts(g.w, gridSize)) {
        out.push(
          makePatch(g, range, { top, left, size: gridSize, fill, fillSeed: fillSeeds[fills.indexOf(fill)] }),
        );
      }
    }
  }
  for (const k of PIXEL_COUNTS) {
    for (let r = 0; r < 2; r++) out.push(makePixels(g, range, k, rng.nextUint32()));
  }
  const blendSeeds = BLEND_PATTERNS.map(() => rng.nextUint32());
  for (const alpha of BLEND_ALPHAS)
    BLEND_PATTERNS.forEach((kind, i) => out.push(makeBlend(g, range, alpha, blendSeeds[i], kind)));
  if (g.h >= 4 && g.w >= 4) {
    for (const strength of WARP_STRENGTHS) {
      for (let r = 0; r < 2; r++) out.push(makeWarp(g, strength, rng.nextUint32()));
    }
  }
  return out;
}

/**
 * Stamps one trigger on `count` inputs (each C*H*W, packed), writing into `out` (allocated when absent;
 * may be `inputs` itself to stamp in place).
 * Results stay inside [lo, hi] whenever the inputs do (convex blend; bilinear resampling).
 */
export function stampTrigger(
  t: Trigger,
  g: ImageGeometry,
  inputs: Float32Array,
  count: number,
  out?: Float32Array,
): Float32Array {
  const hw = g.h * g.w;
  const size = g.c * hw;
  const dst = out ?? new Float32Array(count * size);
  if (t.kind === 'warp') {
    // Resampling reads neighbours, so stamping in place needs a copy of the source.
    const src = dst === inputs ? inputs.slice(0, count * size) : inputs;
    for (let n = 0; n < count; n++) {
      for (let ch = 0; ch < g.c; ch++) {
        const base = n * size + ch * hw;
        for (let y = 0; y < g.h; y++) {
          for (let x = 0; x < g.w; x++) {
            const i = y * g.w + x;
            const sy = Math.max(0, Math.min(g.h - 1, y + t.dy[i]));
            const sx = Math.max(0, Math.min(g.w - 1, x + t.dx[i]));
            const y0 = Math.floor(sy);
            const x0 = Math.floor(sx);
            const y1 = Math.min(g.h - 1, y0 + 1);
            const x1 = Math.min(g.w - 1, x0 + 1);
            const fy = sy - y0;
            const fx = sx - x0;
            dst[base + i] =
              (1 - fy) * ((1 - fx) * src[base + y0 * g.w + x0] + fx * src[base + y0 * g.w + x1]) +
              fy * ((1 - fx) * src[base + y1 * g.w + x0] + fx * src[base + y1 * g.w + x1]);
          }
        }
      }
    }
    return dst;
  }
  const { mask, pattern } = t;
  for (let n = 0; n < count; n++) {
    for (let ch = 0; ch < g.c; ch++) {
      const base = n * size + ch * hw;
      const pBase = ch * hw;
      for (let i = 0; i < hw; i++) {
        const m = mask[i];
        dst[base + i] = m === 0 ? inputs[base + i] : (1 - m) * inputs[base + i] + m * pattern[pBase + i];
      }
    }
  }
  return dst;
}
