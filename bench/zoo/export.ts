/**
 * Turns a trained zoo net into ONNX bytes through the project's writer (src/model/write.ts): transposes
 * tfjs layouts into PyTorch's (dense [in,out] -> [out,in]; conv [kh,kw,in,out] -> [out,in,kh,kw]).
 * Both architectures take input "input" float32[N,1,14,14] (NCHW) and give "logits" float32[N,10].
 */
import { writeSequentialModel, type LayerSpec } from '../../src/model/write.js';
import { IMAGE_SIDE, NUM_CLASSES, PIXELS } from './data.js';
import { BN_EPSILON, CNN_CHANNELS, CNN_FLAT, MLP_HIDDEN, paramData, type Net } from './nets.js';

export const ZOO_INPUT_NAME = 'input';
export const ZOO_OUTPUT_NAME = 'logits';
export const ZOO_PRODUCER = 'fingerprint-action-zoo';

/** [rows, cols] row-major -> [cols, rows]. */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** [kh, kw, in, out] -> [out, in, kh, kw]. */
export function hwioToOihw(a: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * cin + i) * kh + y) * kw + x] = a[((y * kw + x) * cin + i) * cout + o];
  return out;
}

/**
 * A zoo net's weights in PyTorch layout by the zoo's parameter names (mlp: w1 b1 w2 b2 w3 b3, dense [out, in];
 * cnn: k1 [8,1,3,3], gamma beta mean variance, k2 [16,8,3,3] bk2, w3 [10,144] b3). The gradient parity
 * fixtures (bench/grad/make-fixtures.py) give PyTorch's weights this way, so the test writes the same graph.
 */
export type ZooWeights = (name: string) => Float32Array;

function dense(w: ZooWeights, wn: string, bn: string, inF: number, outF: number): LayerSpec {
  return { kind: 'dense', weight: w(wn), bias: w(bn), inFeatures: inF, outFeatures: outF };
}

/** The layer list of a zoo architecture, from PyTorch-layout weights. */
export function zooLayers(arch: Net['arch'], w: ZooWeights): LayerSpec[] {
  if (arch === 'mlp') {
    const [h1, h2] = MLP_HIDDEN;
    return [
      { kind: 'flatten' },
      dense(w, 'w1', 'b1', PIXELS, h1),
      { kind: 'relu' },
      dense(w, 'w2', 'b2', h1, h2),
      { kind: 'relu' },
      dense(w, 'w3', 'b3', h2, NUM_CLASSES),
    ];
  }
  const [c1, c2] = CNN_CHANNELS;
  return [
    { kind: 'conv', weight: w('k1'), inChannels: 1, outChannels: c1, kernel: 3, pad: 1 },
    {
      kind: 'batchnorm',
      scale: w('gamma'),
      bias: w('beta'),
      mean: w('mean'),
      var: w('variance'),
      epsilon: BN_EPSILON,
    },
    { kind: 'relu' },
    { kind: 'maxpool', kernel: 2 },
    { kind: 'conv', weight: w('k2'), bias: w('bk2'), inChannels: c1, outChannels: c2, kernel: 3, pad: 1 },
    { kind: 'relu' },
    { kind: 'maxpool', kernel: 2 },
    { kind: 'flatten' },
    dense(w, 'w3', 'b3', CNN_FLAT, NUM_CLASSES),
  ];
}

export function netToLayers(net: Net): LayerSpec[] {
  const [c1, c2] = CNN_CHANNELS;
  const [h1, h2] = MLP_HIDDEN;
  const fanIn: Record<string, [number, number]> =
    net.arch === 'mlp'
      ? { w1: [PIXELS, h1], w2: [h1, h2], w3: [h2, NUM_CLASSES] }
      : { w3: [CNN_FLAT, NUM_CLASSES] };
  if (net.arch === 'cnn' && !net.bn) throw new Error('zoo export: CNN without BatchNorm statistics');
  return zooLayers(net.arch, (name) => {
    if (fanIn[name]) return transpose2d(paramData(net, name), fanIn[name][0], fanIn[name][1]);
    if (name === 'k1') return hwioToOihw(paramData(net, 'k1'), 3, 3, 1, c1);
    if (name === 'k2') return hwioToOihw(paramData(net, 'k2'), 3, 3, c1, c2);
    if (name === 'mean') return Float32Array.from(net.bn!.mean);
    if (name === 'variance') return Float32Array.from(net.bn!.variance);
    return paramData(net, name);
  });
}

/** ONNX bytes for a trained net (deterministic: same weights, same bytes). */
export function exportOnnx(net: Net): Uint8Array {
  return writeSequentialModel({
    inputName: ZOO_INPUT_NAME,
    inputShape: ['N', 1, IMAGE_SIDE, IMAGE_SIDE],
    layers: netToLayers(net),
    outputName: ZOO_OUTPUT_NAME,
    producerName: ZOO_PRODUCER,
  });
}
