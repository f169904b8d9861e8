/**
 * The edge between trigger probing and the model: a RunLogits function (the caller wires it to its ONNX
 * Runtime session) wrapped so every input sent counts against a budget of forward passes, many triggers
 * share one large batch per model run, and a wrong-sized answer is caught at once.
 */
import { InputError } from '../errors.js';
import { summarise, type LogitSummary } from './logit-stats.js';
import { stampTrigger, type ImageGeometry, type Trigger } from './triggers.js';

/**
 * The model as the prober sees it: `count` inputs of the model's single float input shape, packed; returns
 * count x classes logits.
 */
export type RunLogits = (inputs: Float32Array, count: number) => Promise<Float32Array>;

/** Most inputs sent to the model in one run. */
export const MAX_INPUTS_PER_RUN = 4096;
/** Cap on floats per run (64 MB), so large inputs use smaller batches. */
export const MAX_FLOATS_PER_RUN = 16 * 1024 * 1024;

/** One unit of work: stamp `trigger` on the base rows `rows`. */
export interface StampJob {
  trigger: Trigger;
  rows: readonly number[];
}

/**
 * How a screening fits its budget: every one of `candidates` candidates on as many of the `available`
 * inputs as the budget affords (at most `maxRows`); when that is fewer than `minRows`, `minRows` inputs and
 * only the first candidates the budget affords (the caller orders them by priority).
 */
export function screeningPlan(
  candidates: number,
  available: number,
  budget: number,
  minRows: number,
  maxRows: number,
): { rows: number; candidates: number } {
  const rows = Math.min(available, maxRows, Math.floor(budget / Math.max(1, candidates)));
  if (rows >= Math.min(minRows, available)) return { rows, candidates };
  const min = Math.min(minRows, available);
  return { rows: min, candidates: Math.min(candidates, Math.max(1, Math.floor(budget / Math.max(1, min)))) };
}

/**
 * Counts every input sent to the model against a budget of forward passes and checks each answer's size.
 * `In` is what one run takes: packed float inputs (images) or token ids (src/selfcheck/token-probe.ts).
 */
export class PassBudget<In extends Float32Array | Int32Array> {
  used = 0;

  constructor(
    private readonly run: (inputs: In, count: number) => Promise<Float32Array>,
    private readonly budget: number,
    protected readonly k: number,
    private readonly file = 'model',
  ) {}

  get left(): number {
    return this.budget - this.used;
  }

  /** Runs raw inputs (counted), checking the answer's size. */
  async logits(batch: In, n: number): Promise<Float32Array> {
    if (n > this.left) throw new Error(`trigger probe: ${n} inputs exceed the budget left (${this.left})`);
    this.used += n;
    const out = await this.run(batch, n);
    if (out.length !== n * this.k) {
      throw new InputError(
        'runtime-error',
        `${this.file}: the model returned ${out.length} values for ${n} inputs x ${this.k} classes; ` +
          'trigger probing needs one float output of shape [N, classes]',
        this.file,
      );
    }
    return out;
  }
}

export class BudgetedRunner extends PassBudget<Float32Array> {
  constructor(
    run: RunLogits,
    budget: number,
    private readonly size: number,
    k: number,
    file = 'model',
  ) {
    super(run, budget, k, file);
  }

  /** Stamps and runs every job, packing many jobs into each model run; one summary per job. */
  async stamped(jobs: readonly StampJob[], base: Float32Array, g: ImageGeometry): Promise<LogitSummary[]> {
    const total = jobs.reduce((a, j) => a + j.rows.length, 0);
    if (total > this.left)
      throw new Error(`trigger probe: ${total} inputs exceed the budget left (${this.left})`);
    const perRun = Math.max(1, Math.min(MAX_INPUTS_PER_RUN, Math.floor(MAX_FLOATS_PER_RUN / this.size)));
    const out: LogitSummary[] = [];
    let j = 0;
    while (j < jobs.length) {
      const group: StampJob[] = [];
      let n = 0;
      while (j < jobs.length && (group.length === 0 || n + jobs[j].rows.length <= perRun)) {
        group.push(jobs[j]);
        n += jobs[j].rows.length;
        j++;
      }
      const batch = new Float32Array(n * this.size);
      let at = 0;
      for (const job of group) {
        const m = job.rows.length;
        const dst = batch.subarray(at * this.size, (at + m) * this.size);
        job.rows.forEach((r, i) => dst.set(base.subarray(r * this.size, (r + 1) * this.size), i * this.size));
        stampTrigger(job.trigger, g, dst, m, dst);
        at += m;
      }
      const logits = await this.logits(batch, n);
      let o = 0;
      for (const job of group) {
        const m = job.rows.length;
        out.push(summarise(logits.subarray(o * this.k, (o + m) * this.k), m, this.k));
        o += m;
      }
    }
    return out;
  }
}
