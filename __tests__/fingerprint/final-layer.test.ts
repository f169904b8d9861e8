/**
 * Finding the final linear layer through the graph: Gemm with transB, MatMul + bias Add + Softmax, a Constant
 * node as weight, and graphs that end in something else.
 */
import { findFinalLinear } from '../../src/fingerprint/final-layer.js';
import { layerWeightStats } from '../../src/fingerprint/weights.js';
import { parseModel } from '../../src/model/read.js';
import { GraphBuilder, attr } from '../../src/model/write.js';
import { buildCnn } from '../fixtures/models.js';

describe('findFinalLinear', () => {
  test('MatMul [in, out] + bias Add + Softmax gives rows per class and the bias', () => {
    const g = new GraphBuilder();
    g.addInput('x', 'float32', ['N', 2]);
    g.addInitializer('w', 'float32', [2, 3], [1, 2, 3, 4, 5, 6]); // [in=2, out=3]
    g.addInitializer('b', 'float32', [3], [0.1, 0.2, 0.3]);
    g.addNode('MatMul', ['x', 'w'], ['mm']);
    g.addNode('Add', ['b', 'mm'], ['z']);
    g.addNode('Softmax', ['z'], ['p'], { axis: attr.int(-1) });
    g.addOutput('p');
    const fl = findFinalLinear(parseModel(g.toBytes(), 'm.onnx'))!;
    expect(fl.classes).toBe(3);
    expect(fl.features).toBe(2);
    expect(Array.from(fl.weight)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(fl.bias!)).toEqual([0.1, 0.2, 0.3].map(Math.fround));
    expect(fl.input).toBe('x');
  });

  test('a Gemm without transB reading a Constant node weight', () => {
    const g = new GraphBuilder();
    g.addInput('x', 'float32', ['N', 2]);
    g.addNode('Constant', [], ['w'], {
      value: { tensor: { dtype: 'float32', dims: [2, 2], data: [1, 2, 3, 4] } },
    });
    g.addNode('Gemm', ['x', 'w'], ['y']);
    g.addOutput('y');
    const fl = findFinalLinear(parseModel(g.toBytes(), 'm.onnx'))!;
    expect(Array.from(fl.weight)).toEqual([1, 3, 2, 4]);
    expect(fl.bias).toBeNull();
  });

  test('graphs ending in a non-linear op or a residual Add have no final linear layer', () => {
    const g = new GraphBuilder();
    g.addInput('x', 'float32', ['N', 2]);
    g.addNode('Relu', ['x'], ['r']);
    g.addNode('Add', ['x', 'r'], ['y']);
    g.addOutput('y');
    expect(findFinalLinear(parseModel(g.toBytes(), 'm.onnx'))).toBeNull();
  });

  test('layer weight stats cover every conv and dense weight in graph order', () => {
    const m = parseModel(buildCnn(), 'cnn.onnx');
    const { names, block } = layerWeightStats(m);
    expect(names).toEqual(['layers.0.weight', 'layers.4.weight', 'layers.7.weight', 'layers.9.weight']);
    for (let i = 0; i < names.length; i++) {
      const [norm, s1, s2] = block.subarray(3 * i, 3 * i + 3);
      expect(s1).toBeLessThanOrEqual(norm * (1 + 1e-5)); // sigma1 <= Frobenius norm
      expect(s2).toBeLessThanOrEqual(s1 * (1 + 1e-5));
      expect(s2).toBeGreaterThan(0);
    }
  });
});
