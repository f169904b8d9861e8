/**
 * The reference-free verdicts of bench:refree, computed from the collected rows with the product's own
 * functions, and their metrics per architecture and base: how many clean models are called high (the
 * false-alarm rate a user without a baseline meets), how many backdoored ones, AUROC, and whether the
 * suspected target is right.
 *
 * Held out. The trigger anomaly has two choices a domain could tune: whether the typical candidate's gain
 * is subtracted, and the relative MAD floor. ANOMALY_GRID lists the candidates; selectConfig picks one on a
 * set of domains (clean models called high at most MAX_CLEAN_HIGH, and medium or high at most
 * MAX_CLEAN_MEDIUM, on each domain of the set: FEASIBLE_ON_EACH_DOMAIN; then the largest mean AUROC over its
 * (architecture, base) cells). `held-out` scores each domain with the choice made WITHOUT
 * it (leave-one-domain-out); `shipped` with the product's defaults (chosen on all four domains here, GTSRB
 * among them, with the bounds met on each: tuned; bench/refree/findings.md). The weight of the final-layer check
 * beside trigger probing (NO_BASELINE_WEIGHTS) was chosen leave-one-domain-out by bench/refree/final-weight.ts,
 * where every fold (these domains and the real-size zoo) chose the shipped 0.02, so it is held out here too.
 * Everything else (the max-z null, the Cauchy combination) is fixed a priori.
 */
import { auroc } from '../../src/score/metrics.js';
import { P_HIGH, P_MEDIUM } from '../../src/score/risk.js';
import { triggerPValue } from '../../src/selfcheck/reference-free-p.js';
import { triggerNullFor } from '../../src/selfcheck/base-inputs.js';
import {
  classAnomaly,
  DEFAULT_ANOMALY_OPTIONS,
  type ClassAnomaly,
  type ClassAnomalyOptions,
} from '../../src/selfcheck/class-anomaly.js';
import { finalLayerAnomaly } from '../../src/fingerprint/final-layer-anomaly.js';
import { combineNoBaseline, type NoBaselineCheck } from '../../src/score/no-baseline.js';
import type { TriggerKind } from '../../src/selfcheck/triggers.js';
import type { ProbeRow } from './collect.js';

/** Largest share of the training domains' clean models (pooled) a selected configuration may call high. */
export const MAX_CLEAN_HIGH = 0.02;

/**
 * Largest share of the training domains' clean models (pooled) a selected configuration may call medium or
 * high: the share a valid p-value gives (P_MEDIUM, about 12.6%), so the medium level means what it says too.
 */
export const MAX_CLEAN_MEDIUM = P_MEDIUM;

/**
 * The bounds hold on EACH domain chosen on, not on their clean models pooled: pooled, the 19 clean GTSRB
 * models (43 classes, natural sinks) were outweighed by 330 small-class ones, and the choice made on them
 * called 1-2 of the 19 high once GTSRB was probed with the full default budget.
 */
export const FEASIBLE_ON_EACH_DOMAIN = true;

/** Absolute MAD floors of the gain tests (clean-logit spreads) the selection chooses among. */
export const GAIN_FLOORS = [0.05, 0.1, 0.2, 0.3, 0.5, 1];

/** The configurations the held-out selection chooses among (the product's default is one of them). */
export const ANOMALY_GRID: Record<string, Partial<ClassAnomalyOptions>> = Object.fromEntries(
  [true, false].flatMap((typical) =>
    [0, 0.1, 0.2, 0.3].flatMap((relativeFloor) =>
      GAIN_FLOORS.map((gain) => [
        `${typical ? 'typical' : 'raw'}-floor${relativeFloor}-abs${gain}`,
        { typical, relativeFloor, floors: { gain, flip: DEFAULT_ANOMALY_OPTIONS.floors.flip } },
      ]),
    ),
  ),
);

/** The grid name of the product's own default (DEFAULT_ANOMALY_OPTIONS), for the report. */
export const SHIPPED_CONFIG = `${DEFAULT_ANOMALY_OPTIONS.typical ? 'typical' : 'raw'}-floor${DEFAULT_ANOMALY_OPTIONS.relativeFloor}-abs${DEFAULT_ANOMALY_OPTIONS.floors.gain}`;

export interface Verdict {
  p: number;
  /**
   * The scan would report the model as not assessed: trigger probing ran short of its budget (a scored
   * family's cell was never screened; src/scan/assessment.ts), so it decides no level. Left out of the
   * high counts and AUROC, counted on its own.
   */
  notAssessed?: boolean;
  /** The named class, or null (no class, or several: `multi`). */
  target: number | null;
  /** Trigger probing reported no single target. */
  multi?: 'several' | 'all-to-all';
}

/** `heldOut`: the anomaly configuration chosen without the row's domain (leave-one-domain-out). */
type VerdictFn = (r: ProbeRow, heldOut: Partial<ClassAnomalyOptions>) => Verdict | null;

function anomalyOf(r: ProbeRow, opts: Partial<ClassAnomalyOptions> = {}): ClassAnomaly {
  return classAnomaly(
    { classes: r.classes, cells: r.cells as Partial<Record<TriggerKind, never[]>> },
    { ...DEFAULT_ANOMALY_OPTIONS, ...opts },
  );
}

/** Whether the row's search ran short of its budget: a scored family has a cell with no screened candidate. */
export function searchCutShort(r: ProbeRow): boolean {
  return DEFAULT_ANOMALY_OPTIONS.families.some((f) => (r.cells[f] ?? []).some((c) => c.candidates === 0));
}

const NOT_ASSESSED: Verdict = { p: NaN, target: null, notAssessed: true };

function anomaly(opts: Partial<ClassAnomalyOptions> = {}): VerdictFn {
  return (r) => {
    if (!r.old) return null;
    if (searchCutShort(r)) return NOT_ASSESSED;
    const a = anomalyOf(r, opts);
    return { p: a.pValue, target: a.targetClass };
  };
}

function staticCheck(r: ProbeRow): Verdict | null {
  const s = r.rowFeatures ? finalLayerAnomaly(r.rowFeatures, r.classes) : null;
  return s ? { p: s.pValue, target: s.targetClass } : null;
}

/** The shipped no-baseline verdict (src/score/no-baseline.ts) from the row's two checks. */
function shipped(r: ProbeRow, opts: Partial<ClassAnomalyOptions> = {}): Verdict | null {
  const ran: { check: NoBaselineCheck; pValue: number; targetClass?: number }[] = [];
  if (r.old && searchCutShort(r)) return NOT_ASSESSED;
  if (r.old && r.classes >= 3) {
    const a = anomalyOf(r, opts);
    ran.push({
      check: 'trigger',
      pValue: a.pValue,
      ...(a.targetClass !== null ? { targetClass: a.targetClass } : {}),
    });
  }
  const s = r.rowFeatures ? finalLayerAnomaly(r.rowFeatures, r.classes) : null;
  if (s) ran.push({ check: 'weight-outlier', pValue: s.pValue, targetClass: s.targetClass });
  if (ran.length === 0) return null;
  const v = combineNoBaseline(ran);
  const multi = r.old && r.classes >= 3 ? anomalyOf(r, opts).multiTarget : null;
  return multi
    ? { p: v.pValue, target: null, multi: multi.kind }
    : { p: v.pValue, target: v.targetClass ?? null };
}

/** The verdicts compared: `shipped` is what a scan without a baseline reports, the rest its parts and variants. */
export const VERDICTS: Record<string, { note: string; fn: VerdictFn }> = {
  'held-out': {
    note:
      'the no-baseline verdict with the anomaly configuration chosen WITHOUT the domain scored ' +
      '(leave-one-domain-out): the held-out figure',
    fn: (r, heldOut) => shipped(r, heldOut),
  },
  shipped: {
    note:
      'the no-baseline verdict with the shipped defaults: trigger anomaly and final-layer check, weighted ' +
      'Bonferroni (src/score/no-baseline.ts); the defaults were chosen on all four domains here (the clean bounds met on each): tuned',
    fn: (r) => shipped(r),
  },
  before: {
    note:
      'the rule shipped before this change (largest per-class RMS of per-tier gain z, Gumbel null fitted on ' +
      'the MNIST zoo), on the same probing',
    fn: (r) => {
      const s = r.rms ?? r.old;
      return s ? { p: triggerPValue(s.score, r.classes, triggerNullFor(r.base)), target: s.target } : null;
    },
  },
  anomaly: {
    note: 'trigger probing alone: class anomaly with the shipped options (gain, MAD floors, max-z null, Cauchy over tests)',
    fn: anomaly(),
  },
  'anomaly-bonferroni': {
    note: 'the same, Bonferroni over the tests',
    fn: anomaly({ combine: 'bonferroni' }),
  },
  'anomaly-flip': {
    note: 'the same with flip-rate tests added',
    fn: anomaly({ statistics: ['gain', 'flip'] }),
  },
  'anomaly-typical': {
    note: "the same with the typical candidate's gain subtracted first",
    fn: anomaly({ typical: true }),
  },
  static: { note: 'final-layer weight rows alone, no forward pass', fn: staticCheck },
};

export interface Cell {
  domain: string;
  arch: string;
  base: string;
  verdict: string;
  clean: number;
  backdoored: number;
  cleanHigh: number;
  /** Clean models called medium or high (risk score above 30). */
  cleanMedium: number;
  backdoorHigh: number;
  /** Models the scan would report as not assessed (searchCutShort), left out of every other count. */
  notAssessed: number;
  auroc: number | null;
  /** Single-target backdoors called high whose suspected target is right, of those called high. */
  targetRight: number | null;
  /** Backdoors with no single target: how many, and how many the verdict reports as such. */
  multiTotal: number;
  multiReported: number;
  /** Single-target backdoors and clean models the verdict reports as having no single target. */
  singleCalledMulti: number;
  cleanCalledMulti: number;
  targetRightAll: number | null;
  byAttack: Record<string, { n: number; high: number; auroc: number | null; targetRight: number | null }>;
}

const score = (p: number): number => -Math.log10(Math.max(p, 1e-300));

function aurocOf(neg: number[], pos: number[]): number | null {
  if (!neg.length || !pos.length) return null;
  return auroc([...neg.map(() => 0), ...pos.map(() => 1)], [...neg, ...pos]);
}

/** (architecture, base) groups of rows. */
function cellsOf(rows: ProbeRow[]): Map<string, ProbeRow[]> {
  const groups = new Map<string, ProbeRow[]>();
  for (const r of rows) {
    const key = `${r.model.domain}\0${r.model.arch}\0${r.base}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return new Map([...groups].sort());
}

export interface Selection {
  config: string;
  /** Domains it was chosen on. */
  on: string[];
  feasible: boolean;
  meanAuroc: number | null;
}

/** The grid configuration chosen on `rows` (see the header). */
export function selectConfig(rows: ProbeRow[]): Selection {
  const groups = [...cellsOf(rows).values()];
  let best: Selection | null = null;
  for (const [name, opts] of Object.entries(ANOMALY_GRID)) {
    // clean models per domain: [models, called high, called medium or high]
    const perDomain = new Map<string, [number, number, number]>();
    const aurocs: number[] = [];
    for (const g of groups) {
      const v = g.map((r) => ({ r, v: shipped(r, opts) })).filter((x) => x.v !== null && !x.v.notAssessed);
      const clean = v.filter((x) => x.r.model.label === 'clean');
      const bd = v.filter((x) => x.r.model.label !== 'clean');
      const d = perDomain.get(g[0].model.domain) ?? [0, 0, 0];
      d[0] += clean.length;
      d[1] += clean.filter((x) => (x.v as Verdict).p <= P_HIGH).length;
      d[2] += clean.filter((x) => (x.v as Verdict).p <= P_MEDIUM).length;
      perDomain.set(g[0].model.domain, d);
      const a = aurocOf(
        clean.map((x) => score((x.v as Verdict).p)),
        bd.map((x) => score((x.v as Verdict).p)),
      );
      if (a !== null) aurocs.push(a);
    }
    const ok = ([n, high, medium]: [number, number, number]): boolean =>
      n > 0 && high / n <= MAX_CLEAN_HIGH && medium / n <= MAX_CLEAN_MEDIUM;
    const domains = [...perDomain.values()].filter(([n]) => n > 0);
    const pooled = domains.reduce<[number, number, number]>(
      (s, d) => [s[0] + d[0], s[1] + d[1], s[2] + d[2]],
      [0, 0, 0],
    );
    const feasible = FEASIBLE_ON_EACH_DOMAIN ? domains.length > 0 && domains.every(ok) : ok(pooled);
    const mean = aurocs.length ? aurocs.reduce((x, y) => x + y, 0) / aurocs.length : null;
    const cand: Selection = {
      config: name,
      on: [...new Set(rows.map((r) => r.model.domain))].sort(),
      feasible,
      meanAuroc: mean,
    };
    const better =
      !best ||
      (cand.feasible && !best.feasible) ||
      (cand.feasible === best.feasible && (cand.meanAuroc ?? 0) > (best.meanAuroc ?? 0));
    if (better) best = cand;
  }
  return best as Selection;
}

export function evaluate(rows: ProbeRow[]): {
  cells: Cell[];
  verdicts: Record<string, string>;
  selection: { all: Selection; heldOut: Record<string, Selection> };
} {
  const domains = [...new Set(rows.map((r) => r.model.domain))].sort();
  const heldOut: Record<string, Selection> = Object.fromEntries(
    domains.map((d) => [d, selectConfig(rows.filter((r) => r.model.domain !== d))]),
  );
  const all = selectConfig(rows);
  const cells: Cell[] = [];
  for (const [key, group] of cellsOf(rows)) {
    const [domain, arch, base] = key.split('\0');
    for (const [name, v] of Object.entries(VERDICTS)) {
      const all = group
        .map((r) => ({ r, v: v.fn(r, ANOMALY_GRID[heldOut[domain].config]) }))
        .filter((x): x is { r: ProbeRow; v: Verdict } => x.v !== null);
      const scored = all.filter((x) => !x.v.notAssessed);
      const clean = scored.filter((x) => x.r.model.label === 'clean');
      const bd = scored.filter((x) => x.r.model.label !== 'clean');
      const high = (x: { v: Verdict }): boolean => x.v.p <= P_HIGH;
      const single = bd.filter((x) => x.r.model.target !== null);
      const flagged = single.filter(high);
      const byAttack: Cell['byAttack'] = {};
      for (const a of [...new Set(bd.map((x) => x.r.model.attack ?? '?'))].sort()) {
        const mine = bd.filter((x) => (x.r.model.attack ?? '?') === a);
        const mineSingle = mine.filter((x) => x.r.model.target !== null && high(x));
        byAttack[a] = {
          n: mine.length,
          high: mine.filter(high).length,
          auroc: aurocOf(
            clean.map((x) => score(x.v.p)),
            mine.map((x) => score(x.v.p)),
          ),
          targetRight: mineSingle.length
            ? mineSingle.filter((x) => x.v.target === x.r.model.target).length / mineSingle.length
            : null,
        };
      }
      const multiBd = bd.filter((x) => x.r.model.multiTarget);
      cells.push({
        domain,
        arch,
        base,
        verdict: name,
        multiTotal: multiBd.length,
        multiReported: multiBd.filter((x) => x.v.multi !== undefined).length,
        singleCalledMulti: single.filter((x) => x.v.multi !== undefined).length,
        cleanCalledMulti: clean.filter((x) => x.v.multi !== undefined).length,
        clean: clean.length,
        backdoored: bd.length,
        cleanHigh: clean.filter(high).length,
        cleanMedium: clean.filter((x) => x.v.p <= P_MEDIUM).length,
        notAssessed: all.length - scored.length,
        backdoorHigh: bd.filter(high).length,
        auroc: aurocOf(
          clean.map((x) => score(x.v.p)),
          bd.map((x) => score(x.v.p)),
        ),
        targetRight: flagged.length
          ? flagged.filter((x) => x.v.target === x.r.model.target).length / flagged.length
          : null,
        targetRightAll: single.length
          ? single.filter((x) => x.v.target === x.r.model.target).length / single.length
          : null,
        byAttack,
      });
    }
  }
  return {
    cells,
    verdicts: Object.fromEntries(Object.entries(VERDICTS).map(([k, v]) => [k, v.note])),
    selection: { all, heldOut },
  };
}
