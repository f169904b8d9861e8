/**
 * A p-value for the trigger self-check score with NO reference models of the user's own.
 *
 * Null model. Without a backdoor the classes are exchangeable as far as trigger probing goes: each class's
 * score (the root mean square over trigger families of its largest per-tier margin-gain robust z against
 * the other classes) is one draw from a common distribution, and the model's score is the largest of K
 * such draws. The largest of K draws from a light-tailed distribution is Gumbel distributed,
 * P(S > s) = 1 - exp(-exp(-(s - mu) / beta)); for another class count K the location shifts by
 * beta * ln(K / K0) (the max of K i.i.d. draws in the Gumbel domain). The parameters are not theory: they
 * are fitted once on the clean models of the benchmark zoo (MLPs and CNNs trained on MNIST, probed with
 * real held-out digits at the default budget) and shipped as constants here, with the command that
 * measures them:
 *
 *     npx tsx bench/selfcheck-eval.ts            (writes bench/results/selfcheck.json, fitted "null")
 *
 * Honesty. The fitted scale is widened by NULL_SCALE_INFLATION and the location raised by
 * NULL_LOCATION_MARGIN so that on the held-out half of the clean zoo models (a split the fit never saw)
 * the share with p <= 0.0158 stays at or below 5% (bench/results/selfcheck.md reports that share). On
 * models unlike the zoo (other data, other input sizes, noise probes only) the p-value is an approximation:
 * treat it as a screening signal, and prefer the baseline comparison when references exist.
 */

export interface GumbelNull {
  /** Gumbel location of the clean-model score at `classes` classes. */
  location: number;
  /** Gumbel scale. */
  scale: number;
  /** Class count the fit was made at. */
  classes: number;
  /** Clean models the fit used, and where they came from. */
  models: number;
  source: string;
}

/** Euler-Mascheroni constant (the Gumbel mean is location + gamma * scale). */
const EULER_GAMMA = 0.5772156649015329;

/** Multiplies the fitted scale: a fit on a few dozen models under-estimates the tail. */
export const NULL_SCALE_INFLATION = 1.25;
/** Added to the fitted location (score units), for the same reason. */
export const NULL_LOCATION_MARGIN = 0.25;

/**
 * The shipped nulls, one per kind of base input (the score's null distribution depends on what the
 * triggers are stamped on): fitted on the clean zoo reference models by bench/selfcheck-eval.ts (see the
 * header); the values already include the inflation and the margin.
 *   samples  real in-distribution inputs (the user's sample files): the recommended setting
 *   mined    no samples: the base is mined per model from a generated pool (mine-base.ts), the default
 *   probes   the generated probe set itself (no samples, and a budget too small to mine): lower power, and
 *            a wider null
 */
export const TRIGGER_SCORE_NULLS: Record<'samples' | 'mined' | 'probes', GumbelNull> = {
  samples: {
    location: 2.129,
    scale: 0.576,
    classes: 10,
    models: 160,
    source:
      'zoo v1 clean reference models (80 MLP + 80 CNN, MNIST 14x14), 128 held-out real digits, budget 48000, ' +
      'score v2 (per-tier z, RMS over families, dense patch sweep)',
  },
  mined: {
    location: 2.055,
    scale: 0.6,
    classes: 10,
    models: 160,
    source:
      'zoo v1 clean reference models (80 MLP + 80 CNN), 128 class-mined base inputs (mine-base.ts, pool 4096 ' +
      'from the check budget 48000), score v2',
  },
  probes: {
    location: 2.673,
    scale: 0.793,
    classes: 10,
    models: 160,
    source:
      'zoo v1 clean reference models (80 MLP + 80 CNN), 128 default mixed probes, budget 48000, score v2',
  },
};

/**
 * The nulls of the token family (text models, token-probe.ts), per kind of base text: fitted by
 * `npm run bench:text -- --fit-null` on the clean models of the text zoo's dev split only (bench/text; never on
 * the reference or test models the bench reports), with the same inflation and margin as above. The class
 * count shift applies as for images.
 */
export const TOKEN_TRIGGER_SCORE_NULLS: Record<'samples' | 'mined' | 'probes', GumbelNull> = {
  // Fitted on 10 embedding-bag + 10 1-D CNN dev clean models; fitted on one architecture, the other's dev
  // clean models called high: 0% and 0% (samples), 0% and 10% (mined) (bench/results/text.md).
  samples: {
    location: 1.142,
    scale: 0.391,
    classes: 6,
    models: 20,
    source:
      'text zoo dev split clean models (bag, cnn; 20 models), man-page paragraphs by product, 6 classes, basis samples',
  },
  mined: {
    location: 1.269,
    scale: 0.559,
    classes: 6,
    models: 20,
    source:
      'text zoo dev split clean models (bag, cnn; 20 models), man-page paragraphs by product, 6 classes, basis mined',
  },
  // The plain probe set (a budget too small to mine): not fitted, kept well above the mined null.
  probes: {
    location: 2.5,
    scale: 0.6,
    classes: 6,
    models: 0,
    source: 'provisional (not yet fitted)',
  },
};

/** The default null: real sample inputs. */
export const TRIGGER_SCORE_NULL: GumbelNull = TRIGGER_SCORE_NULLS.samples;

/** Method-of-moments Gumbel fit: scale = sd * sqrt(6) / pi, location = mean - gamma * scale. */
export function fitGumbel(scores: readonly number[]): { location: number; scale: number } {
  const n = scores.length;
  if (n < 2) throw new Error(`fitGumbel: need at least 2 scores, got ${n}`);
  const mean = scores.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const scale = Math.max(1e-6, (sd * Math.sqrt(6)) / Math.PI);
  return { location: mean - EULER_GAMMA * scale, scale };
}

/** A shipped null from a fit: inflated scale, raised location. */
export function conservativeNull(
  fit: { location: number; scale: number },
  classes: number,
  models: number,
  source: string,
): GumbelNull {
  return {
    location: fit.location + NULL_LOCATION_MARGIN,
    scale: fit.scale * NULL_SCALE_INFLATION,
    classes,
    models,
    source,
  };
}

/**
 * P(score >= s) for a clean model with `classes` classes under the Gumbel null. Monotone decreasing in s;
 * a non-finite score gives p = 1 (no evidence).
 */
export function triggerPValue(
  score: number,
  classes: number,
  nullModel: GumbelNull = TRIGGER_SCORE_NULL,
): number {
  if (!Number.isFinite(score)) return 1;
  if (!Number.isInteger(classes) || classes < 2) throw new Error(`triggerPValue: bad class count ${classes}`);
  const location = nullModel.location + nullModel.scale * Math.log(classes / nullModel.classes);
  const z = (score - location) / nullModel.scale;
  // 1 - exp(-e^{-z}), computed with expm1 so tiny p-values keep their precision.
  return Math.min(1, Math.max(0, -Math.expm1(-Math.exp(-z))));
}
