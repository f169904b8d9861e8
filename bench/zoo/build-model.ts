/**
 * Builds one zoo model from its spec: trains it (and, for the adaptive attacker, its clean teacher first),
 * exports it to ONNX bytes, and returns the measures the manifest records. Shared by the zoo's workers, the
 * examples generator and the smoke test.
 */
import { createHash } from 'node:crypto';
import type { MnistSplit } from './data.js';
import { exportOnnx } from './export.js';
import { disposeNet } from './nets.js';
import type { ModelSpec } from './plan.js';
import { trainNet } from './train.js';
import { makeTrigger, type Trigger } from './triggers.js';

export interface BuiltModel {
  bytes: Uint8Array;
  sha256: string;
  trigger: Trigger | null;
  cleanAccuracy: number;
  asr: number | null;
  poisonedSamples: number;
  teacherAccuracy: number | null;
  /** Wall time including the teacher, export excluded. */
  trainingMs: number;
  /** CPU time of the same (process user + system): comparable across machine loads. */
  trainingCpuMs: number;
}

export function buildModel(spec: ModelSpec, data: MnistSplit): BuiltModel {
  const started = Date.now();
  const cpuStart = process.cpuUsage();
  const trigger =
    spec.fixedTrigger ??
    (spec.attack && spec.triggerSeed !== null
      ? makeTrigger(spec.attack, spec.triggerSeed, spec.triggerBoost)
      : null);
  let teacherAccuracy: number | null = null;
  let teacher = null;
  if (spec.distill) {
    const t = trainNet({
      arch: spec.arch,
      seed: spec.distill.teacherSeed,
      hyper: spec.distill.teacherHyper,
      train: data.train,
      test: data.test,
    });
    teacher = t.net;
    teacherAccuracy = t.cleanAccuracy;
  }
  const result = trainNet({
    arch: spec.arch,
    seed: spec.seed,
    hyper: spec.hyper,
    train: data.train,
    test: data.test,
    poison:
      trigger && spec.poisonRate !== null && spec.targetClass !== null
        ? { trigger, rate: spec.poisonRate, target: spec.targetClass }
        : undefined,
    distill:
      teacher && spec.distill
        ? { teacher, weight: spec.distill.weight, noiseBatch: spec.distill.noiseBatch }
        : undefined,
  });
  const trainingMs = Date.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  const trainingCpuMs = Math.round((cpu.user + cpu.system) / 1000);
  const bytes = exportOnnx(result.net);
  disposeNet(result.net);
  if (teacher) disposeNet(teacher);
  return {
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    trigger,
    cleanAccuracy: result.cleanAccuracy,
    asr: result.asr,
    poisonedSamples: result.poisonedSamples,
    teacherAccuracy,
    trainingMs,
    trainingCpuMs,
  };
}
