/**
 * Gradient parity with PyTorch autograd (fixtures from bench/grad/make-fixtures.py): for the zoo's two
 * architectures, bench:torch's four and MobileNetV2's pieces (depthwise convolutions, ReLU6 as Clip), exported by torch.onnx's TorchScript exporter (opset 17, and 20
 * for two), its dynamo exporter, and, for the zoo's, the project's own writer, every objective's value,
 * terms, logits and gradients match autograd's to PARITY_TOLERANCE relative to the gradient's scale.
 */
import { buildGradientGraph, GradientSession } from '../../../src/model/grad/index.js';
import { parseModel } from '../../../src/model/read.js';
import { FIXTURE_ARCHS, caseFeeds, loadFixture, modelBytes, relativeError, tensorOf } from './fixtures.js';

/** max |ours - torch| / max |torch|, per gradient, logits and objective (the 1e-4). */
const PARITY_TOLERANCE = 1e-4;

const worst: { where: string; err: number }[] = [];

afterAll(() => {
  worst.sort((a, b) => b.err - a.err);
  // the largest errors, for docs/gradients.md: GRAD_PARITY_REPORT=1 npm test -- __tests__/model/grad/parity
  if (process.env.GRAD_PARITY_REPORT !== '1') return;
  console.log(
    worst
      .slice(0, 5)
      .map((w) => `${w.err.toExponential(2)} ${w.where}`)
      .join('\n'),
  );
});

describe.each(FIXTURE_ARCHS)('%s', (arch) => {
  const fx = loadFixture(arch);
  const input = tensorOf(fx, fx.input);
  const models = fx.models.filter((m) => !m.failed);

  test('every export the fixture lists exists (a failed export is recorded, never silently missing)', () => {
    expect(models.length).toBeGreaterThan(0);
    expect(models.some((m) => m.exporter.startsWith('torchscript'))).toBe(true);
  });

  describe.each(models.map((m) => [m.exporter, m] as const))('%s', (_label, m) => {
    const bytes = modelBytes(fx, m);
    const model = parseModel(bytes, `${arch}-${m.exporter}.onnx`);
    const bnInGraph = (model.proto.graph?.node ?? []).filter((n) => n.opType === 'BatchNormalization').length;
    if (typeof m.bnNodes === 'number') {
      test('BatchNormalization nodes as the generator counted them', () => expect(bnInGraph).toBe(m.bnNodes));
    }
    const cases = fx.cases.filter((c) => !c.requiresBn || bnInGraph > 0);
    test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const graph = buildGradientGraph(model, c.spec);
      const session = await GradientSession.open(graph);
      try {
        const feeds = caseFeeds(fx, c);
        feeds[c.spec.prelude ? 'data' : 'input'] = input;
        const r = await session.run(feeds);
        const where = `${arch}/${m.exporter}/${c.name}`;
        const logits = relativeError(r.outputs.logits.data, tensorOf(fx, c.logits).data);
        expect(logits).toBeLessThan(PARITY_TOLERANCE);
        expect(Math.abs(r.objective - c.objective)).toBeLessThan(
          PARITY_TOLERANCE * Math.max(1, Math.abs(c.objective)),
        );
        r.terms.forEach((t, i) =>
          expect(Math.abs(t - c.terms[i])).toBeLessThan(PARITY_TOLERANCE * Math.max(1, Math.abs(c.terms[i]))),
        );
        if (c.requiresBn) expect(graph.bnNodes.length).toBe(bnInGraph);
        expect(Object.keys(r.grads).sort()).toEqual(Object.keys(c.grads).sort());
        for (const [k, want] of Object.entries(c.grads)) {
          const ref = tensorOf(fx, want);
          expect(r.grads[k].dims).toEqual(ref.dims);
          const err = relativeError(r.grads[k].data, ref.data);
          worst.push({ where: `${where} d/d${k}`, err });
          expect(err).toBeLessThan(PARITY_TOLERANCE);
        }
      } finally {
        await session.release();
      }
    });
  });
});
