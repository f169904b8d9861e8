/**
 * The forward-pass estimate the scan budget plans with (src/model/macs.ts): counted by hand on small graphs
 * (convolutions with padding, strides and groups, pools, matrix products, reshapes), and the fallback for a
 * node whose shapes cannot be followed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forwardMacs } from '../../src/model/macs.js';
import { readModel } from '../../src/model/read.js';
import type { OnnxModel } from '../../src/model/types.js';
import { attr, GraphBuilder } from '../../src/model/write.js';
import { buildCnn, buildMlp } from '../fixtures/models.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mf-macs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
async function load(bytes: Uint8Array): Promise<OnnxModel> {
  const file = join(dir, `m${n++}.onnx`);
  writeFileSync(file, bytes);
  return readModel(file);
}

function zeros(k: number): Float32Array {
  return new Float32Array(k);
}

test('counts a small CNN node by node: convolutions per output, pools, elementwise, dense', async () => {
  const m = await load(buildCnn());
  const est = forwardMacs(m, new Map([['input', [1, 1, 14, 14]]]));
  // conv 1->4 3x3 pad 1: 4*14*14 outputs x 9; BN, Relu: 784 each; max-pool 2/2: 196 outputs x 4 taps;
  // conv 4->8 3x3: 8*5*5 outputs x 36; Relu 200; Gemm 200x16; Relu 16; Gemm 16x10
  const hand = 784 * 9 + 784 + 784 + 196 * 4 + 200 * 36 + 200 + 200 * 16 + 16 + 16 * 10;
  expect(est.macs).toBe(hand);
  expect(est.estimated).toBe(0);
});

test('an MLP is its weights (the estimate never falls below the weight count)', async () => {
  const m = await load(buildMlp());
  const est = forwardMacs(m, new Map([['input', [1, 16]]]));
  const weights = 16 * 12 + 12 + 12 * 8 + 8 + 8 * 4 + 4;
  expect(est.macs).toBe(Math.max(16 * 12 + 12 + 12 * 8 + 8 + 8 * 4, weights));
});

test('strided, grouped (depthwise) convolutions and a batched MatMul after a constant Reshape', async () => {
  const g = new GraphBuilder({ opset: 13 });
  g.addInput('x', 'float32', ['N', 8, 16, 16]);
  // depthwise 3x3, stride 2, pad 1: 8 x 8 x 8 outputs, 1 input channel per group
  g.addInitializer('dw', 'float32', [8, 1, 3, 3], zeros(72));
  g.addNode('Conv', ['x', 'dw'], ['a'], {
    group: attr.int(8),
    strides: attr.ints([2, 2]),
    pads: attr.ints([1, 1, 1, 1]),
  });
  // pointwise 8 -> 16
  g.addInitializer('pw', 'float32', [16, 8, 1, 1], zeros(128));
  g.addNode('Conv', ['a', 'pw'], ['b']);
  // [1,16,8,8] -> [1,16,64] -> MatMul with [64,5]
  g.addInitializer('shape', 'int64', [3], [0, 16, -1]);
  g.addNode('Reshape', ['b', 'shape'], ['c']);
  g.addInitializer('w', 'float32', [64, 5], zeros(320));
  g.addNode('MatMul', ['c', 'w'], ['y']);
  g.addOutput('y');
  const m = await load(g.toBytes());
  const est = forwardMacs(m, new Map([['x', [1, 8, 16, 16]]]));
  const hand = 8 * 8 * 8 * 9 + 16 * 8 * 8 * 8 + 16 * 64 * 5;
  expect(est.macs).toBe(hand);
  expect(est.estimated).toBe(0);
});

test('a node it cannot follow is estimated from its weights, and what comes after it too', async () => {
  const g = new GraphBuilder({ opset: 13 });
  g.addInput('x', 'float32', ['N', 3, 32, 32]);
  g.addNode('Shape', ['x'], ['s']);
  g.addNode('Reshape', ['x', 's'], ['r']); // a computed shape: not followed
  g.addInitializer('k', 'float32', [4, 3, 3, 3], zeros(108));
  g.addNode('Conv', ['r', 'k'], ['y'], { pads: attr.ints([1, 1, 1, 1]) });
  g.addOutput('y');
  const m = await load(g.toBytes());
  const est = forwardMacs(m, new Map([['x', [1, 3, 32, 32]]]));
  expect(est.estimated).toBeGreaterThanOrEqual(2);
  // the former rough rule for the conv: weights x a quarter of the input's area
  expect(est.macs).toBe(108 * 32 * 32 * 0.25);
});
