/**
 * The speed benchmark's mid-size model: a ResNet-style CNN on [N, 3, 32, 32] with four stages
 * (64, 128, 256, 512 channels; 3x3 convolutions; one residual block per stage, two in the last; max-pool
 * between stages; global average pool; a 10-class dense head), about 12.6 M parameters, with seeded He
 * weights, written by the project's ONNX writer. Residual bodies end with a down-scaled convolution so
 * activations stay bounded through the blocks, as trained ResNets keep them.
 */
import { writeSequentialModel, type LayerSpec } from '../../src/model/write.js';
import { Rng } from '../../src/probes/rng.js';

export const RESNET_INPUT: [number, number, number] = [3, 32, 32];
export const RESNET_CLASSES = 10;

function conv(rng: Rng, cin: number, cout: number, gain = 1): LayerSpec {
  const std = gain * Math.sqrt(2 / (cin * 9));
  return {
    kind: 'conv',
    weight: rng.normals(cout * cin * 9, 0, std),
    inChannels: cin,
    outChannels: cout,
    kernel: 3,
    pad: 1,
    bias: rng.normals(cout, 0, 0.01),
  };
}

function block(rng: Rng, c: number): LayerSpec[] {
  return [
    { kind: 'residual', body: [conv(rng, c, c), { kind: 'relu' }, conv(rng, c, c, 0.3)] },
    { kind: 'relu' },
  ];
}

/** The model's bytes and its parameter count. */
export function resnetBytes(seed = 7): { bytes: Uint8Array; params: number } {
  const rng = new Rng(seed);
  const layers: LayerSpec[] = [conv(rng, 3, 64), { kind: 'relu' }, ...block(rng, 64)];
  let c = 64;
  for (const next of [128, 256, 512]) {
    layers.push({ kind: 'maxpool', kernel: 2 }, conv(rng, c, next), { kind: 'relu' }, ...block(rng, next));
    c = next;
  }
  layers.push(...block(rng, c));
  layers.push(
    { kind: 'globalavgpool' },
    { kind: 'flatten' },
    {
      kind: 'dense',
      weight: rng.normals(RESNET_CLASSES * c, 0, Math.sqrt(1 / c)),
      inFeatures: c,
      outFeatures: RESNET_CLASSES,
      bias: new Float32Array(RESNET_CLASSES),
    },
  );
  let params = 0;
  const count = (ls: LayerSpec[]): void => {
    for (const l of ls) {
      if (l.kind === 'conv' || l.kind === 'dense') params += l.weight.length + (l.bias?.length ?? 0);
      if (l.kind === 'residual') count(l.body);
    }
  };
  count(layers);
  const bytes = writeSequentialModel({
    inputShape: ['N', ...RESNET_INPUT],
    layers,
    producerName: 'bench-speed',
  });
  return { bytes, params };
}
