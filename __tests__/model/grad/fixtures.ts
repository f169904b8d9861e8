/**
 * Loads the gradient parity fixtures written by bench/grad/make-fixtures.py (`npm run grad:fixtures`):
 * per architecture a gzipped JSON with the inputs, the models (gzipped ONNX from torch.onnx, or the zoo's
 * weights for the project's own writer) and, per objective, PyTorch autograd's objective, terms, gradients
 * and logits.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { zooLayers } from '../../../bench/zoo/export.js';
import type { Feed, FloatTensor, GradientSpec } from '../../../src/model/grad/index.js';
import { writeSequentialModel } from '../../../src/model/write.js';

export const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/grad/', import.meta.url));

/** An array stored after the JSON (bench/grad/make-fixtures.py Blob). */
interface JsonTensor {
  dims: number[];
  offset: number;
  /** f32: float32; i8: bytes k meaning k / 32. */
  type: 'f32' | 'i8';
}

export interface FixtureModel {
  exporter: string;
  onnx?: string;
  opset?: number;
  bnNodes?: number | null;
  arch?: 'mlp' | 'cnn';
  weights?: Record<string, JsonTensor>;
  failed?: string;
}

export interface FixtureCase {
  name: string;
  spec: GradientSpec;
  feeds: Record<string, JsonTensor | number | number[]>;
  requiresBn: boolean;
  objective: number;
  terms: number[];
  grads: Record<string, JsonTensor>;
  logits: JsonTensor;
}

export interface Fixture {
  arch: string;
  torch: string;
  input: JsonTensor & { name: string };
  models: FixtureModel[];
  cases: FixtureCase[];
  /** The arrays the JSON's tensors point into. */
  blob: Buffer;
}

export const FIXTURE_ARCHS = (process.env.GRAD_ARCHS ?? 'zoo-mlp,zoo-cnn,lenet,mlp,rgb,digits8,mobile').split(
  ',',
);

/** An array of the fixture `fx`. */
export function tensorOf(fx: Fixture, t: JsonTensor): FloatTensor {
  const blob = fx.blob;
  const n = t.dims.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  if (t.type === 'f32')
    data = new Float32Array(
      blob.buffer.slice(blob.byteOffset + t.offset, blob.byteOffset + t.offset + 4 * n),
    );
  else data = Float32Array.from(new Int8Array(blob.buffer, blob.byteOffset + t.offset, n), (k) => k / 32);
  return { data, dims: [...t.dims] };
}

/** One architecture's fixture: [JSON length, uint32 LE][JSON][arrays], gzipped. */
export function loadFixture(arch: string): Fixture {
  const raw = gunzipSync(readFileSync(path.join(FIXTURE_DIR, `${arch}.fixture.gz`)));
  const len = raw.readUInt32LE(0);
  const doc = JSON.parse(raw.subarray(4, 4 + len).toString('utf8')) as Omit<Fixture, 'blob'>;
  return { ...doc, blob: raw.subarray(4 + len) };
}

/** The model's ONNX bytes: the exported file, or the zoo net written by the project's writer. */
export function modelBytes(fx: Fixture, m: FixtureModel): Uint8Array {
  if (m.onnx) return new Uint8Array(gunzipSync(readFileSync(path.join(FIXTURE_DIR, m.onnx))));
  if (m.exporter === 'writer' && m.arch && m.weights) {
    const w = m.weights;
    return writeSequentialModel({
      inputName: 'input',
      inputShape: ['N', 1, 14, 14],
      outputName: 'logits',
      layers: zooLayers(m.arch, (name) => {
        if (!w[name]) throw new Error(`fixture: no zoo weight ${name}`);
        return tensorOf(fx, w[name]).data;
      }),
    });
  }
  throw new Error(`fixture model ${m.exporter} has neither a file nor weights`);
}

/** The case's feeds for GradientSession.run ('data' or the model input added by the caller). */
export function caseFeeds(fx: Fixture, c: FixtureCase): Record<string, Feed> {
  const out: Record<string, Feed> = {};
  for (const [k, v] of Object.entries(c.feeds)) {
    out[k] = typeof v === 'number' || Array.isArray(v) ? v : tensorOf(fx, v as JsonTensor);
  }
  return out;
}

/** max |a - b| / max |b|: the error relative to the reference's scale. */
export function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
