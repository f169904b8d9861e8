/**
 * The reference-free trigger score: does one class stand out from the model's OWN other classes in how
 * far stamped triggers push inputs towards it? Calibrated without any model zoo, so it means the same on
 * every data set, input size, class count and training recipe.
 *
 * Tests. For each scored trigger family (patch, sparse pixels, blend) and strength tier, every class's
 * statistic is the margin gain (in clean-logit spreads) of the best SCREENED trigger of that cell for the
 * class, minus the TYPICAL gain of the cell's candidates for it (their median; candidate-stats.ts). Screened
 * means before refinement, which spends its passes on two suspects only: every class had the same search.
 * A natural sink class, which any blend or patch pushes inputs towards on a clean model, has a high typical
 * gain, so only what its best trigger adds beyond the typical one counts.
 *
 * Each test's statistic is the largest robust z across classes (median/MAD over the K classes, Neural
 * Cleanse's anomaly index), and its p-value the chance that the largest robust z of K normal draws is as
 * large (max-z-null.ts): the maximum of K class statistics grows with K, and the table accounts for it at
 * any K. The tests' p-values are combined by the Cauchy combination (Liu & Xie 2020; src/score/combine.ts):
 * valid under the strong dependence between the tiers of one family, and it rewards a class that stands
 * out in many tests (a backdoor's target does, in every tier its trigger fits) where Bonferroni would
 * charge for every test.
 *
 * Measured (bench/refree.ts, the MNIST zoo as the tuning domain; every other domain held out): per-test
 * p-values on clean models are close to uniform (share <= 0.05: 0.06), flip-rate tests were not (zero-
 * inflated rates across classes: 0.11-0.17 at a MAD floor of 0.05; a floor of 0.1 held the level but found
 * nothing) and lowered AUROC, gain without the typical correction was weaker (AUROC 0.90 vs 0.95 on the
 * tuning zoo), Bonferroni weaker than Cauchy (0.92 vs 0.95). The flip rate enters the report instead: the
 * shown trigger's flip rate on held-out inputs.
 *
 * Spread floor. A robust z divides by the MAD, which is ~0 when most classes share a value: the MAD is
 * floored at ClassAnomalyOptions.floors (0.05 logit spreads of gain: less is not evidence).
 */
import type { TriggerKind } from './triggers.js';
import { maxZPValue, robustZs } from './max-z-null.js';
import { combinePValues } from '../score/combine.js';

export type AnomalyStatistic = 'gain' | 'flip';

/** The per-cell evidence the score reads (CellEvidence, or its stored JSON form in the bench). */
export interface CellLike {
  typicalGain: ArrayLike<number>;
  typicalFlip: ArrayLike<number>;
  bestGain: ArrayLike<number>;
  bestFlip: ArrayLike<number>;
  maxFlip: ArrayLike<number>;
}

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
  /** MAD floors per statistic (see the header). */
  floors: Record<AnomalyStatistic, number>;
  /** How the tests' p-values become one (see the header). */
  combine: 'cauchy' | 'bonferroni';
}

/** Families whose cells are tested (warps barely move any class on small images: noise). */
export const ANOMALY_FAMILIES: readonly TriggerKind[] = ['patch', 'pixels', 'blend'];

export const DEFAULT_ANOMALY_OPTIONS: ClassAnomalyOptions = {
  families: ANOMALY_FAMILIES,
  statistics: ['gain'],
  typical: true,
  floors: { gain: 0.05, flip: 0.05 },
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
}

function statisticOf(cell: CellLike, s: AnomalyStatistic, typical: boolean, k: number): Float64Array {
  return Float64Array.from({ length: k }, (_, c) =>
    s === 'gain'
      ? cell.bestGain[c] - (typical ? cell.typicalGain[c] : 0)
      : cell.maxFlip[c] - (typical ? cell.typicalFlip[c] : 0),
  );
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
        for (const s of opts.statistics) {
          const x = statisticOf(cell, s, opts.typical, k);
          const z = robustZs(x, opts.floors[s]);
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
  if (tests.length === 0) return { pValue: 1, targetClass: null, top: null, tests, classP };
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
  return { pValue, targetClass: top.cls, top, tests, classP };
}
