/**
 * The speed part of bench:realsize: what a scan of a real-size zoo model costs, against ONNX Runtime's own
 * inference in the same process. For a few test models per architecture (one clean, one backdoored, ...),
 * `scanModels` (what `model-fingerprint scan` runs, minus process start-up) is timed with the budget and
 * baseline of a detection condition, then raw ONNX Runtime (session create with its defaults, then runs) is
 * timed twice: on the same number of inputs as the scan's report says it ran (the tool's overhead over pure
 * inference), and on the 128 real probe samples once (what one pass over a probe set costs: the scan in
 * units of "running the model on its probes"). Raw inputs go in batches of the tool's trigger batch size
 * (logitsBatchSize), as bench:speed's realsize section does.
 */
import path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { parseBudget } from '../../src/fingerprint/budget.js';
import { logitsBatchSize } from '../../src/model/session.js';
import { scanModels } from '../../src/scan/scan.js';
import { isFailed } from '../../src/report/types.js';
import { rawInference } from '../speed/realsize.js';
import { timeIt } from '../speed/common.js';
import type { RealsizeModel } from './manifest.js';

export interface SpeedRow {
  arch: string;
  id: string;
  label: 'clean' | 'backdoor';
  budget: string;
  /** 'no-baseline' or 'baseline' (20 references, generated probes). */
  condition: string;
  level: string;
  /** Forward passes the scan's report says it ran, per check and in all. */
  passes: Record<string, number>;
  totalPasses: number;
  scanMs: number;
  /** Raw ONNX Runtime, session create + `totalPasses` inputs. */
  rawSameMs: number;
  /** scanMs / rawSameMs. */
  ratioSame: number;
  /** Raw ONNX Runtime, session create + the 128 probe samples. */
  rawProbesMs: number;
  /** scanMs / rawProbesMs. */
  ratioProbes: number;
}

/** Picks `n` test models, alternating clean and backdoored (a spread of attacks), deterministically. */
export function speedModels(tests: RealsizeModel[], n: number): RealsizeModel[] {
  const clean = tests.filter((m) => m.label === 'clean');
  const bd = tests.filter((m) => m.label === 'backdoor');
  const out: RealsizeModel[] = [];
  for (let i = 0; out.length < n && (i < clean.length || i < bd.length); i++) {
    if (i < clean.length) out.push(clean[i]);
    if (out.length < n && i < bd.length) out.push(bd[(i * 5) % bd.length]);
  }
  return out;
}

export async function measureSpeed(
  zooDir: string,
  models: RealsizeModel[],
  probes: ort.Tensor,
  runs: { budget: string; condition: string; baselineDir: string | null }[],
): Promise<SpeedRow[]> {
  const rows: SpeedRow[] = [];
  const shape = probes.dims.slice(1) as number[];
  const batch = logitsBatchSize(shape.reduce((a, b) => a * b, 1));
  for (const m of models) {
    const file = path.join(zooDir, m.file);
    for (const r of runs) {
      process.stderr.write(`speed: ${m.id} / ${r.budget} / ${r.condition}\n`);
      const scanned = await timeIt(() =>
        scanModels([file], { failOn: 'high', budget: parseBudget(r.budget), baselineDir: r.baselineDir }),
      );
      const e = scanned.value.models[0];
      if (isFailed(e)) throw new Error(`${m.id}: ${e.error}`);
      const totalPasses = e.budget?.passes ?? 0;
      const rawSameMs = await rawInference(file, 'input', shape, totalPasses, batch);
      const rawProbesMs = await rawInference(file, 'input', shape, probes.dims[0], batch, probes);
      rows.push({
        arch: m.arch,
        id: m.id,
        label: m.label,
        budget: r.budget,
        condition: r.condition,
        level: e.riskLevel,
        passes: Object.fromEntries((e.checks ?? []).map((c) => [c.check, c.passes])),
        totalPasses,
        scanMs: scanned.ms,
        rawSameMs,
        ratioSame: scanned.ms / rawSameMs,
        rawProbesMs,
        ratioProbes: scanned.ms / rawProbesMs,
      });
    }
  }
  return rows;
}
