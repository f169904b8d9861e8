/**
 * The reference-free verdicts of bench:refree, computed from the collected rows with the product's own
 * functions, and their metrics per domain, base and verdict: how many clean models are called high (the
 * false-alarm rate a user without a baseline meets), how many backdoored ones, AUROC, and whether the
 * suspected target is right.
 *
 * Held out: every constant the verdicts use is in src/ and fixed before a domain is scored. The only
 * domains they were chosen on are TUNING_DOMAINS (the report labels their figures "tuned"); every other
 * domain is held out for every verdict.
 */
import { auroc } from '../../src/score/metrics.js';
import { P_HIGH } from '../../src/score/risk.js';
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

/** Domains the shipped constants were chosen on: their figures are tuned, every other one held out. */
export const TUNING_DOMAINS = ['mnist14-tfjs'];

export interface Verdict {
  p: number;
  /** The named class, or null (no class, or several: `multi`). */
  target: number | null;
  multi?: boolean;
}

type VerdictFn = (r: ProbeRow) => Verdict | null;

function anomalyOf(r: ProbeRow, opts: Partial<ClassAnomalyOptions> = {}): ClassAnomaly {
  return classAnomaly(
    { classes: r.classes, cells: r.cells as Partial<Record<TriggerKind, never[]>> },
    { ...DEFAULT_ANOMALY_OPTIONS, ...opts },
  );
}

function anomaly(opts: Partial<ClassAnomalyOptions> = {}): VerdictFn {
  return (r) => {
    if (!r.old) return null;
    const a = anomalyOf(r, opts);
    return { p: a.pValue, target: a.targetClass };
  };
}

function staticCheck(r: ProbeRow): Verdict | null {
  const s = r.rowFeatures ? finalLayerAnomaly(r.rowFeatures, r.classes) : null;
  return s ? { p: s.pValue, target: s.targetClass } : null;
}

/** The shipped no-baseline verdict (src/score/no-baseline.ts) from the row's two checks. */
function shipped(r: ProbeRow): Verdict | null {
  const ran: { check: NoBaselineCheck; pValue: number; targetClass?: number }[] = [];
  if (r.old && r.classes >= 3) {
    const a = anomalyOf(r);
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
  return { p: v.pValue, target: v.targetClass ?? null };
}

/** The verdicts compared: `shipped` is what a scan without a baseline reports, the rest its parts and variants. */
export const VERDICTS: Record<string, { note: string; fn: VerdictFn }> = {
  shipped: {
    note:
      'the no-baseline verdict as shipped: trigger anomaly and final-layer check, weighted Bonferroni ' +
      '(src/score/no-baseline.ts)',
    fn: shipped,
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
    note: 'trigger probing alone: class anomaly (typical-corrected gain, max-z null, Cauchy over tests)',
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
  'anomaly-raw': { note: 'the same without the typical correction', fn: anomaly({ typical: false }) },
  static: { note: 'final-layer weight rows alone, no forward pass', fn: staticCheck },
};

export interface Cell {
  domain: string;
  base: string;
  verdict: string;
  tuned: boolean;
  clean: number;
  backdoored: number;
  cleanHigh: number;
  backdoorHigh: number;
  auroc: number | null;
  /** Single-target backdoors called high whose suspected target is right, of those called high. */
  targetRight: number | null;
  targetRightAll: number | null;
  byAttack: Record<string, { n: number; high: number; auroc: number | null; targetRight: number | null }>;
}

const score = (p: number): number => -Math.log10(Math.max(p, 1e-300));

function aurocOf(neg: number[], pos: number[]): number | null {
  if (!neg.length || !pos.length) return null;
  return auroc([...neg.map(() => 0), ...pos.map(() => 1)], [...neg, ...pos]);
}

export function evaluate(rows: ProbeRow[]): { cells: Cell[]; verdicts: Record<string, string> } {
  const cells: Cell[] = [];
  const groups = new Map<string, ProbeRow[]>();
  for (const r of rows) {
    const key = `${r.model.domain}\0${r.base}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [key, group] of [...groups].sort()) {
    const [domain, base] = key.split('\0');
    for (const [name, v] of Object.entries(VERDICTS)) {
      const scored = group
        .map((r) => ({ r, v: v.fn(r) }))
        .filter((x): x is { r: ProbeRow; v: Verdict } => x.v !== null);
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
      cells.push({
        domain,
        base,
        verdict: name,
        tuned: TUNING_DOMAINS.includes(domain),
        clean: clean.length,
        backdoored: bd.length,
        cleanHigh: clean.filter(high).length,
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
  return { cells, verdicts: Object.fromEntries(Object.entries(VERDICTS).map(([k, v]) => [k, v.note])) };
}
