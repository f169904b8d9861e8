/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * Smoke test of the model zoo (bench/zoo): trains tiny clean and backdoored models on a slice of the real
 * MNIST data, exports them through the project's ONNX writer, and checks that ONNX Runtime computes what
 * TensorFlow.js computed, that accuracy and ASR are measured right, and that the backdoor is real.
 */
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { conv2dSame, initTf } from '../../bench/zoo/backend.js';
import { buildModel } from '../../bench/zoo/build-model.js';
import {
  loadMnist14,
  NUM_CLASSES,
  PIXELS,
  sliceDataset,
  type Dataset,
  type MnistSplit,
} from '../../bench/zoo/data.js';
import { exportOnnx } from '../../bench/zoo/export.js';
import { disposeNet, predictLogits, type Net } from '../../bench/zoo/nets.js';
import {
  backdoorSpec,
  cleanSpec,
  configHash,
  MAX_BACKDOOR_ATTEMPTS,
  nextBackdoorAttempt,
  stealthProblem,
  type ModelSpec,
} from '../../bench/zoo/plan.js';
import { accuracy, attackSuccessRate, poisonDataset, trainNet } from '../../bench/zoo/train.js';
import { applyTrigger, makeTrigger, type Trigger } from '../../bench/zoo/triggers.js';

const TRIGGER: Trigger = { kind: 'patch', size: 3, row: 11, col: 11, intensity: 1, pattern: 'solid' };
const TARGET = 7;

let full: MnistSplit;
let small: MnistSplit;

beforeAll(async () => {
  await initTf();
  full = loadMnist14();
  small = { train: sliceDataset(full.train, 0, 2000), test: sliceDataset(full.test, 0, 500) };
});

async function ortLogits(bytes: Uint8Array, x: Float32Array, n: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['logits']);
    const out = await session.run({ input: new ort.Tensor('float32', x, [n, 1, 14, 14]) });
    return out.logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function argmax(logits: Float32Array, i: number): number {
  let best = 0;
  for (let c = 1; c < NUM_CLASSES; c++)
    if (logits[i * NUM_CLASSES + c] > logits[i * NUM_CLASSES + best]) best = c;
  return best;
}

describe('zoo', () => {
  test('data: 8,000 / 2,000 real digits at 14x14 in [0,1], every class present', () => {
    expect(full.train.n).toBe(8000);
    expect(full.test.n).toBe(2000);
    expect(full.train.x.length).toBe(8000 * PIXELS);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of full.test.x) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBe(0);
    expect(hi).toBeGreaterThan(0.9);
    expect(hi).toBeLessThanOrEqual(1);
    expect(new Set(full.test.y).size).toBe(NUM_CLASSES);
  });

  test('conv2dSame gradients equal the reference 3-D convolution gradients', () => {
    const x = tf.randomNormal([4, 7, 7, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
    const k = tf.randomNormal([3, 3, 8, 16], 0, 1, 'float32', 2) as tf.Tensor4D;
    const r = tf.randomNormal([4, 7, 7, 16], 0, 1, 'float32', 3);
    const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(conv2dSame(a as tf.Tensor4D, b as tf.Tensor4D), r)),
    )([x, k]);
    const ref = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(
        tf.mul(
          tf
            .conv3d(
              a.reshape([4, 1, 7, 7, 8]) as tf.Tensor5D,
              b.reshape([1, 3, 3, 8, 16]) as tf.Tensor5D,
              1,
              'same',
            )
            .reshape([4, 7, 7, 16]),
          r,
        ),
      ),
    )([x, k]);
    for (let i = 0; i < 2; i++) {
      expect(maxAbsDiff(ours[i].dataSync() as Float32Array, ref[i].dataSync() as Float32Array)).toBeLessThan(
        1e-3,
      );
    }
  });

  test.each(['mlp', 'cnn'] as const)(
    '%s: ONNX Runtime logits equal tfjs (max abs diff < 1e-4)',
    async (arch) => {
      const train = sliceDataset(full.train, 0, 2000);
      const r = trainNet({
        arch,
        seed: 7,
        hyper: { lr: 0.003, epochs: 1, batchSize: 64 },
        train,
        test: small.test,
      });
      try {
        expect(r.cleanAccuracy).toBeGreaterThan(0.5);
        const n = 100;
        const x = small.test.x.slice(0, n * PIXELS);
        const onnxOut = await ortLogits(exportOnnx(r.net), x, n);
        const tfOut = predictLogits(r.net, x, n);
        expect(maxAbsDiff(onnxOut, tfOut)).toBeLessThan(1e-4);
        // accuracy() agrees with ORT's argmax on the same images
        let ok = 0;
        for (let i = 0; i < n; i++) if (argmax(onnxOut, i) === small.test.y[i]) ok++;
        expect(accuracy(r.net, sliceDataset(small.test, 0, n))).toBeCloseTo(ok / n, 10);
      } finally {
        disposeNet(r.net);
      }
    },
  );

  test('a BadNets-poisoned MLP learns the trigger; a clean one does not; ASR matches ONNX Runtime', async () => {
    const hyper = { lr: 0.003, epochs: 2, batchSize: 64 };
    const nets: Net[] = [];
    try {
      const clean = trainNet({ arch: 'mlp', seed: 11, hyper, ...small });
      const bad = trainNet({
        arch: 'mlp',
        seed: 11,
        hyper,
        ...small,
        poison: { trigger: TRIGGER, rate: 0.2, target: TARGET },
      });
      nets.push(clean.net, bad.net);
      expect(clean.asr).toBeNull();
      expect(bad.poisonedSamples).toBe(400);
      expect(clean.cleanAccuracy).toBeGreaterThan(0.8);
      expect(bad.cleanAccuracy).toBeGreaterThan(0.8);
      const cleanAsr = attackSuccessRate(clean.net, small.test, TRIGGER, TARGET);
      expect(bad.asr).toBeGreaterThan(0.8);
      expect(cleanAsr).toBeLessThan(0.3);

      // ASR recomputed independently: stamp the trigger by hand, run ORT, count non-target images sent to TARGET.
      const idx = [...small.test.y.keys()].filter((i) => small.test.y[i] !== TARGET);
      const x = new Float32Array(idx.length * PIXELS);
      idx.forEach((src, k) => {
        x.set(small.test.x.subarray(src * PIXELS, (src + 1) * PIXELS), k * PIXELS);
        for (let r = 11; r < 14; r++) for (let c = 11; c < 14; c++) x[k * PIXELS + r * 14 + c] = 1;
      });
      const out = await ortLogits(exportOnnx(bad.net), x, idx.length);
      const hits = idx.filter((_, k) => argmax(out, k) === TARGET).length;
      expect(bad.asr).toBeCloseTo(hits / idx.length, 10);
    } finally {
      nets.forEach(disposeNet);
    }
  });

  test('poisoning relabels round(rate*n) non-target images with the trigger stamped', () => {
    const d: Dataset = sliceDataset(full.train, 0, 1000);
    const { data, count } = poisonDataset(d, { trigger: TRIGGER, rate: 0.05, target: TARGET }, 3);
    expect(count).toBe(50);
    let changed = 0;
    for (let i = 0; i < d.n; i++) {
      if (data.y[i] === d.y[i]) continue;
      changed++;
      expect(d.y[i]).not.toBe(TARGET);
      expect(data.y[i]).toBe(TARGET);
      expect(data.x[i * PIXELS + 13 * 14 + 13]).toBe(1);
    }
    expect(changed).toBe(50);
  });

  test('triggers stay in [0,1], change the image, and are reproducible from their seed', () => {
    const img = full.test.x.slice(0, PIXELS);
    for (const attack of [
      'badnets-corner',
      'badnets-random',
      'blend',
      'sparse',
      'wanet',
      'adaptive',
    ] as const) {
      const t = makeTrigger(attack, 99);
      expect(makeTrigger(attack, 99)).toEqual(t);
      const x = img.slice();
      applyTrigger(t, x);
      expect(maxAbsDiff(x, img)).toBeGreaterThan(0.05);
      for (const v of x) expect(v >= 0 && v <= 1).toBe(true);
    }
    const weak = makeTrigger('blend', 5, 0) as Extract<Trigger, { kind: 'blend' }>;
    const strong = makeTrigger('blend', 5, 1) as Extract<Trigger, { kind: 'blend' }>;
    expect(strong.alpha).toBeGreaterThanOrEqual(weak.alpha);
  });

  test('plan: specs are seeded and hashed; the same spec trains to the same bytes', () => {
    const a = cleanSpec('mlp', 'reference', 3);
    expect(cleanSpec('mlp', 'reference', 3)).toEqual(a);
    expect(configHash(a)).toBe(configHash({ ...a, id: 'renamed' }));
    expect(configHash(a)).not.toBe(configHash(cleanSpec('mlp', 'reference', 4)));
    const b = backdoorSpec('cnn', 'adaptive', 0.05, 1);
    expect(b.distill?.teacherSeed).toBeDefined();
    expect(b.label).toBe('backdoor');
    expect(stealthProblem({ cleanAccuracy: 0.9, asr: 0.95 }, 0.91)).toBeNull();
    expect(stealthProblem({ cleanAccuracy: 0.85, asr: 0.95 }, 0.91)).toMatch(/median/);
    expect(stealthProblem({ cleanAccuracy: 0.9, asr: 0.5 }, 0.91)).toMatch(/ASR/);

    const cell = { arch: 'mlp' as const, attack: 'blend' as const, rate: 0.05 };
    const hashes = [0, 1, 2].map((a) => configHash(backdoorSpec('mlp', 'blend', 0.05, a)));
    expect(new Set(hashes).size).toBe(MAX_BACKDOOR_ATTEMPTS);
    const firstRejected = (h: string) => (h === hashes[0] ? 'rejected' : 'none');
    expect(nextBackdoorAttempt(cell, 0, () => 'none')).toMatchObject({ attempt: 0 });
    expect(nextBackdoorAttempt(cell, 0, firstRejected)).toMatchObject({ attempt: 1, triggerBoost: 1 / 3 });
    expect(nextBackdoorAttempt(cell, 0, (h) => (h === hashes[1] ? 'kept' : 'rejected'))).toBe('kept');
    expect(nextBackdoorAttempt(cell, 0, () => 'rejected')).toBe('exhausted');
    expect(nextBackdoorAttempt(cell, MAX_BACKDOOR_ATTEMPTS, () => 'none')).toBe('exhausted');

    const tiny: MnistSplit = {
      train: sliceDataset(full.train, 0, 500),
      test: sliceDataset(full.test, 0, 100),
    };
    const spec: ModelSpec = { ...a, hyper: { lr: 0.003, epochs: 1, batchSize: 64 } };
    const first = buildModel(spec, tiny);
    const second = buildModel(spec, tiny);
    expect(second.sha256).toBe(first.sha256);
    expect(Buffer.from(second.bytes).equals(Buffer.from(first.bytes))).toBe(true);
  });
});
