/**
 * What trigger probing found, kept for people to look at: the reported trigger itself (mask and pattern, or
 * warp field), a few of the inputs it was stamped on with the model's class before and after (the argmax of
 * the logits the scan itself got), and the patch map with the positions its rows stand for. Pictures in the
 * report (src/report/trigger-picture.ts, src/report/heatmap.ts) are drawn from this and re-derive nothing:
 * no model is run again and no trigger is searched again. In memory only: the JSON report does not carry
 * it (a fingerprint file neither, see src/fingerprint/format.ts).
 */
import type { TriggerBaseKind } from './base-inputs.js';
import { stampTrigger, type ImageGeometry, type Trigger, type ValueRange } from './triggers.js';

/** Most example inputs kept (the picture shows each before and after). */
export const EVIDENCE_EXAMPLES = 6;

export interface EvidenceExample {
  /** The input's row in the base the triggers were stamped on. */
  row: number;
  /** The input before stamping, in probe space (values in the range the probes use), C x H x W. */
  clean: Float32Array;
  /** The same input with the trigger stamped, as the scan stamped it (stampTrigger). */
  stamped: Float32Array;
  /** The model's class on the clean and on the stamped input, from the scan's own forward passes. */
  before: number;
  after: number;
}

/** The patch map (the "trigger-map" block's layout) with what its rows stand for. */
export interface PatchMapEvidence {
  /** Inputs every patch was stamped on. */
  inputs: number;
  /** The solid patch of each map row: side and top-left corner (sweep.ts sweepLayout order). */
  positions: readonly { size: number; top: number; left: number }[];
  /** values[p * classes + c]: the share of the inputs patch p sent into class c. */
  values: Float32Array;
}

export interface TriggerEvidence {
  geometry: ImageGeometry;
  range: ValueRange;
  classes: number;
  /** The class trigger probing suspects (SelfCheck.targetClass). */
  targetClass: number;
  /** The reported trigger (SelfCheck.trigger describes it in words). */
  trigger: Trigger;
  /** The reported flip rate (SelfCheck.trigger.flipRate). */
  flipRate: number;
  /**
   * held-out: the examples are inputs the flip rate was measured on; search: too few inputs were held out,
   * so they are inputs of the search the trigger was chosen on.
   */
  examplesFrom: 'held-out' | 'search';
  examples: EvidenceExample[];
  /** Null when the budget left no patch sweep. */
  map: PatchMapEvidence | null;
  /** What the triggers were stamped on (set by src/fingerprint/trigger-check.ts). */
  basis?: TriggerBaseKind;
}

/**
 * Up to `n` of `rows` (indices into `before`/`after`, which follow `rows`) for the picture: inputs not
 * already in the target class (only they can flip), in the order given (a seeded shuffle), first one per
 * class the model gave them, then the rest. The choice never looks at the stamped outcome, so the picture
 * shows flips as often as they happened.
 */
export function pickExamples(before: ArrayLike<number>, target: number, n = EVIDENCE_EXAMPLES): number[] {
  const eligible = Array.from({ length: before.length }, (_, i) => i).filter((i) => before[i] !== target);
  const classes = new Set<number>();
  const first: number[] = [];
  for (const i of eligible) {
    if (classes.has(before[i])) continue;
    classes.add(before[i]);
    first.push(i);
  }
  const rest = eligible.filter((i) => !first.includes(i));
  const picked = new Set([...first, ...rest].slice(0, n));
  return eligible.filter((i) => picked.has(i));
}

/**
 * The evidence of one probing run: `rows` are the base rows the trigger was last measured on, `before` and
 * `after` the model's classes on them (clean and stamped), row for row.
 */
export function triggerEvidence(
  args: Omit<TriggerEvidence, 'examples' | 'basis'> & {
    base: Float32Array;
    rows: readonly number[];
    before: ArrayLike<number>;
    after: ArrayLike<number>;
  },
): TriggerEvidence {
  const g = args.geometry;
  const size = g.c * g.h * g.w;
  const examples = pickExamples(args.before, args.targetClass).map((i) => {
    const row = args.rows[i];
    const clean = args.base.slice(row * size, (row + 1) * size);
    return {
      row,
      clean,
      stamped: stampTrigger(args.trigger, g, clean, 1),
      before: args.before[i],
      after: args.after[i],
    };
  });
  const { base: _base, rows: _rows, before: _before, after: _after, ...kept } = args;
  return { ...kept, examples };
}
