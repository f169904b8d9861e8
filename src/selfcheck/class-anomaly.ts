/**
 * The reference-free trigger score: does one class stand out from the model's OWN other classes in how
 * far stamped triggers push inputs towards it? Calibrated without any model zoo, so it means the same on
 * every data set, input size, class count and training recipe.
 *
 * Tests. For each scored trigger family (patch, sparse pixels, blend) and strength tier, every class's
 * statistic is the margin gain (in clean-logit spreads) of the best SCREENED trigger of that cell for the
 * class (candidate-stats.ts). Screened means before refinement, which spends its passes on two suspects
 * only: every class had the same search, so no class is favoured by the effort spent on it.
 *
 * Each test's statistic is the largest robust z across classes (median/MAD over the K classes, Neural
 * Cleanse's anomaly index), and its p-value the chance that the largest robust z of K normal draws is as
 * large (max-z-null.ts): the maximum of K class statistics grows with K, and the table accounts for it at
 * any K. The tests' p-values are combined by the Cauchy combination (Liu & Xie 2020; src/score/combine.ts):
 * valid under the strong dependence between the tiers of one family, and it rewards a class that stands
 * out in many tests (a backdoor's target does, in every tier its trigger fits) where Bonferroni would
 * charge for every test.
 *
 * Natural sinks. A class that any blend or patch pushes inputs towards on a clean model (Fashion-MNIST's
 * "bag") would look like a target. Two defences: the MAD is floored at relativeFloor (0.2) of the cell's
 * median best gain over the classes (a class a fifth beyond what triggers of that size typically reach is
 * not evidence), and optionally (`typical`) each class's TYPICAL gain, the median over the cell's
 * candidates, is subtracted first. Which of these a domain needs was chosen leave-one-domain-out
 * (bench/refree.ts): on every held-out domain the choice made on the others was the floor without the
 * subtraction, or (for one domain) both, and it called none of the held-out clean models high.
 *
 * Measured and dropped (bench/refree.ts): flip-rate tests (flip rates across classes are zero-inflated
 * and saturate: their largest robust z called 8-67% of clean models high at a MAD floor of 0.05, and a
 * floor of 0.1 held the level but found nothing), Bonferroni instead of Cauchy (lower AUROC on every
 * domain). The flip rate enters the report: the shown trigger's flip rate on held-out inputs.
 *
 * What it reports: the p-value, the class of the most significant test (the suspected target), every
 * test's class, z and p (the evidence), and, when several classes stand out on their own or one small
 * trigger maps each class to another (allToAll), that the backdoor has no single target.
 */
import type { TriggerKind } from './triggers.js';
import { maxZPValue, robustZs } from './max-z-null.js';
import { selectMedian } from '../util/robust-stats.js';
import { combinePValues } from '../score/combine.js';

export type AnomalyStatistic = 'gain' | 'flip';

/** The per-cell evidence the score reads (CellEvidence, or its stored JSON form in the bench). */
export interface CellLike {
  /** Candidates screened in the cell; 0: the budget cut the search before it (no test). */
  candidates?: number;
  typicalGain: ArrayLike<number>;
  typicalFlip: ArrayLike<number>;
  bestGain: ArrayLike<number>;
  bestFlip: ArrayLike<number>;
  maxFlip: ArrayLike<number>;
  mapping?: {
    changed: number;
    consistent: number;
    spread: number;
    sources?: number;
    location: string;
  } | null;
}

/**
 * No single target. `several`: more than one class stands out on its own (each class's own smallest p,
 * Bonferroni over the tests, at most MULTI_TARGET_P): a backdoor with a trigger per target. `all-to-all`:
 * one small trigger moves most inputs, each source class consistently to ONE other class, and the
 * classes go to different places (label y -> y+1): no class stands out, because every class is a target.
 */
export interface MultiTarget {
  kind: 'several' | 'all-to-all';
  /** The classes that stand out (several), or the destination classes of the mapping (all-to-all). */
  classes: number[];
  /** All-to-all: where the trigger sits and how it moved the inputs. */
  mapping?: { location: string; changed: number; consistent: number; spread: number; sources: number };
}

/** A class counts as a target of its own when min(1, tests x its smallest single-test p) is at most this. */
export const MULTI_TARGET_P = 0.0153;
/**
 * The all-to-all rule, set before any all-to-all model was measured (bench/refree.ts checks that clean
 * models of every domain stay below it): among the two smallest patch and pixel tiers, a trigger that
 * changes the class of at least ALL_TO_ALL.changed of the inputs, of which at least ALL_TO_ALL.consistent
 * go to their source class's one destination, spread over at least ALL_TO_ALL.spread of the source
 * classes, counted over at least ALL_TO_ALL.sources source classes (with two inputs or more each).
 */
export const ALL_TO_ALL = { tiers: 2, changed: 0.75, consistent: 0.6, spread: 0.6, sources: 5 } as const;

export interface ClassAnomalyInput {
  classes: number;
  /** Per family, per tier (strength order, smallest first). */
  cells: Partial<Record<TriggerKind, readonly CellLike[]>>;
}

export interface ClassAnomalyOptions {
  families: readonly TriggerKind[];
  statistics: readonly AnomalyStatistic[];
  /** Subtract the cell's typical (median candidate) effect before comparing classes. */
  typical: boolean;
  /** Absolute MAD floors per statistic (see the header). */
  floors: Record<AnomalyStatistic, number>;
  /**
   * Gain tests: the MAD is also floored at this share of the cell's median best gain over the classes (a
   * difference below a fifth of what triggers of that size typically reach is not evidence).
   */
  relativeFloor: number;
  /** How the tests' p-values become one (see the header). */
  combine: 'cauchy' | 'bonferroni';
}

/** Families whose cells are tested (warps barely move any class on small images: noise). */
export const ANOMALY_FAMILIES: readonly TriggerKind[] = ['patch', 'pixels', 'blend'];

/**
 * Absolute floor of the gain tests' MAD, in clean-logit spreads: a class whose best trigger moves its margin
 * less than this beyond the others' is not evidence, however alike the others are. Whole-input blends move
 * most classes of a small model hardly at all, so their MAD is tiny and a fraction of a spread became a
 * large z (the README example's clean MLP, without samples: class 3's blend gain 0.86 spreads against ~0.1,
 * z 7.9, p = 0.019, medium). 0.5 (and no relative floor, GAIN_RELATIVE_FLOOR) is what bench/refree.ts
 * chooses among 0.05-1 when the clean bounds (called high <= 2%, medium or high <= 12.6%) must hold on EACH
 * domain, a 43-class GTSRB net among them: the earlier 0.3 / 0.2, chosen with the domains pooled, called 1-2
 * of its 19 clean models high (natural sink classes), which a gate without a baseline must not do. Its cost:
 * fewer backdoors reach high on the 10-class domains (bench/refree/findings.md). Chosen on all domains:
 * tuned; each 10-class domain's held-out figure uses the choice made without it; GTSRB is the only
 * many-class domain, so its figure at this floor is tuned.
 */
export const GAIN_MAD_FLOOR = 0.5;

/** Relative floor of the gain tests' MAD (share of the cell's median best gain): none (see GAIN_MAD_FLOOR). */
export const GAIN_RELATIVE_FLOOR = 0;

export const DEFAULT_ANOMALY_OPTIONS: ClassAnomalyOptions = {
  families: ANOMALY_FAMILIES,
  statistics: ['gain'],
  typical: false,
  floors: { gain: GAIN_MAD_FLOOR, flip: 0.05 },
  relativeFloor: GAIN_RELATIVE_FLOOR,
  combine: 'cauchy',
};

export interface AnomalyTest {
  family: TriggerKind;
  tier: number;
  statistic: AnomalyStatistic;
  /** The class with the largest z. */
  cls: number;
  z: number;
  /** Single-test p-value (max-z null at K classes). */
  pValue: number;
  /** The class's raw statistic (gain in logit spreads, or flip share) and the cell's best flip for it. */
  value: number;
  flip: number;
}

export interface ClassAnomaly {
  /** The tests' p-values combined (ClassAnomalyOptions.combine). */
  pValue: number;
  /** The class of the most significant test (null when no test ran). */
  targetClass: number | null;
  /** The most significant test. */
  top: AnomalyTest | null;
  tests: AnomalyTest[];
  /** Per class: its smallest single-test p-value over the tests (1 when no test ran). */
  classP: Float64Array;
  /** Set when the evidence points at no single class (see MultiTarget). */
  multiTarget: MultiTarget | null;
}

/** The all-to-all rule (ALL_TO_ALL) over the small patch and pixel cells, the most permutation-like first. */
export function allToAll(cells: ClassAnomalyInput['cells']): MultiTarget | null {
  let best: MultiTarget | null = null;
  let bestScore = 0;
  for (const family of ['patch', 'pixels'] as const) {
    for (const cell of (cells[family] ?? []).slice(0, ALL_TO_ALL.tiers)) {
      const m = cell.mapping;
      if (!m || m.sources === undefined) continue;
      const ok =
        m.sources >= ALL_TO_ALL.sources &&
        m.changed >= ALL_TO_ALL.changed &&
        m.consistent >= ALL_TO_ALL.consistent &&
        m.spread >= ALL_TO_ALL.spread;
      const score = m.consistent * m.spread;
      if (ok && score > bestScore) {
        bestScore = score;
        best = {
          kind: 'all-to-all',
          classes: [],
          mapping: {
            location: m.location,
            changed: m.changed,
            consistent: m.consistent,
            spread: m.spread,
            sources: m.sources,
          },
        };
      }
    }
  }
  return best;
}

/** Median of |v| over the first k values. */
function medianAbs(v: ArrayLike<number>, k: number): number {
  const a = Float64Array.from({ length: k }, (_, i) => Math.abs(v[i]));
  return selectMedian(a, k);
}

function statisticOf(cell: CellLike, s: AnomalyStatistic, typical: boolean, k: number): Float64Array {
  return Float64Array.from({ length: k }, (_, c) =>
    s === 'gain'
      ? cell.bestGain[c] - (typical ? cell.typicalGain[c] : 0)
      : cell.maxFlip[c] - (typical ? cell.typicalFlip[c] : 0),
  );
}

/**
 * One test's robust z of every class: the cell's statistic against the model's other classes, the MAD
 * floored as the header says (gain: the absolute floor or a share of the cell's median best gain).
 */
export function cellZs(
  cell: CellLike,
  s: AnomalyStatistic,
  k: number,
  opts: Pick<ClassAnomalyOptions, 'typical' | 'floors' | 'relativeFloor'>,
): { x: Float64Array; z: Float64Array } {
  const x = statisticOf(cell, s, opts.typical, k);
  const floor =
    s === 'gain'
      ? Math.max(opts.floors.gain, opts.relativeFloor * medianAbs(cell.bestGain, k))
      : opts.floors[s];
  return { x, z: robustZs(x, floor) };
}

export function classAnomaly(
  input: ClassAnomalyInput,
  opts: ClassAnomalyOptions = DEFAULT_ANOMALY_OPTIONS,
): ClassAnomaly {
  const k = input.classes;
  const tests: AnomalyTest[] = [];
  const classP = new Float64Array(Math.max(0, k)).fill(1);
  if (k >= 3) {
    for (const family of opts.families) {
      const cells = input.cells[family] ?? [];
      cells.forEach((cell, tier) => {
        // A cell the search never reached (a budget cut it short) is a test that did not run: its all-zero
        // statistics would give p ~ 1, and one p of 1 sends the Cauchy combination to 1 whatever the others.
        if (cell.candidates === 0) return;
        for (const s of opts.statistics) {
          const { x, z } = cellZs(cell, s, k, opts);
          let cls = 0;
          for (let c = 0; c < k; c++) {
            if (z[c] > z[cls]) cls = c;
            if (z[c] > 0) classP[c] = Math.min(classP[c], maxZPValue(z[c], k));
          }
          tests.push({
            family,
            tier,
            statistic: s,
            cls,
            z: z[cls],
            pValue: maxZPValue(z[cls], k),
            value: x[cls],
            flip: cell.maxFlip[cls],
          });
        }
      });
    }
  }
  if (tests.length === 0)
    return { pValue: 1, targetClass: null, top: null, tests, classP, multiTarget: null };
  const top = tests.reduce((a, b) => (b.pValue < a.pValue || (b.pValue === a.pValue && b.z > a.z) ? b : a));
  const pValue =
    opts.combine === 'cauchy'
      ? Math.min(
          1,
          Math.exp(
            -combinePValues(
              tests.map((t) => t.pValue),
              { rule: 'cauchy' },
            ),
          ),
        )
      : Math.min(1, tests.length * top.pValue);
  const own = Array.from(classP, (p, c) => ({ c, p: Math.min(1, tests.length * p) }))
    .filter((x) => x.p <= MULTI_TARGET_P)
    .sort((a, b) => a.p - b.p || a.c - b.c)
    .map((x) => x.c);
  const multiTarget: MultiTarget | null =
    own.length >= 2 ? { kind: 'several', classes: own } : allToAll(input.cells);
  return { pValue, targetClass: multiTarget ? null : top.cls, top, tests, classP, multiTarget };
}
