/** The real-size zoo's 128 held-out probe samples as ONNX Runtime reads them (detect.ts, penultimate.ts). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

/** Reads probe-x.npy (uint8 [128, 32, 32, 3]) as a float [128, 3, 32, 32] tensor in [0, 1]. */
export function probeTensor(dataDir: string): ort.Tensor {
  const buf = readFileSync(path.join(dataDir, 'probe-x.npy'));
  const hlen = buf.readUInt16LE(8);
  const x = buf.subarray(10 + hlen);
  const n = x.length / 3072;
  const out = new Float32Array(n * 3072);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < 1024; p++)
      for (let c = 0; c < 3; c++) out[i * 3072 + c * 1024 + p] = x[i * 3072 + p * 3 + c] / 255;
  return new ort.Tensor('float32', out, [n, 3, 32, 32]);
}
