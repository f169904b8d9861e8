/**
 * `npx tsx bench/refree/combiners.ts --cache KEY`: other ways to turn the no-baseline trigger evidence into
 * one p-value, held out (issue #20: backdoored called high >= 85% with clean called high <= 2%). Reads the
 * rows bench/refree.ts collected (bench/.cache/refree/KEY; nothing is probed here) and writes
 * bench/results/refree-combiners.md and .json.
 *
 * Every rule starts from the same per-test evidence as the shipped verdict (src/selfcheck/class-anomaly.ts:
 * per trigger family and strength tier, each class's best-trigger margin gain as a robust z against the
 * other classes, MAD floored) and differs in how the tests and classes become one p:
 *   cauchy        the shipped rule: Cauchy combination of the tests' max-z p-values
 *   bonferroni    the smallest test p times the tests that ran
 *   hmp           the harmonic mean of the tests' p-values (unadjusted; tests with p near 1 weigh little)
 *   family-min    per family the smallest tier p times its tiers, Cauchy over the families
 *   class-hmp     per class the harmonic mean of its own max-z p over the tests, the smallest over classes
 *   class-cauchy  the same with the Cauchy combination (each p capped at 0.999: a class below the median in
 *                 one test would otherwise send its combination to 1)
 *   class-mean-z  per class the mean of its z over the tests, the largest against the max-z null
 *   family-mean-z per family the largest class-mean z (max-z null), Cauchy over the families
 *   restd+tests   per family the class means re-standardised over the classes (robust z, MAD floor 0.5),
 *                 their max-z p-values Cauchy-combined with the tests' own
 * each with the absolute and relative MAD floors of FLOORS. The choice among them is made leave-one-domain-
 * out, as bench/refree.ts does (clean called high <= 2% and medium or high <= 12.6% over the other
 * domains), then by one of two criteria: the largest mean AUROC (bench/refree.ts's) or the largest mean
 * share of backdoors called high (the issue's target). Also reported: what an oracle calibration could
 * reach (backdoors above the clean models' own 98% quantile, per architecture: tuned on the scored models,
 * an upper bound for any recalibration of the same statistic), and how often the same class leads all
 * three families on clean models (which decides whether agreement across families is evidence).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { argValue } from '../speed/common.js';
import { combinePValues } from '../../src/score/combine.js';
import { P_HIGH } from '../../src/score/risk.js';
import { maxZPValue, robustZs } from '../../src/selfcheck/max-z-null.js';
import { cellZs, DEFAULT_ANOMALY_OPTIONS, type CellLike } from '../../src/selfcheck/class-anomaly.js';
import { MAX_CLEAN_HIGH, MAX_CLEAN_MEDIUM, searchCutShort } from './evaluate.js';
import type { ProbeRow } from './collect.js';
import { loadCollections } from './rows.js';
import { countsOf, type Counts } from './weight-choice.js';

/** Absolute and relative MAD floors each rule is tried with (the shipped pair is 0.3 / 0.2). */
const FLOORS = [0.05, 0.1, 0.2, 0.3, 0.5].flatMap((abs) => [0, 0.1, 0.2, 0.3].map((rel) => ({ abs, rel })));
const FAMILIES = DEFAULT_ANOMALY_OPTIONS.families;
/** MAD floor of the re-standardised class means (in z units): class means of clean models can agree closely. */
const RESTD_FLOOR = 0.5;

interface Test {
  family: string;
  z: Float64Array;
}
type Rule = (tests: Test[], k: number) => number;

const mean = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
const cauchy = (ps: number[]): number => Math.min(1, Math.exp(-combinePValues(ps, { rule: 'cauchy' })));
const hmp = (ps: number[]): number =>
  Math.min(1, ps.length / ps.reduce((s, p) => s + 1 / Math.max(p, 1e-300), 0));
const maxOf = (z: Float64Array): number => z.reduce((a, b) => Math.max(a, b), -Infinity);
const testP = (t: Test, k: number): number => maxZPValue(maxOf(t.z), k);
const byFamily = (tests: Test[]): Test[][] =>
  FAMILIES.map((f) => tests.filter((t) => t.family === f)).filter((x) => x.length > 0);
const classMeans = (tests: Test[], k: number): Float64Array =>
  Float64Array.from({ length: k }, (_, c) => mean(tests.map((t) => t.z[c])));
const perClass = (tests: Test[], k: number, f: (ps: number[]) => number): number => {
  let best = 1;
  for (let c = 0; c < k; c++) best = Math.min(best, f(tests.map((t) => maxZPValue(t.z[c], k))));
  return best;
};

const RULES: Record<string, Rule> = {
  cauchy: (ts, k) => cauchy(ts.map((t) => testP(t, k))),
  bonferroni: (ts, k) => Math.min(1, ts.length * Math.min(...ts.map((t) => testP(t, k)))),
  hmp: (ts, k) => hmp(ts.map((t) => testP(t, k))),
  'family-min': (ts, k) =>
    cauchy(byFamily(ts).map((f) => Math.min(1, f.length * Math.min(...f.map((t) => testP(t, k)))))),
  'class-hmp': (ts, k) => perClass(ts, k, hmp),
  'class-cauchy': (ts, k) => perClass(ts, k, (ps) => cauchy(ps.map((p) => Math.min(0.999, p)))),
  'class-mean-z': (ts, k) => maxZPValue(maxOf(classMeans(ts, k)), k),
  'family-mean-z': (ts, k) => cauchy(byFamily(ts).map((f) => maxZPValue(maxOf(classMeans(f, k)), k))),
  'restd+tests': (ts, k) =>
    cauchy([
      ...byFamily(ts).map((f) => maxZPValue(maxOf(robustZs(classMeans(f, k), RESTD_FLOOR)), k)),
      ...ts.map((t) => testP(t, k)),
    ]),
};

function testsOf(r: ProbeRow, abs: number, rel: number): Test[] {
  const opts = { typical: false, floors: { gain: abs, flip: 0.05 }, relativeFloor: rel };
  return FAMILIES.flatMap((family) =>
    (r.cells[family] ?? [])
      .filter((c) => c.candidates !== 0)
      .map((c) => ({ family, z: cellZs(c as CellLike, 'gain', r.classes, opts).z })),
  );
}

const score = (p: number): number => -Math.log10(Math.max(p, 1e-300));
const cellKey = (r: ProbeRow): string => `${r.model.domain}|${r.model.arch}|${r.base}`;

type CellStats = Counts;

function cellStats(p: Float64Array, rows: ProbeRow[], idx: number[]): Map<string, CellStats> {
  const cells = new Map<string, number[]>();
  for (const i of idx) cells.set(cellKey(rows[i]), [...(cells.get(cellKey(rows[i])) ?? []), i]);
  const out = new Map<string, CellStats>();
  for (const [key, ii] of [...cells].sort()) {
    const clean = ii.filter((i) => rows[i].model.label === 'clean').map((i) => p[i]);
    const bd = ii.filter((i) => rows[i].model.label !== 'clean').map((i) => p[i]);
    out.set(key, countsOf(clean, bd));
  }
  return out;
}

interface Summary {
  config: string;
  feasible: boolean;
  meanAuroc: number;
  meanHigh: number;
  cleanHigh: number;
  cleanMedium: number;
}

function summary(config: string, cells: Map<string, CellStats>): Summary {
  const all = [...cells.values()];
  const n = all.reduce((s, c) => s + c.clean, 0);
  const high = all.reduce((s, c) => s + c.cleanHigh, 0) / n;
  const medium = all.reduce((s, c) => s + c.cleanMedium, 0) / n;
  const withBd = all.filter((c) => c.auroc !== null);
  return {
    config,
    feasible: n > 0 && high <= MAX_CLEAN_HIGH && medium <= MAX_CLEAN_MEDIUM,
    meanAuroc: mean(withBd.map((c) => c.auroc as number)),
    meanHigh: mean(withBd.map((c) => c.backdoorHigh / c.backdoored)),
    cleanHigh: high,
    cleanMedium: medium,
  };
}

type Criterion = 'auroc' | 'high';
const better = (crit: Criterion) => (a: Summary, b: Summary) =>
  crit === 'auroc'
    ? b.meanAuroc - a.meanAuroc || b.meanHigh - a.meanHigh
    : b.meanHigh - a.meanHigh || b.meanAuroc - a.meanAuroc;

function main(): void {
  // --cache KEY1,KEY2: each model's row from the first collection that has it (as bench/refree.ts)
  const key = argValue(process.argv, 'cache', '');
  const rows = loadCollections(key);
  // the scan's own gates: trigger probing ran on an image model with 3+ classes and finished its search
  const scored = rows.filter((r) => r.old && r.classes >= 3 && !searchCutShort(r));
  const configs = Object.keys(RULES).flatMap((rule) => FLOORS.map((f) => ({ rule, ...f })));
  const name = (c: { rule: string; abs: number; rel: number }): string => `${c.rule} abs${c.abs} rel${c.rel}`;
  const P = new Map(
    configs.map((c) => [
      name(c),
      Float64Array.from(scored, (r) => RULES[c.rule](testsOf(r, c.abs, c.rel), r.classes)),
    ]),
  );
  const all = scored.map((_, i) => i);
  const domains = [...new Set(scored.map((r) => r.model.domain))].sort();
  const md: string[] = [
    '# No-baseline trigger verdict: other combination rules, held out',
    '',
    `Generated by \`npx tsx bench/refree/combiners.ts --cache ${key}\` (${new Date().toISOString()}; ` +
      `${scored.length} scored rows of ${rows.length}: models the scan would call not assessed are left out). ` +
      `"High" = p <= ${P_HIGH}. Rules and floors: see the script's header. The shipped rule is \`cauchy abs0.3 rel0.2\`.`,
    '',
  ];
  const json: Record<string, unknown> = { generatedAt: new Date().toISOString(), cache: key };
  const cellRow = (d: string, cfg: string, k: string, s: CellStats): string =>
    `| ${d} | ${cfg} | ${k.split('|').slice(1).join(' / ')} | ${s.cleanHigh}/${s.clean} | ${s.cleanMedium}/${s.clean} | ${s.backdoored ? `${s.backdoorHigh}/${s.backdoored}` : '-'} | ${s.auroc === null ? '-' : s.auroc.toFixed(3)} |`;
  const modes: { crit: Criterion; eachDomain: boolean; title: string }[] = [
    {
      crit: 'auroc',
      eachDomain: false,
      title: 'mean AUROC, feasible over the other domains pooled (as bench/refree.ts)',
    },
    { crit: 'high', eachDomain: false, title: 'mean share of backdoors called high, feasible pooled' },
    {
      crit: 'high',
      eachDomain: true,
      title: 'mean share of backdoors called high, feasible on EACH other domain',
    },
  ];
  for (const mode of modes) {
    md.push(
      `## Held out, chosen by ${mode.title}`,
      '',
      '| domain left out | rule chosen on the others | architecture / base | clean high | clean medium+ | backdoored high | AUROC |',
      '|---|---|---|---|---|---|---|',
    );
    const chosen: Record<string, string> = {};
    for (const d of domains) {
      const others = domains.filter((x) => x !== d);
      const train = all.filter((i) => scored[i].model.domain !== d);
      const test = all.filter((i) => scored[i].model.domain === d);
      const feasibleEach = (c: string): boolean =>
        others.every(
          (o) =>
            summary(
              c,
              cellStats(
                P.get(c) as Float64Array,
                scored,
                all.filter((i) => scored[i].model.domain === o),
              ),
            ).feasible,
        );
      const pick = [...P.keys()]
        .map((c) => summary(c, cellStats(P.get(c) as Float64Array, scored, train)))
        .filter((s) => s.feasible && (!mode.eachDomain || feasibleEach(s.config)))
        .sort(better(mode.crit))[0];
      chosen[d] = pick.config;
      for (const [k, s] of cellStats(P.get(pick.config) as Float64Array, scored, test))
        md.push(cellRow(d, pick.config, k, s));
    }
    json[`heldOut-${mode.crit}${mode.eachDomain ? '-each' : ''}`] = chosen;
    md.push('');
  }
  const ranked = [...P.keys()].map((c) => summary(c, cellStats(P.get(c) as Float64Array, scored, all)));
  md.push(
    '## Every rule on every domain (tuned: the best floors of each rule, chosen on all domains)',
    '',
    '| rule | feasible configurations | best mean AUROC (feasible) | its mean backdoored high | best mean backdoored high (feasible) | its AUROC | its clean medium+ |',
    '|---|---|---|---|---|---|---|',
  );
  for (const rule of Object.keys(RULES)) {
    const mine = ranked.filter((s) => s.config.startsWith(`${rule} `) && s.feasible);
    if (!mine.length) {
      md.push(`| ${rule} | 0 | - | - | - | - | - |`);
      continue;
    }
    const a = [...mine].sort(better('auroc'))[0];
    const h = [...mine].sort(better('high'))[0];
    md.push(
      `| ${rule} | ${mine.length} | ${a.meanAuroc.toFixed(3)} (${a.config}) | ${(100 * a.meanHigh).toFixed(0)}% | ${(100 * h.meanHigh).toFixed(0)}% (${h.config}) | ${h.meanAuroc.toFixed(3)} | ${(100 * h.cleanMedium).toFixed(1)}% |`,
    );
  }
  json.ranked = ranked;
  md.push(
    '',
    '## Oracle calibration of the shipped statistic (tuned on the scored models: an upper bound)',
    '',
    "Backdoors whose shipped p is below every clean model's but the top 2% of the same architecture and base:",
    'what the best recalibration of the same statistic could call high at 2% clean high.',
    '',
    '| architecture / base | clean 98% quantile of -log10 p | backdoored above it | shipped: backdoored high |',
    '|---|---|---|---|',
  );
  const shippedP = P.get('cauchy abs0.3 rel0.2') as Float64Array;
  const groups = new Map<string, number[]>();
  for (const i of all) groups.set(cellKey(scored[i]), [...(groups.get(cellKey(scored[i])) ?? []), i]);
  for (const [k, ii] of [...groups].sort()) {
    const clean = ii
      .filter((i) => scored[i].model.label === 'clean')
      .map((i) => score(shippedP[i]))
      .sort((a, b) => a - b);
    const bd = ii.filter((i) => scored[i].model.label !== 'clean').map((i) => score(shippedP[i]));
    if (!bd.length) continue;
    const q = clean[Math.min(clean.length - 1, Math.floor(0.98 * clean.length))];
    md.push(
      `| ${k.split('|').slice(1).join(' / ')} | ${q.toFixed(2)} (p ${(10 ** -q).toFixed(3)}) | ${bd.filter((x) => x > q).length}/${bd.length} | ${bd.filter((x) => x >= score(P_HIGH)).length}/${bd.length} |`,
    );
  }
  md.push(
    '',
    '## Does one class lead every family? (shipped floors; the class with the largest mean z per family)',
    '',
    'Under exchangeable classes and independent families, the same class leads all three families of a clean',
    '10-class model 1% of the time. Clean models do it far more often (natural sinks reachable by every kind',
    'of trigger), so agreement across families is no evidence without a baseline.',
    '',
    '| label | architecture / base | models | same class leads all 3 families | leads 2 or more |',
    '|---|---|---|---|---|',
  );
  for (const [k, ii] of [...groups].sort())
    for (const label of ['clean', 'backdoor'] as const) {
      const mine = ii.filter((i) => (scored[i].model.label === 'clean') === (label === 'clean'));
      if (!mine.length) continue;
      let all3 = 0;
      let two = 0;
      for (const i of mine) {
        const leaders = byFamily(testsOf(scored[i], 0.3, 0.2)).map((f) => {
          const m = classMeans(f, scored[i].classes);
          return m.indexOf(maxOf(m));
        });
        if (leaders.length === 3 && leaders[0] === leaders[1] && leaders[1] === leaders[2]) all3++;
        if (new Set(leaders).size < leaders.length) two++;
      }
      md.push(`| ${label} | ${k.split('|').slice(1).join(' / ')} | ${mine.length} | ${all3} | ${two} |`);
    }
  md.push(
    '',
    "## Are the single tests calibrated on clean models? (share of the clean models' tests with p <= 0.05 / 0.5)",
    '',
    'A valid test gives about 5% / 50%. Far below: the floors make it conservative (the power lost);',
    'far above: the classes of clean models are not alike enough for the max-z null (natural sinks).',
    '',
    '| architecture | family | tests | shipped floors (0.3 / 0.2) | no floors |',
    '|---|---|---|---|---|',
  );
  for (const arch of [...new Set(scored.map((r) => r.model.arch))].sort())
    for (const family of FAMILIES) {
      const share = (abs: number, rel: number): string => {
        const ps = scored
          .filter((r) => r.model.arch === arch && r.model.label === 'clean')
          .flatMap((r) => testsOf(r, abs, rel).filter((t) => t.family === family))
          .map((t) => testP(t, t.z.length));
        const at = (a: number): string =>
          `${((100 * ps.filter((p) => p <= a).length) / ps.length).toFixed(0)}%`;
        return ps.length ? `${at(0.05)} / ${at(0.5)}` : '-';
      };
      const n = scored
        .filter((r) => r.model.arch === arch && r.model.label === 'clean')
        .reduce((s, r) => s + testsOf(r, 0, 0).filter((t) => t.family === family).length, 0);
      if (n) md.push(`| ${arch} | ${family} | ${n} | ${share(0.3, 0.2)} | ${share(0, 0)} |`);
    }
  const out = argValue(process.argv, 'out', path.join(process.cwd(), 'bench', 'results'));
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'refree-combiners.md'), md.join('\n') + '\n');
  writeFileSync(path.join(out, 'refree-combiners.json'), JSON.stringify(json, null, 1) + '\n');
  console.log(md.join('\n'));
}

main();
