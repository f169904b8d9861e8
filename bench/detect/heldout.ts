/**
 * Held-out figures for bench:detect (issue #20, item 3): leave-one-family-out selection of the ensemble.
 *
 * The shipped default was picked as the best-ranked candidate on the whole MNIST zoo, every attack family
 * in sight: its per-family AUROC is a TUNED figure. Here, for each family f, the candidate is picked again
 * with the same ranking rule (bench/detect/report.ts rankCandidates: mean over architectures of (AUROC with
 * all references + mean AUROC with 20) / 2) computed WITHOUT f's models, and f is scored with the candidate
 * so picked: a HELD-OUT figure. Nothing is re-fitted: the AUROC over clean vs several families' backdoored
 * models is the model-count-weighted mean of the per-family AUROCs (every family is compared with the same
 * clean test models), so the ranking without f follows exactly from the per-family AUROCs in detect.json.
 *
 * What this does not hold out: the fingerprint blocks, detectors and the trigger menu (patch, blend,
 * sparse pixels, warp) were designed with every zoo family in view; only the ensemble choice is redone.
 * The families the menu does not enumerate, and other data, are bench:families' held-out sets.
 */
import { markdownTable } from '../lib/report.js';
import type { ArchResult, DetectResults } from './report.js';

export interface HeldOutFamily {
  family: string;
  /** The candidate the ranking picks without this family. */
  picked: string;
  /** Per architecture: AUROC on this family of the shipped default (picked with it: tuned). */
  tuned: Record<string, number | null>;
  /** Per architecture: AUROC on this family of the candidate picked without it (held out). */
  heldOut: Record<string, number | null>;
  /** The same with 20 references (mean over the seeded draws), tuned and held out. */
  tunedSub: Record<string, number | null>;
  heldOutSub: Record<string, number | null>;
}

type Metrics = ArchResult['configs'][string]['candidates'][string]['all'];

/** Model counts per family among an architecture's backdoored test models. */
function familyCounts(a: ArchResult): Record<string, number> {
  const n: Record<string, number> = {};
  for (const t of a.tests) if (t.label === 'backdoor' && t.attack) n[t.attack] = (n[t.attack] ?? 0) + 1;
  return n;
}

/** AUROC over all backdoored models but those of `without`: the count-weighted mean of per-family AUROCs. */
export function aurocWithout(m: Metrics, counts: Record<string, number>, without: string): number {
  let s = 0;
  let w = 0;
  for (const [f, auc] of Object.entries(m.perAttack)) {
    if (f === without || !Number.isFinite(auc)) continue;
    s += (counts[f] ?? 0) * auc;
    w += counts[f] ?? 0;
  }
  return w ? s / w : NaN;
}

function finiteOrNull(x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null;
}

/** Leave-one-family-out for probe configuration `config`; `shipped` names the shipped default candidate. */
export function leaveOneFamilyOut(r: DetectResults, config: string, shipped: string): HeldOutFamily[] {
  const archs = Object.entries(r.archs).filter(([, a]) => a.configs[config]);
  if (!archs.length) return [];
  const names = Object.keys(archs[0][1].configs[config].candidates).filter((n) =>
    archs.every(([, a]) => a.configs[config].candidates[n]),
  );
  const families = [...new Set(archs.flatMap(([, a]) => Object.keys(familyCounts(a))))].sort();
  return families.map((family) => {
    let picked = shipped;
    let best = -Infinity;
    for (const name of names) {
      const score =
        archs.reduce((s, [, a]) => {
          const c = a.configs[config].candidates[name];
          const counts = familyCounts(a);
          const all = aurocWithout(c.all, counts, family);
          const sub = c.sub ? aurocWithout(c.sub, counts, family) : all;
          return s + (all + sub) / 2;
        }, 0) / archs.length;
      // ties keep the name order of rankCandidates (alphabetical), the shipped default winning exact ties
      if (score > best + 1e-12 || (Math.abs(score - best) <= 1e-12 && name === shipped)) {
        best = score;
        picked = name;
      }
    }
    const per = (name: string, sub: boolean) =>
      Object.fromEntries(
        archs.map(([arch, a]) => {
          const c = a.configs[config].candidates[name];
          return [arch, finiteOrNull(sub ? c?.sub?.perAttack[family] : c?.all.perAttack[family])];
        }),
      );
    return {
      family,
      picked,
      tuned: per(shipped, false),
      heldOut: per(picked, false),
      tunedSub: per(shipped, true),
      heldOutSub: per(picked, true),
    };
  });
}

function cell(x: number | null): string {
  return x === null ? '-' : x.toFixed(3);
}

/** The held-out section of detect.md: per family and architecture, tuned vs held out. */
export function heldOutSection(r: DetectResults, config: string, shipped: string): string {
  const rows = leaveOneFamilyOut(r, config, shipped);
  if (!rows.length) return '';
  const archs = Object.keys(rows[0].tuned);
  const changed = rows.filter((x) => x.picked !== shipped).length;
  return [
    `## HELD OUT: leave-one-family-out (probes: ${config})\n`,
    'Every other table in this file is **TUNED**: the shipped default was picked on this zoo with every ' +
      'family in sight. Here each family is scored by the ensemble the same ranking picks when that family is ' +
      'left out (bench/detect/heldout.ts); only the ensemble choice is redone, the fingerprint, detectors and ' +
      'trigger menu were designed with every family in view. Families, architectures and data the tool never ' +
      'saw are in [families.md](families.md) (bench:families), where the shipped defaults are held out. ' +
      `Without its family the ranking picks another ensemble for ${changed} of ${rows.length} families.\n`,
    markdownTable(
      [
        'family left out',
        'ensemble picked without it',
        ...archs.flatMap((a) => [`${a} tuned (all refs / 20)`, `${a} held out (all refs / 20)`]),
      ],
      rows.map((x) => [
        x.family,
        x.picked === shipped ? 'the shipped default' : x.picked,
        ...archs.flatMap((a) => [
          `${cell(x.tuned[a])} / ${cell(x.tunedSub[a])}`,
          `${cell(x.heldOut[a])} / ${cell(x.heldOutSub[a])}`,
        ]),
      ]),
    ),
    '',
  ].join('\n');
}
