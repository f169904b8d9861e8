/**
 * bench:text --timing: how long a reference-free scan of one small text model takes (issue 23's target:
 * <= 10 s on 2 cores), in this process through the same scan entry the CLI calls (src/scan/scan.ts), with
 * the held-out texts and the vocabulary. Wall time is noisy on the shared machine, so it also reports the
 * process's CPU time (user + system, all threads): on an otherwise idle 2-core machine the wall time is at
 * most that. The reference run in the same process: raw ONNX Runtime inference of as many texts as the
 * scan's trigger probing ran (random token ids, batches of 4096), so the ratio is the search's own overhead.
 */
import path from 'node:path';
import { readModel } from '../../src/model/read.js';
import { ModelRunner } from '../../src/model/session.js';
import { scanModels } from '../../src/scan/scan.js';
import { Rng } from '../../src/probes/rng.js';
import { isFailed } from '../../src/report/types.js';
import { ROOT, type TextZoo } from './zoo.js';

export interface TimingRow {
  arch: string;
  model: string;
  wallMs: number;
  cpuMs: number;
  /** Raw ORT inference of `rawTexts` texts in this process: wall and CPU. */
  rawTexts: number;
  rawWallMs: number;
  rawCpuMs: number;
  riskScore: number | null;
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
/** Texts the raw reference run infers (about what the token search spends on a small model). */
const RAW_BATCH = 4096;
const RAW_TEXTS = 20 * RAW_BATCH;

export async function timeScans(zoo: TextZoo, archs: string[], tokenInversion = false): Promise<TimingRow[]> {
  const rows: TimingRow[] = [];
  for (const arch of archs) {
    const m = zoo.models.find((x) => x.arch === arch && x.split === 'test' && x.label === 'clean');
    if (!m) continue;
    const rel = path.relative(ROOT, m.path);
    // one warm-up scan (module loading, ORT's first session), then the measured one
    for (let round = 0; round < 2; round++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const report = await scanModels([rel], {
        failOn: 'never',
        probes: {
          samplesDir: zoo.samplesText,
          vocabFile: zoo.vocabFile,
          ...(tokenInversion ? { tokenInversion: true } : {}),
        },
      });
      const wallMs = performance.now() - t0;
      const cpu = cpuMs(process.cpuUsage(c0));
      if (round === 0) continue;
      const entry = report.models[0];
      const raw = await rawInference(m.path, m.seq);
      rows.push({
        arch,
        model: m.id,
        wallMs: Math.round(wallMs),
        cpuMs: Math.round(cpu),
        rawTexts: RAW_TEXTS,
        rawWallMs: Math.round(raw.wallMs),
        rawCpuMs: Math.round(raw.cpuMs),
        riskScore: entry && !isFailed(entry) ? entry.riskScore : null,
      });
      console.error(
        `${arch}: scan ${(wallMs / 1000).toFixed(1)} s wall, ${(cpu / 1000).toFixed(1)} s CPU; raw inference of ${RAW_TEXTS} texts ${(raw.wallMs / 1000).toFixed(1)} s wall`,
      );
    }
  }
  return rows;
}

async function rawInference(file: string, seq: number): Promise<{ wallMs: number; cpuMs: number }> {
  const model = await readModel(file);
  const runner = await ModelRunner.open(model);
  try {
    const logits = runner.tokenLogitsFunction([seq]);
    const rng = new Rng(1);
    const ids = Int32Array.from({ length: RAW_BATCH * seq }, () => rng.int(3000));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let done = 0; done < RAW_TEXTS; done += RAW_BATCH) await logits(ids, RAW_BATCH);
    return { wallMs: performance.now() - t0, cpuMs: cpuMs(process.cpuUsage(c0)) };
  } finally {
    await runner.release();
  }
}
