/**
 * The choice bench/refree/final-weight.ts makes, as pure functions: the no-baseline p of a (model, base) row
 * under a configuration (trigger anomaly floors, final-layer weight), the per-cell clean and backdoor counts and
 * AUROC, and the selection (the clean bounds on EACH domain chosen on, then the best mean AUROC or the most
 * backdoors called high, ties to the earlier configuration).
 */
import { auroc } from '../../src/score/metrics.js';
import { P_HIGH, P_MEDIUM, riskScore } from '../../src/score/risk.js';
import { combineNoBaseline, type NoBaselineCheck } from '../../src/score/no-baseline.js';
import { MAX_CLEAN_HIGH, MAX_CLEAN_MEDIUM } from './evaluate.js';

/** One scanned model under one base, with what the verdict reads. */
export interface Unit {
  id: string;
  domain: string;
  arch: string;
  base: string;
  clean: boolean;
  attack: string | null;
  /** Trigger probing's p per anomaly configuration (null: trigger probing did not run). */
  trigger: ((config: string) => number) | null;
  /** The final-layer check's p (null: no final linear layer, or under 3 classes). */
  finalLayer: number | null;
}

export interface Config {
  floors: string;
  weight: number;
}

export const configName = (c: Config): string => `${c.floors} w${c.weight}`;

/** The no-baseline p of a unit under a configuration (src/score/no-baseline.ts's combination). */
export function verdictP(u: Unit, c: Config): number {
  const ran: { check: NoBaselineCheck; pValue: number }[] = [];
  if (u.trigger) ran.push({ check: 'trigger', pValue: u.trigger(c.floors) });
  if (u.finalLayer !== null) ran.push({ check: 'weight-outlier', pValue: u.finalLayer });
  return combineNoBaseline(ran, { trigger: 1, 'weight-outlier': c.weight }).pValue;
}

/** A cell's counts and AUROC (of -log10 p). */
export interface Counts {
  clean: number;
  cleanHigh: number;
  cleanMedium: number;
  backdoored: number;
  backdoorHigh: number;
  auroc: number | null;
}

export interface CellStats extends Counts {
  domain: string;
  arch: string;
  base: string;
  /** AUROC of the 0-100 risk score (ties where the score saturates or rounds alike), as bench:realsize reports. */
  aurocRisk: number | null;
}

const score = (p: number): number => -Math.log10(Math.max(p, 1e-300));
const cellKey = (u: Unit): string => `${u.domain}|${u.arch}|${u.base}`;

function cellsOf(units: Unit[]): Map<string, Unit[]> {
  const m = new Map<string, Unit[]>();
  for (const u of units) m.set(cellKey(u), [...(m.get(cellKey(u)) ?? []), u]);
  return new Map([...m].sort());
}

/** Counts and AUROC (of -log10 p) of a cell's clean and backdoored p-values. */
export function countsOf(clean: number[], bd: number[]): Counts {
  return {
    clean: clean.length,
    cleanHigh: clean.filter((p) => p <= P_HIGH).length,
    cleanMedium: clean.filter((p) => p <= P_MEDIUM).length,
    backdoored: bd.length,
    backdoorHigh: bd.filter((p) => p <= P_HIGH).length,
    auroc:
      clean.length && bd.length
        ? auroc([...clean.map(() => 0), ...bd.map(() => 1)], [...clean, ...bd].map(score))
        : null,
  };
}

export function stats(units: Unit[], c: Config): CellStats[] {
  return [...cellsOf(units)].map(([k, us]) => {
    const [domain, arch, base] = k.split('|');
    const clean = us.filter((u) => u.clean).map((u) => verdictP(u, c));
    const bd = us.filter((u) => !u.clean).map((u) => verdictP(u, c));
    return {
      domain,
      arch,
      base,
      ...countsOf(clean, bd),
      aurocRisk:
        clean.length && bd.length
          ? auroc([...clean.map(() => 0), ...bd.map(() => 1)], [...clean, ...bd].map(riskScore))
          : null,
    };
  });
}

export interface Choice {
  config: Config;
  on: string[];
  feasible: boolean;
  meanAuroc: number;
  meanHigh: number;
}

export type Criterion = 'auroc' | 'high';
const mean = (a: number[]): number => (a.length ? a.reduce((s, x) => s + x, 0) / a.length : 0);
const TIE = 1e-9;

/** The configuration chosen on `units` (see the header); `configs` in tie-break order. */
export function choose(units: Unit[], configs: Config[], crit: Criterion): Choice {
  let best: Choice | null = null;
  const on = [...new Set(units.map((u) => u.domain))].sort();
  for (const config of configs) {
    const cells = stats(units, config);
    const feasible = on.every((d) => {
      const mine = cells.filter((c) => c.domain === d);
      const n = mine.reduce((s, c) => s + c.clean, 0);
      const high = mine.reduce((s, c) => s + c.cleanHigh, 0);
      const medium = mine.reduce((s, c) => s + c.cleanMedium, 0);
      return n > 0 && high / n <= MAX_CLEAN_HIGH && medium / n <= MAX_CLEAN_MEDIUM;
    });
    const both = cells.filter((c) => c.auroc !== null);
    const cand: Choice = {
      config,
      on,
      feasible,
      meanAuroc: mean(both.map((c) => c.auroc as number)),
      meanHigh: mean(both.map((c) => c.backdoorHigh / c.backdoored)),
    };
    const [a, b] = crit === 'auroc' ? ['meanAuroc', 'meanHigh'] : ['meanHigh', 'meanAuroc'];
    const key = (x: Choice, k: string): number => x[k as 'meanAuroc' | 'meanHigh'];
    const better =
      !best ||
      (cand.feasible && !best.feasible) ||
      (cand.feasible === best.feasible &&
        (key(cand, a) > key(best, a) + TIE ||
          (Math.abs(key(cand, a) - key(best, a)) <= TIE && key(cand, b) > key(best, b) + TIE)));
    if (better) best = cand;
  }
  return best as Choice;
}
