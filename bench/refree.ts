/**
 * `npx tsx bench/refree.ts`: the reference-free verdict (no baseline) on every zoo at hand, held out.
 *
 *   npx tsx bench/refree.ts [--zoos mnist,torch,families,multi] [--bases samples,mined] [--collect-only]
 *     [--torch-zoo bench/.cache/torch-zoo] [--families /work/cache/families-zoo] [--out bench/results]
 *     [--cache KEY] [--only DOMAIN|ARCH|ZOO] [--max-clean N] [--no-collect] [--budget SETTING]
 *
 * --budget SETTING probes with that scan budget (fast, default, thorough, legacy, or MACs) instead of the
 * scan's default, cached apart (KEY-SETTING): how a budget-cut search scores.
 *
 * --no-collect scores only the models already in the cache (while a collection runs elsewhere).
 * --cache KEY1,KEY2 reads each model's row from the first collection that has it (new rows go to KEY1): a
 * re-probed subset (e.g. a domain whose probing changed) in front of an older full collection.
 *
 * Collect: every model's trigger probing (with the domain's samples, and without them: the mined base) and
 * final-layer row features, cached under bench/.cache/refree (bench/refree/collect.ts). Score: the shipped
 * reference-free verdict and its parts, per domain, with every constant it uses fixed in the source (no
 * fitting here), so every figure is held out for every domain but the ones named as tuning domains in
 * bench/refree/report.ts. Writes bench/results/refree.json and refree.md.
 */
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { argValue } from './speed/common.js';
import { cached, collect, collectCodeHash, type Base, type ProbeRow } from './refree/collect.js';
import { mnistZoo, multiTargetZoo, torchZoo, type BenchModel } from './refree/zoos.js';
import { familiesZoo } from './refree/families.js';
import { evaluate } from './refree/evaluate.js';
import { LEGACY_SCAN_BUDGET, parseBudget } from '../src/fingerprint/budget.js';
import { renderMarkdown } from './refree/report.js';

process.env.ORT_DISABLE_TELEMETRY ??= '1';

const arg = (name: string, dflt: string): string => argValue(process.argv, name, dflt);

const ROOT = process.cwd();
const CACHE = path.join(ROOT, 'bench', '.cache');

/** The model's row from the first collection that has it. */
function firstCached(m: BenchModel, base: Base, dirs: string[]): ProbeRow | null {
  for (const d of dirs) {
    const row = cached(m, base, d);
    if (row) return row;
  }
  return null;
}

async function main(): Promise<void> {
  const zoos = arg('zoos', 'mnist,torch,families,multi').split(',');
  const bases = arg('bases', 'samples,mined').split(',') as Base[];
  const only = arg('only', '');
  const models: BenchModel[] = [];
  if (zoos.includes('mnist')) models.push(...mnistZoo(path.join(CACHE, 'zoo'), CACHE));
  if (zoos.includes('torch')) models.push(...torchZoo(arg('torch-zoo', path.join(CACHE, 'torch-zoo'))));
  if (zoos.includes('families')) models.push(...familiesZoo(arg('families', '/work/cache/families-zoo')));
  if (zoos.includes('multi'))
    models.push(
      ...multiTargetZoo(
        arg('multi-zoo', path.join(CACHE, 'refree-multi')),
        arg('torch-zoo', path.join(CACHE, 'torch-zoo')),
      ),
    );
  const wanted = only ? models.filter((m) => m.domain === only || m.arch === only || m.zoo === only) : models;
  // --max-clean N: at most N clean models per architecture (a shared 2-core machine cannot probe hundreds).
  const maxClean = Number(arg('max-clean', 'Infinity'));
  const cleanSeen = new Map<string, number>();
  const chosen = wanted.filter((m) => {
    if (m.label !== 'clean') return true;
    const n = cleanSeen.get(m.arch) ?? 0;
    cleanSeen.set(m.arch, n + 1);
    return n < maxClean;
  });
  // Backdoored models first, then clean ones, interleaved across architectures: an interrupted collection
  // (hours on a shared machine) still leaves every domain with both kinds.
  const rank = (m: BenchModel): number => (m.label === 'clean' ? 1 : 0);
  const seen = new Map<string, number>();
  const order = chosen.map((m) => {
    const key = `${m.arch}\0${rank(m)}`;
    const i = seen.get(key) ?? 0;
    seen.set(key, i + 1);
    return { m, key: [rank(m), i] };
  });
  const picked = order.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1]).map((x) => x.m);
  // --cache KEY reuses a collection made by other code (the scores read only the pre-refinement cells,
  // which a change to refinement or to the self-check's own score leaves as they were).
  const code = arg('cache', collectCodeHash(ROOT));
  const budgetArg = arg('budget', '');
  const budget = budgetArg === 'legacy' ? LEGACY_SCAN_BUDGET : budgetArg ? parseBudget(budgetArg) : undefined;
  const cacheDirs = code
    .split(',')
    .map((key) => path.join(CACHE, 'refree', budget ? `${key}-${budget.setting}` : key));
  const cacheDir = cacheDirs[0];
  process.stderr.write(
    `bench:refree: ${picked.length} models, bases ${bases.join(',')}, cache ${cacheDirs.join(' then ')}\n`,
  );
  const rows: ProbeRow[] = [];
  let done = 0;
  for (const m of picked) {
    for (const base of bases) {
      if (base === 'samples' && !m.samplesDir) continue;
      try {
        if (process.argv.includes('--no-collect')) {
          const row = firstCached(m, base, cacheDirs);
          if (row) rows.push(row);
          continue;
        }
        rows.push(firstCached(m, base, cacheDirs) ?? (await collect(m, base, cacheDir, budget)));
      } catch (e) {
        process.stderr.write(`\n${m.id} (${base}): ${(e as Error).message}\n`);
      }
    }
    if (++done % 20 === 0) process.stderr.write(`${done}/${picked.length}\n`);
  }
  if (process.argv.includes('--collect-only')) return;
  const result = evaluate(rows);
  const outDir = arg('out', path.join(ROOT, 'bench', 'results'));
  mkdirSync(outDir, { recursive: true });
  const meta = { generatedAt: new Date().toISOString(), code, zoos, bases, models: picked.length };
  writeFileSync(path.join(outDir, 'refree.json'), JSON.stringify({ ...meta, ...result }, null, 1) + '\n');
  const md = renderMarkdown(meta, result);
  writeFileSync(path.join(outDir, 'refree.md'), md);
  console.log(md);
  if (!existsSync(outDir)) throw new Error('unreachable');
}

await main();
