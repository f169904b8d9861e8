/**
 * Section "realsize" of the speed benchmark (issue 22): the scan time of real-size models per architecture
 * and scan budget, against ONNX Runtime's own inference of the same number of inputs in the same process.
 *
 * A scan here is `scanModels` without a baseline (what `model-fingerprint scan MODEL --budget B` runs, minus
 * process start-up): the probe pass, trigger probing with its mining within the budget, the final-layer
 * weight statistics (the patch map is not read without a baseline, so it does not run). Raw inference is
 * InferenceSession.create with ORT's defaults plus runs of the same number of uniform [0,1] inputs as the
 * scan ran (its report's forward passes), in batches of the size the tool's trigger runs use
 * (logitsBatchSize), right after the scan (the count is known only then). For the 224x224 models the raw throughput at the tool's batch and at 64 is also
 * compared (the batch-size choice in src/model/session.ts).
 *
 * Models: the example's 14x14 MLP and the zoo's 14x14 CNN (when bench/.cache/zoo exists), the speed
 * section's 12.5M-parameter ResNet-style CNN (project writer), and a CIFAR ResNet-18 (32x32, 10 classes),
 * an ImageNet ResNet-18 (224x224, 1000 classes) and MobileNetV2 (224x224, 1000 classes) exported by
 * PyTorch with seeded random weights (bench/speed/nets.py; speed does not depend on what weights learned).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseBudget } from '../../src/fingerprint/budget.js';
import { logitsBatchSize, SESSION_CONFIG_NO_SPIN } from '../../src/model/session.js';
import { readModel } from '../../src/model/read.js';
import { scanModels } from '../../src/scan/scan.js';
import type { ScannedModel } from '../../src/report/types.js';
import { ensureTorch } from '../torch/python.js';
import { resnetBytes } from './resnet.js';
import { timeIt } from './common.js';

export interface RealSizeEntry {
  model: string;
  file: string;
  params: number;
  input: number[];
  classes: number;
  budget: string;
  macsPerPass: number;
  /** Forward passes per check, as the scan's report says. */
  passes: Record<string, number>;
  totalPasses: number;
  /** The scan's level (or not-assessed) and what limited trigger probing. */
  level: string;
  notAssessed?: string;
  triggerNote?: string;
  scanMs: number;
  /** ORT: session create + the same number of inputs. */
  rawMs: number;
  ratio: number;
  /**
   * The same raw run with the session settings the tool uses (src/model/session.ts: intra-op threads that
   * sleep instead of spinning, one inter-op thread): on a shared machine ORT's spinning defaults can make the
   * plain reference slower than the scan, so both references are kept. Absent in results from before.
   */
  rawToolSettingsMs?: number;
  ratioToolSettings?: number;
}

export interface BatchCheck {
  model: string;
  toolBatch: number;
  toolInputsPerSec: number;
  at64InputsPerSec: number;
}

export interface RealSizeResult {
  entries: (RealSizeEntry | { model: string; budget: string; error: string })[];
  batch: BatchCheck[];
}

interface ModelSource {
  name: string;
  describe: string;
  /** Writes or finds the file; null when it cannot (the entry says why). */
  file: () => string;
}

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

/** Exports a bench/speed/nets.py network once into the cache. */
function torchNet(name: string, cacheDir: string): string {
  const file = path.join(cacheDir, `${name}.onnx`);
  if (existsSync(file)) return file;
  const site = path.join(ROOT, 'bench', '.cache', 'torch-site');
  ensureTorch(ROOT, site);
  const r = spawnSync('python3', [path.join(ROOT, 'bench', 'speed', 'nets.py'), name, file], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: site },
  });
  if (r.status !== 0) throw new Error(`nets.py ${name} failed: ${(r.stderr ?? '').slice(-500)}`);
  return file;
}

function sources(cacheDir: string): ModelSource[] {
  const zoo = path.join(ROOT, 'bench', '.cache', 'zoo', 'cnn', 'reference');
  return [
    {
      name: 'example-mlp',
      describe: "the example's MLP, 14x14 input, 10 classes",
      file: () => path.join(ROOT, 'examples', 'models', 'candidates', 'clean-candidate.onnx'),
    },
    {
      name: 'zoo-cnn',
      describe: "the zoo's CNN, 14x14 input, 10 classes",
      file: () => {
        const f = existsSync(zoo)
          ? readdirSync(zoo)
              .filter((x) => x.endsWith('.onnx'))
              .sort()[0]
          : undefined;
        if (!f) throw new Error('no zoo (npm run bench:zoo)');
        return path.join(zoo, f);
      },
    },
    {
      name: 'resnet-style',
      describe: 'the speed section ResNet-style CNN, 32x32x3, 10 classes (project writer)',
      file: () => {
        const f = path.join(cacheDir, 'resnet-speed.onnx');
        writeFileSync(f, resnetBytes().bytes);
        return f;
      },
    },
    {
      name: 'resnet18-32',
      describe: 'CIFAR ResNet-18, 32x32x3, 10 classes (PyTorch export)',
      file: () => torchNet('resnet18-32', cacheDir),
    },
    {
      name: 'resnet18-224',
      describe: 'ImageNet ResNet-18, 224x224x3, 1000 classes (PyTorch export)',
      file: () => torchNet('resnet18-224', cacheDir),
    },
    {
      name: 'mobilenetv2-224',
      describe: 'MobileNetV2, 224x224x3, 1000 classes (PyTorch export)',
      file: () => torchNet('mobilenetv2-224', cacheDir),
    },
  ];
}

/** ONNX Runtime's session options as the tool sets them (src/model/session.ts openSession), for rawInference. */
export const TOOL_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  executionMode: 'sequential',
  intraOpNumThreads: Math.max(1, os.availableParallelism()),
  interOpNumThreads: 1,
  extra: SESSION_CONFIG_NO_SPIN,
};

/**
 * ORT alone: session create + `count` inputs of `shape` in batches of `batch`: uniform [0,1] values, or the
 * rows of `inputs` (bench:realsize's real probe samples; `count` at most its batch). `options`: session
 * options (default: ORT's own defaults).
 */
export async function rawInference(
  model: Uint8Array | string,
  name: string,
  shape: number[],
  count: number,
  batch: number,
  inputs?: ort.Tensor,
  options?: ort.InferenceSession.SessionOptions,
): Promise<number> {
  const per = shape.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  if (inputs) data = inputs.data as Float32Array;
  else {
    data = new Float32Array(batch * per);
    for (let i = 0; i < data.length; i++) data[i] = (Math.imul(i + 1, 2654435761) >>> 0) / 4294967296;
  }
  const t = performance.now();
  const s = options
    ? await ort.InferenceSession.create(model as Uint8Array, options)
    : await ort.InferenceSession.create(model as Uint8Array);
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    const rows = inputs ? data.subarray(done * per, (done + n) * per) : data.subarray(0, n * per);
    await s.run({ [name]: new ort.Tensor('float32', rows, [n, ...shape]) });
  }
  await s.release();
  return performance.now() - t;
}

function paramsOf(m: Awaited<ReturnType<typeof readModel>>): number {
  return m.initializers.reduce((s, t) => s + t.dims.reduce((a, b) => a * b, 1), 0);
}

export async function runRealSize(
  cacheDir: string,
  opts: { models: string[]; budgets: string[]; smallBudgets: string[] },
): Promise<RealSizeResult> {
  mkdirSync(cacheDir, { recursive: true });
  const out: RealSizeResult = { entries: [], batch: [] };
  for (const src of sources(cacheDir).filter((s) => opts.models.includes(s.name))) {
    const small = src.name === 'example-mlp' || src.name === 'zoo-cnn';
    const budgets = small ? opts.smallBudgets : opts.budgets;
    let file: string;
    try {
      file = src.file();
    } catch (e) {
      for (const b of budgets) out.entries.push({ model: src.name, budget: b, error: String(e) });
      continue;
    }
    const model = await readModel(file);
    const bytes = model.bytes.slice();
    const input = model.inputs[0].name;
    const shape = (model.inputs[0].shape.slice(1) as (number | string | null)[]).map(Number);
    const batch = logitsBatchSize(shape.reduce((a, b) => a * b, 1));
    for (const b of budgets) {
      process.stderr.write(`speed: realsize ${src.name} --budget ${b}\n`);
      const scanned = await timeIt(() =>
        scanModels([file], { failOn: 'high', budget: parseBudget(b), baselineDir: null }),
      );
      const m = scanned.value.models[0] as ScannedModel;
      if ('error' in m) throw new Error(String((m as { error: string }).error));
      const rawMs = await rawInference(bytes, input, shape, m.budget?.passes ?? 0, batch);
      const rawToolSettingsMs = await rawInference(
        bytes,
        input,
        shape,
        m.budget?.passes ?? 0,
        batch,
        undefined,
        TOOL_SESSION_OPTIONS,
      );
      const checks = Object.fromEntries((m.checks ?? []).map((c) => [c.check, c.passes]));
      const trig = m.checks?.find((c) => c.check === 'trigger-probe');
      out.entries.push({
        model: `${src.name}: ${src.describe}`,
        file: path.relative(ROOT, file),
        params: paramsOf(model),
        input: shape,
        classes: Number(model.outputs[0].shape[1] ?? 0),
        budget: b,
        macsPerPass: m.budget?.macsPerPass ?? 0,
        passes: checks,
        totalPasses: m.budget?.passes ?? 0,
        level: m.riskLevel,
        ...(m.riskLevel === 'not-assessed' ? { notAssessed: m.notAssessed.reason } : {}),
        ...(trig?.note ? { triggerNote: trig.note } : {}),
        scanMs: scanned.ms,
        rawMs,
        ratio: scanned.ms / rawMs,
        rawToolSettingsMs,
        ratioToolSettings: scanned.ms / rawToolSettingsMs,
      });
    }
    if (shape.length === 3 && shape[1] >= 224) {
      const n = 128;
      const tool: number[] = [];
      const at64: number[] = [];
      for (let r = 0; r < 2; r++) {
        tool.push(n / ((await rawInference(bytes, input, shape, n, batch)) / 1000));
        at64.push(n / ((await rawInference(bytes, input, shape, n, 64)) / 1000));
      }
      out.batch.push({
        model: src.name,
        toolBatch: batch,
        toolInputsPerSec: Math.max(...tool),
        at64InputsPerSec: Math.max(...at64),
      });
    }
  }
  return out;
}
