/**
 * The objective's terms on tensors (tv with p = 1 and 2, l2, l2Bound on both sides of its bound, DeepInversion's
 * bnStats) and the synthesis objective of src/selfcheck/synthesise.ts (an identity prelude with a normalisation,
 * cross-entropy to per-sample targets plus tv, l2 and bnStats, differentiated with respect to the prelude's
 * data) against central finite differences of ONNX Runtime's own float32 forward pass of the objective, on
 * every input coordinate of a small Conv -> BatchNormalization -> Tanh -> Gemm model written here. The
 * parity test compares the same terms with PyTorch on fixture models; this one needs no fixture and tests
 * the terms one at a time, so a wrong term is named.
 */
import { buildGradientGraph, GradientSession, type GradientSpec } from '../../../src/model/grad/index.js';
import { parseModel } from '../../../src/model/read.js';
import { GraphBuilder, attr } from '../../../src/model/write.js';
import { Rng } from '../../../src/probes/rng.js';
import { synthesisSpec } from '../../../src/selfcheck/synthesise.js';

const H = 1e-2;
const FD_TOLERANCE = 2e-3;
const SHAPE = [3, 2, 4, 4];
const N = SHAPE.reduce((a, b) => a * b, 1);

/**
 * Conv 3x3 (2 -> 3 channels, pad 1) -> BatchNormalization (inference) -> Tanh -> Flatten -> Gemm (5 classes):
 * smooth, so a finite difference never straddles a kink of the model (the rules' kinks have their own tests).
 */
function model() {
  const rng = new Rng('objective-terms');
  const g = new GraphBuilder({ opset: 13 });
  g.addInput('x', 'float32', ['N', 2, 4, 4]);
  g.addInitializer('w', 'float32', [3, 2, 3, 3], rng.uniforms(54, -0.5, 0.5));
  g.addInitializer('b', 'float32', [3], rng.uniforms(3, -0.1, 0.1));
  g.addNode('Conv', ['x', 'w', 'b'], ['c'], {
    kernel_shape: attr.ints([3, 3]),
    pads: attr.ints([1, 1, 1, 1]),
  });
  g.addInitializer('scale', 'float32', [3], rng.uniforms(3, 0.5, 1.5));
  g.addInitializer('bias', 'float32', [3], rng.uniforms(3, -0.2, 0.2));
  g.addInitializer('mean', 'float32', [3], rng.uniforms(3, -0.3, 0.3));
  g.addInitializer('var', 'float32', [3], rng.uniforms(3, 0.2, 0.6));
  g.addNode('BatchNormalization', ['c', 'scale', 'bias', 'mean', 'var'], ['n'], {
    epsilon: attr.float(1e-5),
  });
  g.addNode('Tanh', ['n'], ['r']);
  g.addNode('Flatten', ['r'], ['f']);
  g.addInitializer('fc', 'float32', [5, 48], rng.uniforms(240, -0.3, 0.3));
  g.addNode('Gemm', ['f', 'fc'], ['logits'], { transB: attr.int(1) });
  g.addOutput('logits', 'float32', ['N', 5]);
  return parseModel(g.toBytes(), 'terms.onnx');
}

/** A shuffled grid of distinct values 4H apart around `centre`: no two neighbours within H (TV's |.| kinks). */
function distinct(seed: string, centre: number): Float32Array {
  const v = Float32Array.from({ length: N }, (_, i) => centre + (i - N / 2 + 0.5) * 4 * H);
  const rng = new Rng(seed);
  for (let i = N - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
}

/** max |analytic - central difference| / max |analytic| over every coordinate of the fed tensor `key`. */
async function fdError(
  spec: GradientSpec,
  key: string,
  x: Float32Array,
): Promise<{ err: number; terms: number[] }> {
  const session = await GradientSession.open(buildGradientGraph(model(), spec));
  const feeds = (v: Float32Array) => ({
    [key]: { data: v, dims: SHAPE },
    ...(session.feeds.targets ? { targets: [0, 3, 4] } : {}),
  });
  try {
    const r = await session.run(feeds(x));
    const g = r.grads[key === 'x' ? 'input' : key].data;
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < N; i++) {
      const xp = x.slice();
      xp[i] += H;
      const xm = x.slice();
      xm[i] -= H;
      const fd =
        ((await session.run(feeds(xp))).objective - (await session.run(feeds(xm))).objective) / (2 * H);
      diff = Math.max(diff, Math.abs(fd - g[i]));
      scale = Math.max(scale, Math.abs(g[i]));
    }
    expect(scale).toBeGreaterThan(0);
    return { err: diff / scale, terms: r.terms };
  } finally {
    await session.release();
  }
}

describe('objective terms on the input match central finite differences', () => {
  const x = distinct('terms-x', 0.1);
  test.each<[string, GradientSpec]>([
    ['tv p = 1', { terms: [{ kind: 'tv', of: 'input', p: 1 }] }],
    ['tv p = 2', { terms: [{ kind: 'tv', of: 'input', p: 2 }] }],
    ['l2', { terms: [{ kind: 'l2', of: 'input' }] }],
    // sum x^2 over a sample is about 40 here: a bound of 0.5 is active (a bound of 8 is not: the next test).
    ['l2Bound, outside the bound', { terms: [{ kind: 'l2Bound', of: 'input', bound: 0.5 }] }],
    ['bnStats (DeepInversion)', { terms: [{ kind: 'bnStats' }] }],
    [
      'the sum of them with a logit, weighted',
      {
        terms: [
          { kind: 'logit', target: 2 },
          { kind: 'tv', of: 'input', p: 2, weight: 0.3 },
          { kind: 'l2', of: 'input', weight: 0.1 },
          { kind: 'bnStats', weight: 0.5 },
        ],
      },
    ],
  ])('%s', async (_name, spec) => {
    const { err } = await fdError(spec, 'x', x);
    expect(err).toBeLessThan(FD_TOLERANCE);
  });

  test('the tv and l2 values are what their definitions say (computed here, per sample, then averaged)', async () => {
    const session = await GradientSession.open(
      buildGradientGraph(model(), {
        terms: [
          { kind: 'tv', of: 'input', p: 1 },
          { kind: 'tv', of: 'input', p: 2 },
          { kind: 'l2', of: 'input' },
        ],
      }),
    );
    const r = await session.run({ x: { data: x, dims: SHAPE } });
    await session.release();
    const [n, c, h, w] = SHAPE;
    const want = [0, 0, 0];
    for (let i = 0; i < n * c; i++)
      for (let y = 0; y < h; y++)
        for (let v = 0; v < w; v++) {
          const at = i * h * w + y * w + v;
          want[2] += x[at] ** 2;
          for (const d of [y + 1 < h ? x[at + w] - x[at] : null, v + 1 < w ? x[at + 1] - x[at] : null])
            if (d !== null) {
              want[0] += Math.abs(d);
              want[1] += d * d;
            }
        }
    want.forEach((t, i) => expect(r.terms[i]).toBeCloseTo(t / n, 3));
  });

  test('l2Bound inside the bound is zero, with a zero gradient', async () => {
    const session = await GradientSession.open(
      buildGradientGraph(model(), {
        terms: [
          { kind: 'l2Bound', of: 'input', bound: 8 },
          { kind: 'l2', of: 'input', weight: 0 },
        ],
      }),
    );
    const r = await session.run({ x: { data: x, dims: SHAPE } });
    await session.release();
    // The l2 term (about 40 per sample) is under 8^2, so the bound's term and its gradient are exactly 0.
    expect(r.terms[1]).toBeGreaterThan(20);
    expect(r.terms[1]).toBeLessThan(64);
    expect(r.terms[0]).toBe(0);
    expect(r.objective).toBe(0);
    expect(r.grads.input.data.every((v) => v === 0)).toBe(true);
  });

  test('the synthesis objective (identity prelude, normalised, cross-entropy to per-sample targets + tv + l2 + bnStats) w.r.t. the data', async () => {
    const spec = synthesisSpec({ mean: [0.3, -0.2], std: [0.5, 2] }, { tv: 0.2, l2: 0.05, bn: 0.3 }, true);
    const { err, terms } = await fdError(spec, 'data', distinct('synth-x', 0.5));
    expect(err).toBeLessThan(FD_TOLERANCE);
    // Every term is present and non-zero (a term silently dropped would still pass the FD check).
    expect(terms).toHaveLength(4);
    for (const t of terms) expect(Math.abs(t)).toBeGreaterThan(0);
  });
});
