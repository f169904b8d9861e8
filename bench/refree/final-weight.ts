/**
 * `npx tsx bench/refree/final-weight.ts --cache KEY[,KEY2] [--realsize-scans DIR[,DIR2]] [--realsize-zoo ROOT]
 * [--families DIR] [--tag NAME]`:
 * the weight of the final-layer check (`weight-outlier`) beside trigger probing in the no-baseline verdict
 * (src/score/no-baseline.ts, NO_BASELINE_WEIGHTS), chosen leave-one-domain-out jointly with the trigger
 * anomaly's MAD floors, on every domain bench/refree.ts collects PLUS the real-size zoo (bench:realsize's
 * quarter-width ResNet-18 on GTSRB). Nothing is probed here: the refree rows come from bench/.cache/refree
 * (trigger probing's cells and the final layer's row features, rescored with the product's functions), the
 * real-size models from bench:realsize's no-baseline scan caches (the CLI's own trigger-probe and
 * final-layer p-values, with and without samples). Writes bench/results/refree-final-weight.{json,md}.
 *
 * Selection (bench/refree/weight-choice.ts), as bench/refree/evaluate.ts's selectConfig: a configuration is (anomaly floors of
 * ANOMALY_GRID, final-layer weight of FINAL_WEIGHTS); it is feasible when the clean bounds (MAX_CLEAN_HIGH,
 * MAX_CLEAN_MEDIUM) hold on EACH domain it is chosen on; among the feasible ones the largest mean AUROC
 * over the (domain, architecture, base) cells that have both kinds wins, ties to the smaller weight. Each
 * domain is scored with the configuration chosen on the others only (held out). A second criterion (the
 * largest mean share of backdoors called high, issue #20's target) is reported beside it as a sensitivity,
 * not used to ship.
 *
 * Limits said in the report: the real-size scans carry trigger probing's p at the product's floors only
 * (no cells), so in every fold the real-size rows keep that p whatever floors are tried (exact for the
 * real-size fold itself, whose floors are chosen on the other four domains); the GTSRB DeepID domain has
 * clean models only (it constrains, it adds no AUROC).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { argValue } from '../speed/common.js';
import { P_HIGH, P_MEDIUM } from '../../src/score/risk.js';
import { NO_BASELINE_WEIGHTS } from '../../src/score/no-baseline.js';
import { classAnomaly, DEFAULT_ANOMALY_OPTIONS } from '../../src/selfcheck/class-anomaly.js';
import { finalLayerAnomaly } from '../../src/fingerprint/final-layer-anomaly.js';
import { findFinalLinear } from '../../src/fingerprint/final-layer.js';
import { finalRowFeatures } from '../../src/fingerprint/final-layer-features.js';
import { readModel } from '../../src/model/read.js';
import type { TriggerKind } from '../../src/selfcheck/triggers.js';
import { ANOMALY_GRID, SHIPPED_CONFIG, searchCutShort } from './evaluate.js';
import { loadCollections } from './rows.js';
import { readScanCache } from '../realsize/cache.js';
import { isFailed } from '../../src/report/types.js';
import { readArchManifests, type RealsizeModel } from '../realsize/manifest.js';
import { choose, configName, stats, verdictP, type Config, type Unit } from './weight-choice.js';

/** The final-layer weights tried (trigger probing weighs 1; the product shipped 0). */
export const FINAL_WEIGHTS = [0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1];

/** The final-layer weight shipped before this study (the `before` column). */
const PREVIOUS_WEIGHT = 0;

/** A finer grid, reported (not chosen from) to show how the choice rests on the grid. */
export const SENSITIVITY_WEIGHTS = [0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1];

/** The real-size zoo's domain name (data + toolchain, the unit left out). */
const REALSIZE_DOMAIN = 'gtsrb-realsize';

/** The refree rows as units: the scan's gates (not assessed when a scored family's search was cut short). */
function refreeUnits(keys: string): Unit[] {
  const out: Unit[] = [];
  for (const r of loadCollections(keys)) {
    if (r.old && searchCutShort(r)) continue; // not assessed: no level, left out as bench/refree.ts does
    const fl = r.rowFeatures ? finalLayerAnomaly(r.rowFeatures, r.classes) : null;
    const memo = new Map<string, number>();
    const trigger =
      r.old && r.classes >= 3
        ? (config: string): number => {
            let p = memo.get(config);
            if (p === undefined) {
              p = classAnomaly(
                { classes: r.classes, cells: r.cells as Partial<Record<TriggerKind, never[]>> },
                { ...DEFAULT_ANOMALY_OPTIONS, ...ANOMALY_GRID[config] },
              ).pValue;
              memo.set(config, p);
            }
            return p;
          }
        : null;
    if (!trigger && !fl) continue;
    out.push({
      id: r.model.id,
      domain: r.model.domain,
      arch: r.model.arch,
      base: r.base,
      clean: r.model.label === 'clean',
      attack: r.model.attack,
      trigger,
      finalLayer: fl ? fl.pValue : null,
    });
  }
  return out;
}

/** The bench:realsize scans (scan-no-baseline[+samples].cache.json in each directory), first one wins. */
function realsizeUnits(
  dirs: string[],
  zoo: Map<string, RealsizeModel>,
): { units: Unit[]; sources: string[] } {
  const units: Unit[] = [];
  const seen = new Set<string>();
  const sources: string[] = [];
  for (const dir of dirs)
    for (const [file, base] of [
      ['scan-no-baseline.cache.json', 'mined'],
      ['scan-no-baseline+samples.cache.json', 'samples'],
    ] as const) {
      const f = path.join(dir, file);
      const cache = readScanCache(f);
      if (!cache) continue;
      sources.push(f);
      for (const e of Object.values(cache.entries)) {
        const id = path.basename(e.path).replace(/\.onnx$/, '');
        const m = zoo.get(id);
        if (!m) throw new Error(`final-weight: ${id} (${f}) is not in the real-size manifest`);
        // a model that could not be scanned or was not assessed has no verdict to recombine
        if (seen.has(`${id}|${base}`) || isFailed(e) || e.riskLevel === 'not-assessed') continue;
        seen.add(`${id}|${base}`);
        const t = e.detectors['trigger-probe']?.pValue;
        const fl = e.detectors['final-layer']?.pValue;
        units.push({
          id,
          domain: REALSIZE_DOMAIN,
          arch: m.arch,
          base,
          clean: m.label === 'clean',
          attack: m.attack,
          trigger: t === undefined ? null : () => t,
          finalLayer: fl ?? null,
        });
      }
    }
  return { units, sources };
}

/** The final-layer check of an ONNX file (its p and class), from its weights alone (no forward pass). */
async function finalLayerOf(file: string): Promise<{ p: number | null; cls: number | null }> {
  const model = await readModel(file);
  const fl = findFinalLinear(model);
  const classes = Number(model.outputs[0]?.shape.at(-1));
  const a = fl ? finalLayerAnomaly(finalRowFeatures(fl), classes) : null;
  return a ? { p: a.pValue, cls: a.targetClass } : { p: null, cls: null };
}

const frac = (a: number, b: number): string => (b ? `${a}/${b}` : '-');
const num = (v: number | null): string => (v === null ? '-' : v.toFixed(3));

async function main(): Promise<void> {
  const arg = (n: string, d: string): string => argValue(process.argv, n, d);
  const keys = arg('cache', '02ca793a6c37,f8f282998c39');
  const scanDirs = arg(
    'realsize-scans',
    path.join(process.cwd(), 'bench', '.cache', 'realsize-eval', 'resnet18', 'default'),
  ).split(',');
  const zooDir = arg('realsize-zoo', '/work/cache/realsize-zoo3');
  const zoo = readArchManifests(zooDir);
  const rs = realsizeUnits(scanDirs, zoo);
  if (rs.units.length === 0) throw new Error(`final-weight: no real-size scans in ${scanDirs.join(', ')}`);
  const units = [...refreeUnits(keys), ...rs.units];
  const domains = [...new Set(units.map((u) => u.domain))].sort();
  const shippedFloors = SHIPPED_CONFIG;
  const shippedWeight = NO_BASELINE_WEIGHTS['weight-outlier'];
  if (!(shippedFloors in ANOMALY_GRID)) throw new Error(`final-weight: ${shippedFloors} is not in the grid`);
  // weights outer (ascending: ties go to the smaller weight), the floors in ANOMALY_GRID's order
  const joint: Config[] = FINAL_WEIGHTS.flatMap((weight) =>
    Object.keys(ANOMALY_GRID).map((floors) => ({ floors, weight })),
  );
  const floorsOnly: Config[] = Object.keys(ANOMALY_GRID).map((floors) => ({
    floors,
    weight: PREVIOUS_WEIGHT,
  }));

  // Held out: each domain scored with the configuration chosen on the others.
  const folds = domains.map((d) => {
    const train = units.filter((u) => u.domain !== d);
    const test = units.filter((u) => u.domain === d);
    const before = choose(train, floorsOnly, 'auroc');
    const after = choose(train, joint, 'auroc');
    const byHigh = choose(train, joint, 'high');
    return {
      domain: d,
      before: { choice: before, cells: stats(test, before.config) },
      after: { choice: after, cells: stats(test, after.config) },
      byHigh: { choice: byHigh, cells: stats(test, byHigh.config) },
    };
  });
  const all = choose(units, joint, 'auroc');
  const allHigh = choose(units, joint, 'high');

  // Every weight at the shipped floors, every domain (tuned if read as a choice).
  const perWeight = FINAL_WEIGHTS.map((weight) => ({
    weight,
    cells: stats(units, { floors: shippedFloors, weight }),
  }));

  // The final-layer check alone on every clean model at hand, also those no scan probed: at weight w it calls
  // a clean model high whenever p_final <= P_HIGH * w / (1 + w), whatever trigger probing says (a lower bound
  // on the clean models the verdict calls high).
  const extra: { id: string; arch: string; clean: boolean; p: number | null; cls: number | null }[] = [];
  for (const m of zoo.values()) {
    const file = path.join(zooDir, m.file ?? `${m.arch}/${m.id}.onnx`);
    if (existsSync(file))
      extra.push({
        id: m.id,
        arch: `${m.arch} (real-size)`,
        clean: m.label === 'clean',
        ...(await finalLayerOf(file)),
      });
  }
  const familiesDir = arg('families', '/work/cache/families-zoo');
  if (existsSync(path.join(familiesDir, 'manifest.json'))) {
    const fm = JSON.parse(readFileSync(path.join(familiesDir, 'manifest.json'), 'utf8')) as {
      models: { id: string; arch: string; label: string; file: string }[];
    };
    for (const m of fm.models)
      if (m.label === 'clean' && existsSync(path.join(familiesDir, m.file)))
        extra.push({
          id: m.id,
          arch: m.arch,
          clean: true,
          ...(await finalLayerOf(path.join(familiesDir, m.file))),
        });
  }
  // consistency: the scans' final-layer p against the one recomputed from the same file's weights
  const checked = rs.units.filter((u) => extra.some((x) => x.id === u.id));
  const mismatch = checked.filter((u) => {
    const e = extra.find((x) => x.id === u.id);
    return e && (e.p === null) !== (u.finalLayer === null)
      ? true
      : e && e.p !== null && u.finalLayer !== null && Math.abs(e.p - u.finalLayer) > 1e-5 * e.p + 1e-9;
  });

  // Sensitivity to the weight grid: per fold and weight, the best floors at that weight on the other domains
  // (feasible?, mean AUROC), and what the held-out domain gets there.
  const sensitivity = folds.map((f) => ({
    domain: f.domain,
    weights: SENSITIVITY_WEIGHTS.map((weight) => {
      const train = units.filter((u) => u.domain !== f.domain);
      const c = choose(
        train,
        Object.keys(ANOMALY_GRID).map((floors) => ({ floors, weight })),
        'auroc',
      );
      return {
        weight,
        choice: c,
        heldOut: stats(
          units.filter((u) => u.domain === f.domain),
          c.config,
        ),
      };
    }),
  }));

  const md: string[] = [
    '# No-baseline verdict: the final-layer weight, chosen held out',
    '',
    `Generated by \`npx tsx bench/refree/final-weight.ts ${process.argv.slice(2).join(' ')}\` (${new Date().toISOString()}). ` +
      `Units: ${units.length} (model, base) rows; real-size scans: ${rs.sources.map((s) => path.relative(process.cwd(), s)).join(', ')}. ` +
      `"High" = p <= ${P_HIGH.toFixed(4)}, "medium+" = p <= ${P_MEDIUM.toFixed(3)}. A configuration is the trigger ` +
      'anomaly floors (bench/refree/evaluate.ts ANOMALY_GRID) and the final-layer weight beside trigger probing ' +
      `(${FINAL_WEIGHTS.join(', ')}); feasible = clean high <= 2% and medium+ <= 12.6% on EACH domain chosen on; ` +
      'then the largest mean AUROC over the cells (ties to the smaller weight). The real-size rows carry ' +
      "trigger probing's p at the shipped floors only (their scans keep no cells).",
    '',
    '## Held out: the configuration each fold chose without its domain',
    '',
    '| domain left out | before: floors chosen at weight 0 (the rule shipped before) | after: floors and weight chosen jointly | by backdoors called high (sensitivity) |',
    '|---|---|---|---|',
    ...folds.map(
      (f) =>
        `| ${f.domain} | ${configName(f.before.choice.config)} | **${configName(f.after.choice.config)}**${f.after.choice.feasible ? '' : ' (none feasible)'} | ${configName(f.byHigh.choice.config)} |`,
    ),
    `| (all domains: tuned) | ${configName(choose(units, floorsOnly, 'auroc').config)} | ${configName(all.config)} | ${configName(allHigh.config)} |`,
    '',
    `The product ships floors ${shippedFloors} and final-layer weight ${shippedWeight} (src/score/no-baseline.ts); ` +
      `the folds chose weight ${[...new Set(folds.map((f) => f.after.choice.config.weight))].join(', ')}.`,
    '',
    '## Held out, per domain, architecture and base: before -> after',
    '',
    'Clean called high / medium+, backdoored called high, AUROC; every figure from the configuration its fold chose without that domain.',
    '',
    '| domain | architecture | base | clean high | clean medium+ | backdoored high | AUROC | AUROC of the risk score | by backdoors high: clean high, backdoored high, AUROC |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const f of folds)
    f.before.cells.forEach((b, i) => {
      const a = f.after.cells[i];
      const h = f.byHigh.cells[i];
      md.push(
        `| ${b.domain} | ${b.arch} | ${b.base} | ${frac(b.cleanHigh, b.clean)} -> ${frac(a.cleanHigh, a.clean)} | ${frac(b.cleanMedium, b.clean)} -> ${frac(a.cleanMedium, a.clean)} | ${frac(b.backdoorHigh, b.backdoored)} -> ${frac(a.backdoorHigh, a.backdoored)} | ${num(b.auroc)} -> ${num(a.auroc)} | ${num(b.aurocRisk)} -> ${num(a.aurocRisk)} | ${frac(h.cleanHigh, h.clean)}, ${frac(h.backdoorHigh, h.backdoored)}, ${num(h.auroc)} |`,
      );
    });
  md.push(
    '',
    `## Every weight at the shipped floors (${shippedFloors}), every domain: tuned if read as a choice`,
    '',
    '| domain | architecture | base | ' + FINAL_WEIGHTS.map((w) => `w ${w}`).join(' | ') + ' |',
    '|---|---|---|' + FINAL_WEIGHTS.map(() => '---|').join(''),
  );
  perWeight[0].cells.forEach((c, i) =>
    md.push(
      `| ${c.domain} | ${c.arch} | ${c.base} | ` +
        perWeight
          .map((w) => {
            const x = w.cells[i];
            return `${x.cleanHigh}/${x.cleanMedium} of ${x.clean}; ${frac(x.backdoorHigh, x.backdoored)}; ${num(x.auroc)}`;
          })
          .join(' | ') +
        ' |',
    ),
  );
  md.push(
    '',
    'Each cell: clean high / clean medium+ of clean; backdoored high; AUROC.',
    '',
    '## The final-layer check alone on every clean model at hand (no forward pass)',
    '',
    'At weight w the verdict calls a clean model high whenever its final-layer p <= P_HIGH x w / (1 + w),',
    'whatever trigger probing says: a lower bound on clean high. Includes clean models no scan probed (the',
    "real-size zoo's 40 reference models, the families zoo's clean models beyond the collection).",
    '',
    '| architecture | clean models | smallest p | ' +
      FINAL_WEIGHTS.slice(1)
        .map((w) => `high at w ${w}`)
        .join(' | ') +
      ' |',
    '|---|---|---|' +
      FINAL_WEIGHTS.slice(1)
        .map(() => '---|')
        .join(''),
  );
  const refreeClean = units.filter((u) => u.clean && u.domain !== REALSIZE_DOMAIN && u.base === 'mined');
  const byArch = new Map<string, number[]>();
  for (const u of refreeClean)
    if (u.finalLayer !== null) byArch.set(u.arch, [...(byArch.get(u.arch) ?? []), u.finalLayer]);
  const collectedIds = new Set(refreeClean.map((u) => u.id));
  for (const e of extra)
    if (e.clean && e.p !== null && !collectedIds.has(e.id))
      byArch.set(e.arch, [...(byArch.get(e.arch) ?? []), e.p]);
  const alone: Record<string, Record<string, number>> = {};
  for (const [arch, ps] of [...byArch].sort()) {
    alone[arch] = Object.fromEntries(
      FINAL_WEIGHTS.slice(1).map((w) => [w, ps.filter((p) => p <= (P_HIGH * w) / (1 + w)).length]),
    );
    md.push(
      `| ${arch} | ${ps.length} | ${Math.min(...ps).toPrecision(2)} | ` +
        FINAL_WEIGHTS.slice(1)
          .map((w) => String(alone[arch][w]))
          .join(' | ') +
        ' |',
    );
  }
  md.push(
    '',
    `Real-size scans' final-layer p against the same files' weights recomputed here: ${mismatch.length} mismatches of ${checked.length} (of ${rs.units.length} scanned rows).`,
    '',
    '## The real-size backdoors: does the final-layer check name the target?',
    '',
    "Every backdoored model of the real-size manifests, scanned or not (a model added after this study's scans is",
    'listed with its final-layer p alone: at weight 0.02 it is called high by that check only at p <= 3.0e-4).',
    '',
    '| model | attack | target | final-layer class | final-layer p | verdict p at the shipped weight, no samples / samples |',
    '|---|---|---|---|---|---|',
    ...[...zoo.values()]
      .filter((m) => m.label !== 'clean')
      .map((m) => {
        const e = extra.find((x) => x.id === m.id);
        const v = (base: string): string => {
          const u = rs.units.find((x) => x.id === m.id && x.base === base);
          return u
            ? verdictP(u, { floors: shippedFloors, weight: shippedWeight }).toExponential(1)
            : 'not scanned';
        };
        return `| ${m.id} | ${m.attack ?? '-'} | ${m.targetClass ?? '-'} | ${e?.cls ?? '-'} | ${e?.p?.toExponential(1) ?? '-'} | ${v('mined')} / ${v('samples')} |`;
      }),
    '',
    '## Sensitivity: each fold at each weight of a finer grid',
    '',
    'Per fold (domain left out) and weight: the best floors at that weight on the other domains, their mean',
    'AUROC there (an asterisk: no floors feasible at that weight), and the held-out domain at that choice',
    '(backdoored high of all its cells; AUROC per cell). The primary grid is ' +
      FINAL_WEIGHTS.join(', ') +
      '.',
    '',
    '| fold | ' + SENSITIVITY_WEIGHTS.map((w) => `w ${w}`).join(' | ') + ' |',
    '|---|' + SENSITIVITY_WEIGHTS.map(() => '---|').join(''),
    ...sensitivity.map(
      (f) =>
        `| ${f.domain} | ` +
        f.weights
          .map((w) => {
            const bd = w.heldOut.reduce((s, c) => s + c.backdoored, 0);
            const hi = w.heldOut.reduce((s, c) => s + c.backdoorHigh, 0);
            const ch = w.heldOut.reduce((s, c) => s + c.cleanHigh, 0);
            const cn = w.heldOut.reduce((s, c) => s + c.clean, 0);
            return `${w.choice.meanAuroc.toFixed(4)}${w.choice.feasible ? '' : '*'}; held out: clean high ${ch}/${cn}, bd high ${bd ? `${hi}/${bd}` : '-'}, AUROC ${w.heldOut.map((c) => num(c.auroc)).join('/')}`;
          })
          .join(' | ') +
        ' |',
    ),
    '',
  );
  const out = arg('out', path.join(process.cwd(), 'bench', 'results'));
  mkdirSync(out, { recursive: true });
  const json = {
    generatedAt: new Date().toISOString(),
    cache: keys,
    realsizeScans: rs.sources.map((s) => path.relative(process.cwd(), s)),
    weights: FINAL_WEIGHTS,
    shipped: { floors: shippedFloors, weight: shippedWeight },
    folds: folds.map((f) => ({
      domain: f.domain,
      before: f.before,
      after: f.after,
      byHigh: f.byHigh,
    })),
    all,
    allHigh,
    perWeight,
    finalLayerAloneOnClean: alone,
    sensitivity,
    realsizeFinalLayerMismatches: mismatch.map((u) => u.id),
  };
  // --tag NAME writes refree-final-weight-NAME.*: a re-run on more real-size scans beside the study's own
  const tag = arg('tag', '');
  const base = `refree-final-weight${tag ? `-${tag}` : ''}`;
  writeFileSync(path.join(out, `${base}.json`), JSON.stringify(json, null, 1) + '\n');
  writeFileSync(path.join(out, `${base}.md`), md.join('\n'));
  console.log(md.join('\n'));
}

await main();
