/**
 * What every screened candidate trigger did, summarised per (family, strength tier, class): the evidence
 * the reference-free class-anomaly score (class-anomaly.ts) reads beside the best trigger of each cell.
 *
 *   typical   the median margin gain and flip rate over ALL candidates of the cell: how easy the class is
 *             to reach with an arbitrary trigger of that family and size. A natural "sink" class (a blend
 *             or any patch sends many inputs there on a clean model) is reached by the typical candidate
 *             too; a backdoor's target is reached by its own trigger and barely by the others.
 *   best      the largest margin gain any SCREENED candidate reached for the class, and its flip rate, and
 *             the largest flip rate of any screened candidate: measured before refinement, which spends
 *             its passes on the two most suspicious classes only and so would lift exactly the class a
 *             contrast across classes tests (every class gets the same screening: its own scan-guided
 *             and swept candidates, and the generic ones).
 *   mapping   per candidate, where the inputs went: the share whose class changed, and how consistently
 *             each source class went to ONE other class with many different destinations (an all-to-all
 *             backdoor maps y -> y+1: every input changes, each source class consistently, to K different
 *             classes; a sink takes many inputs to one class, noise scatters them). The cell keeps its most
 *             permutation-like candidate.
 *
 * Also the clean pass per class: the share of the inputs predicted as it, how often it is the runner-up,
 * and its median gap to the top class (in clean-logit spreads): a class the clean inputs already nearly
 * reach is easy to flip into without any backdoor.
 *
 * Plain loops on small arrays (candidates x classes); nothing here runs the model.
 */
import type { Effect, LogitSummary } from './logit-stats.js';
import type { Trigger, TriggerKind } from './triggers.js';
import { MAD_TO_SD, median } from '../util/robust-stats.js';

function madOf(xs: number[]): number {
  const m = median(xs);
  return MAD_TO_SD * median(xs.map((x) => Math.abs(x - m)));
}

/** The most permutation-like candidate of one (family, tier) cell. */
export interface MappingEvidence {
  /** Share of the inputs whose predicted class changed. */
  changed: number;
  /** Share of the inputs (of sources counted) that went to their source class's most common new class. */
  consistent: number;
  /** Distinct destination classes that received a source class's majority, over the sources counted. */
  spread: number;
  /** consistent x spread: 1 for a full permutation of every class, about 1/K for a sink. */
  score: number;
  /** Source classes counted (at least MAPPING_MIN_SOURCE inputs each). */
  sources: number;
  location: string;
}

export interface CellEvidence {
  /** Candidates observed in the cell. */
  candidates: number;
  /** Per class: median margin gain over the cell's candidates, in clean-logit spreads. */
  typicalGain: Float32Array;
  /** Per class: median flip rate over the cell's candidates. */
  typicalFlip: Float32Array;
  /** Per class: the spread (1.4826 MAD) of the candidates' gains, in clean-logit spreads. */
  spreadGain: Float32Array;
  /** Per class: the largest margin gain of a screened candidate, in clean-logit spreads. */
  bestGain: Float32Array;
  /** Per class: the flip rate of that candidate. */
  bestFlip: Float32Array;
  /** Per class: the largest flip rate of any screened candidate of the cell. */
  maxFlip: Float32Array;
  mapping: MappingEvidence | null;
}

export interface CleanEvidence {
  /** Per class: share of the base inputs the clean model predicts as it. */
  share: Float32Array;
  /** Per class: share of the inputs (not predicted as it) whose runner-up it is. */
  runnerUp: Float32Array;
  /** Per class: median over inputs not predicted as it of its gap to the top class, in logit spreads. */
  gap: Float32Array;
}

export interface CandidateEvidence {
  /** Per family, per tier (the table's tier order). */
  cells: Map<TriggerKind, CellEvidence[]>;
  clean: CleanEvidence;
}

interface Cell {
  gains: number[][];
  flips: number[][];
  bestGain: Float64Array;
  bestFlip: Float64Array;
  maxFlip: Float32Array;
  mapping: MappingEvidence | null;
}

/** Fewest inputs of a source class for its mapping to count (one input says nothing about consistency). */
export const MAPPING_MIN_SOURCE = 2;

/**
 * How a stamped batch moved the inputs between classes (see MappingEvidence). A source class (the clean
 * prediction) with at least MAPPING_MIN_SOURCE inputs is "mapped" to its most common new class when at
 * least half of its inputs, and at least two, went there. consistent = inputs of mapped sources that went
 * to their class / inputs of the sources counted; spread = distinct classes the mapped sources went to /
 * sources counted.
 */
export function mappingOf(
  clean: LogitSummary,
  stamped: LogitSummary,
  k: number,
  location = '',
): MappingEvidence {
  const n = clean.argmax.length;
  const moved = new Map<number, Map<number, number>>();
  const sources = new Map<number, number>();
  let changed = 0;
  for (let i = 0; i < n; i++) {
    const s = clean.argmax[i];
    const d = stamped.argmax[i];
    sources.set(s, (sources.get(s) ?? 0) + 1);
    if (d === s) continue;
    changed++;
    const row = moved.get(s) ?? new Map<number, number>();
    row.set(d, (row.get(d) ?? 0) + 1);
    moved.set(s, row);
  }
  let counted = 0;
  let inputs = 0;
  let consistent = 0;
  const destinations = new Set<number>();
  for (const [s, ns] of sources) {
    if (ns < MAPPING_MIN_SOURCE) continue;
    counted++;
    inputs += ns;
    let best = -1;
    let bestN = 0;
    for (const [d, m] of moved.get(s) ?? [])
      if (m > bestN || (m === bestN && d < best)) [best, bestN] = [d, m];
    if (bestN >= MAPPING_MIN_SOURCE && 2 * bestN >= ns) {
      consistent += bestN;
      destinations.add(best);
    }
  }
  const c = inputs > 0 ? consistent / inputs : 0;
  const spread = counted > 0 ? destinations.size / Math.min(counted, k) : 0;
  return {
    changed: n > 0 ? changed / n : 0,
    consistent: c,
    spread,
    score: c * spread,
    sources: counted,
    location,
  };
}

export class CandidateStats {
  private readonly cells = new Map<TriggerKind, Cell[]>();

  constructor(
    private readonly k: number,
    tiers: ReadonlyMap<TriggerKind, number>,
  ) {
    for (const [f, n] of tiers)
      this.cells.set(
        f,
        Array.from({ length: n }, () => ({
          gains: Array.from({ length: k }, () => []),
          flips: Array.from({ length: k }, () => []),
          bestGain: new Float64Array(k).fill(-Infinity),
          bestFlip: new Float64Array(k),
          maxFlip: new Float32Array(k),
          mapping: null,
        })),
      );
  }

  /**
   * One candidate's effect on `clean` (the same rows as `stamped`); gains in raw logit units. `screened`:
   * measured on the screening rows (it then competes for the cell's best; swept patches, on a few inputs,
   * only count towards the typical effect and the mapping).
   */
  observe(
    trigger: Trigger,
    effect: Effect,
    clean: LogitSummary,
    stamped: LogitSummary,
    screened: boolean,
  ): void {
    const cell = this.cells.get(trigger.kind)?.[trigger.tier];
    if (!cell) return;
    for (let c = 0; c < this.k; c++) {
      cell.gains[c].push(effect.gain[c]);
      cell.flips[c].push(effect.flip[c]);
      if (!screened) continue;
      if (effect.flip[c] > cell.maxFlip[c]) cell.maxFlip[c] = effect.flip[c];
      if (effect.gain[c] > cell.bestGain[c]) {
        cell.bestGain[c] = effect.gain[c];
        cell.bestFlip[c] = effect.flip[c];
      }
    }
    if (!screened) return;
    // Only on the screening rows: the sweep's 8 inputs hold about one input per class, on which any
    // strong perturbation looks like a consistent mapping.
    const m = mappingOf(clean, stamped, this.k, trigger.location);
    if (!cell.mapping || m.score > cell.mapping.score) cell.mapping = m;
  }

  /** The per-cell evidence, gains divided by `logitScale` (the clean logits' spread). */
  finish(logitScale: number, clean: LogitSummary): CandidateEvidence {
    const cells = new Map<TriggerKind, CellEvidence[]>();
    for (const [f, list] of this.cells) {
      cells.set(
        f,
        list.map((cell) => ({
          candidates: cell.gains[0]?.length ?? 0,
          typicalGain: Float32Array.from(cell.gains, (g) => (g.length ? median(g) / logitScale : 0)),
          typicalFlip: Float32Array.from(cell.flips, (g) => (g.length ? median(g) : 0)),
          spreadGain: Float32Array.from(cell.gains, (g) => (g.length ? madOf(g) / logitScale : 0)),
          bestGain: Float32Array.from(cell.bestGain, (g) => (Number.isFinite(g) ? g / logitScale : 0)),
          bestFlip: Float32Array.from(cell.bestFlip),
          maxFlip: cell.maxFlip,
          mapping: cell.mapping,
        })),
      );
    }
    return { cells, clean: cleanEvidence(clean, this.k, logitScale) };
  }
}

/** Per class: predicted share, runner-up share and median gap to the top class (see CleanEvidence). */
export function cleanEvidence(s: LogitSummary, k: number, logitScale: number): CleanEvidence {
  const n = s.argmax.length;
  const share = new Float32Array(k);
  const runnerUp = new Float32Array(k);
  const gaps: number[][] = Array.from({ length: k }, () => []);
  const others = new Float32Array(k);
  for (let i = 0; i < n; i++) {
    const top = s.argmax[i];
    share[top]++;
    let second = -1;
    let secondMargin = -Infinity;
    for (let c = 0; c < k; c++) {
      if (c === top) continue;
      const m = s.margin[i * k + c];
      gaps[c].push(-m / logitScale);
      others[c]++;
      if (m > secondMargin) [second, secondMargin] = [c, m];
    }
    if (second >= 0) runnerUp[second]++;
  }
  for (let c = 0; c < k; c++) {
    runnerUp[c] = others[c] > 0 ? runnerUp[c] / others[c] : 0;
    share[c] = n > 0 ? share[c] / n : 0;
  }
  return { share, runnerUp, gap: Float32Array.from(gaps, (g) => (g.length ? median(g) : 0)) };
}
