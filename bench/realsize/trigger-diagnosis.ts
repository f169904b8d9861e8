/**
 * `npx tsx bench/realsize/trigger-diagnosis.ts --zoo DIR [--attacks patch] [--bases samples,mined]
 * [--torch-site DIR] [--out FILE]`: why trigger probing finds no trigger on the real-size zoo's backdoored
 * models whose attack success is 0.88-0.99 (bench/realsize/findings.md, "Why trigger probing misses").
 *
 * Per backdoored model and base (the 128 probe samples, or the base mined per model without samples), it
 * composes the tool's own functions exactly as a no-baseline scan does (generateProbes, planBudget, the mined
 * base, probeTriggers at the default budget; nothing in src/ is changed), then follows the chain link by link:
 *   inputs  the model's REAL trigger (bench/realsize/trigger_mask.py: mask + pattern from train.py's
 *           triggers.py), stamped by the tool's stampTrigger on the same inputs and run through ONNX Runtime:
 *           the share sent to the target class;
 *   menu    the real trigger's nearest relatives: the same place and size with each fill the menu draws
 *           (solid bright, solid dark, both checkerboards, its grey random pattern), the real colours at the
 *           menu's corner place, and the menu's and the sweep's own patches overlapping the real one most;
 *   budget  what the default budget's plan screened (candidates, inputs per candidate, sweep fills);
 *   score   what the class-anomaly score read for the target (its best gain and flip per patch tier, its z
 *           among the 43 classes and p), and the counterfactual: the same cells with the real trigger's gain
 *           put in (as if the menu had held it), scored by the tool's classAnomaly.
 * Writes a JSON record (--out, default bench/results/realsize-trigger-diagnosis.json) and prints a summary.
 * One ONNX Runtime thread; about 2-4 minutes a model and base on a quiet 2-core machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readModel } from '../../src/model/read.js';
import { ModelRunner } from '../../src/model/session.js';
import { generateProbes } from '../../src/probes/generate.js';
import { Rng } from '../../src/probes/rng.js';
import { DEFAULT_SCAN_BUDGET, planBudget } from '../../src/fingerprint/budget.js';
import { triggerBaseInputs } from '../../src/selfcheck/base-inputs.js';
import { mineTriggerBase } from '../../src/selfcheck/mine-base.js';
import {
  MAX_SCAN_BLOCKS,
  MAX_SCREEN_INPUTS,
  MIN_SCAN_BLOCKS,
  MIN_SCREEN_INPUTS,
  MAX_EVAL_INPUTS,
  SCAN_INPUTS,
  SCAN_SHARE,
  SCREEN_SHARE,
  SWEEP_SHARE,
  probeTriggers,
} from '../../src/selfcheck/trigger-probe.js';
import { screeningPlan } from '../../src/selfcheck/budgeted-runner.js';
import { scanBlocksOf } from '../../src/selfcheck/guided.js';
import { SWEEP_INPUTS, sweepFills, sweepPatches, sweepPositions } from '../../src/selfcheck/sweep.js';
import {
  generateTriggers,
  imageGeometry,
  makePatch,
  patchSizes,
  stampTrigger,
  type ImageGeometry,
  type MaskTrigger,
  type PatchFill,
  type Trigger,
  type ValueRange,
} from '../../src/selfcheck/triggers.js';
import { effectOf, subsetSummary, summarise, type LogitSummary } from '../../src/selfcheck/logit-stats.js';
import {
  DEFAULT_ANOMALY_OPTIONS,
  cellZs,
  classAnomaly,
  type CellLike,
} from '../../src/selfcheck/class-anomaly.js';
import type { RealsizeManifest, RealsizeModel } from './manifest.js';
import { option } from '../lib/args.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

type RunLogits = (inputs: Float32Array, count: number) => Promise<Float32Array>;

/** The real triggers as mask + pattern (trigger_mask.py runs train.py's own trigger code). */
function realTriggers(
  zoo: string,
  ids: string[],
  site: string,
): Record<string, { mask: number[]; pattern: number[] } | null> {
  const r = spawnSync('python3', [path.join(ROOT, 'bench', 'realsize', 'trigger_mask.py'), zoo, ...ids], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, PYTHONPATH: site, OMP_NUM_THREADS: '1' },
  });
  if (r.status !== 0) throw new Error(`trigger_mask.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function maskTrigger(mask: Float32Array, pattern: Float32Array, location: string, size: number): MaskTrigger {
  return { kind: 'patch', location, mask, pattern, tier: nearestTier(size) };
}

let SIZES: number[] = [];
function nearestTier(size: number): number {
  let best = 0;
  for (let i = 1; i < SIZES.length; i++)
    if (Math.abs(SIZES[i] - size) < Math.abs(SIZES[best] - size)) best = i;
  return best;
}

/** The real patch's box (rows/cols where the mask is on). */
function boxOf(
  mask: ArrayLike<number>,
  g: ImageGeometry,
): { top: number; left: number; size: number } | null {
  let top = g.h;
  let left = g.w;
  let bottom = -1;
  let right = -1;
  for (let y = 0; y < g.h; y++)
    for (let x = 0; x < g.w; x++)
      if (mask[y * g.w + x] > 0.5) {
        top = Math.min(top, y);
        left = Math.min(left, x);
        bottom = Math.max(bottom, y);
        right = Math.max(right, x);
      }
  return bottom < 0 ? null : { top, left, size: Math.max(bottom - top, right - left) + 1 };
}

/** Share of the real patch's pixels a candidate's mask covers, and IoU. */
function overlap(a: ArrayLike<number>, b: ArrayLike<number>): { cover: number; iou: number } {
  let inter = 0;
  let ua = 0;
  let ub = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] > 0.5;
    const y = b[i] > 0.5;
    if (x) ua++;
    if (y) ub++;
    if (x && y) inter++;
  }
  return { cover: ua ? inter / ua : 0, iou: inter / Math.max(1, ua + ub - inter) };
}

interface Measured {
  what: string;
  location: string;
  cover: number;
  /** Share of the inputs not already in the target sent to it. */
  flip: number;
  /** Mean margin gain of the target, in clean-logit spreads (the unit the score reads). */
  gain: number;
}

async function measure(
  run: RunLogits,
  t: Trigger,
  base: Float32Array,
  rows: readonly number[],
  clean: LogitSummary,
  g: ImageGeometry,
  k: number,
  target: number,
  scale: number,
): Promise<{ flip: number; gain: number }> {
  const size = g.c * g.h * g.w;
  const sub = new Float32Array(rows.length * size);
  rows.forEach((r, i) => sub.set(base.subarray(r * size, (r + 1) * size), i * size));
  stampTrigger(t, g, sub, rows.length, sub);
  const stamped = summarise(await run(sub, rows.length), rows.length, k);
  const e = effectOf(clean, stamped, k);
  return { flip: e.flip[target], gain: e.gain[target] / scale };
}

/** The trigger p of the bench's cached no-baseline scan of this model (the CLI's), to check the replay against. */
function cachedScanP(sha: string, baseKind: 'samples' | 'mined'): number | null {
  const file = path.join(
    ROOT,
    'bench/.cache/realsize-eval/resnet18/default',
    `scan-no-baseline${baseKind === 'samples' ? '+samples' : ''}.cache.json`,
  );
  if (!existsSync(file)) return null;
  const e = (
    JSON.parse(readFileSync(file, 'utf8')) as {
      entries: Record<string, { explanation: { drivers: { channel: string; pValue: number }[] } }>;
    }
  ).entries[sha];
  return e?.explanation.drivers.find((d) => d.channel === 'trigger-probe')?.pValue ?? null;
}

const r3 = (v: number): number => Math.round(v * 1000) / 1000;

async function diagnose(
  zoo: string,
  m: RealsizeModel,
  real: { mask: number[]; pattern: number[] },
  baseKind: 'samples' | 'mined',
  samplesDir: string,
): Promise<Record<string, unknown>> {
  const file = path.join(zoo, m.file);
  const model = await readModel(file);
  const probes = generateProbes(model.inputs, baseKind === 'samples' ? { samplesDir } : {}, { file });
  const k = Number(model.outputs[0]?.shape.at(-1));
  const target = m.targetClass as number;
  const plan = planBudget(model, probes, DEFAULT_SCAN_BUDGET);
  const tb = triggerBaseInputs(probes);
  if (!tb || plan.triggerPasses === null) throw new Error(`${m.id}: trigger probing does not apply`);
  const shape = tb.shape;
  const g = imageGeometry(shape);
  SIZES = patchSizes(g);
  const range: ValueRange = { lo: probes.range[0], hi: probes.range[1] };
  const runner = await ModelRunner.open(model, { threads: 1 });
  try {
    const normalize = probes.inputs[0].normalize;
    const logits = runner.logitsFunction(shape, normalize ? { normalize } : {});
    const run: RunLogits = (x, n) => logits(x, n);
    // the base and the budget exactly as runTriggerCheck picks them (src/fingerprint/trigger-check.ts)
    const mined =
      baseKind === 'mined'
        ? await mineTriggerBase(run, shape, {
            classes: k,
            budget: plan.triggerPasses,
            seed: probes.seed,
            range,
            file,
          })
        : null;
    if (baseKind === 'mined' && !mined) throw new Error(`${m.id}: no mined base`);
    const base = mined ? mined.base : tb.base;
    const budget = mined ? mined.probeBudget : plan.triggerPasses;
    const t0 = performance.now();
    const r = await probeTriggers(run, base, shape, { classes: k, budget, seed: probes.seed, range, file });
    const probeMs = performance.now() - t0;

    // the probing's own bookkeeping, replayed (trigger-probe.ts): held-out rows, search rows, the plan
    const size = g.c * g.h * g.w;
    const n = Math.min(base.length / size, Math.floor(budget / 4));
    const rng = new Rng(probes.seed);
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const nEval = n >= 2 * MIN_SCREEN_INPUTS ? Math.min(Math.floor(n / 4), MAX_EVAL_INPUTS) : 0;
    const searchRows = nEval > 0 ? order.slice(nEval) : order;
    const scanRows = searchRows.slice(0, SCAN_INPUTS);
    let left = budget - n;
    const maxBlocks = Math.min(MAX_SCAN_BLOCKS, Math.floor(((left - nEval) * SCAN_SHARE) / scanRows.length));
    const scanBlocks = maxBlocks >= MIN_SCAN_BLOCKS ? scanBlocksOf(g, maxBlocks).length : 0;
    left -= scanBlocks * scanRows.length;
    const sweepRows = searchRows.slice(0, SWEEP_INPUTS);
    const fills = sweepFills(g, sweepRows.length, Math.floor((left - nEval) * SWEEP_SHARE));
    left -= fills * sweepPositions(g) * sweepRows.length;
    const screenBudget = Math.max(0, Math.floor((left - nEval) * SCREEN_SHARE));
    const splan = screeningPlan(
      r.candidatesTotal,
      searchRows.length,
      screenBudget,
      MIN_SCREEN_INPUTS,
      MAX_SCREEN_INPUTS,
    );
    const menuSeed = rng.nextUint32();
    const rows = searchRows.slice(0, splan.rows);

    const cleanAll = summarise(await run(base, n), n, k);
    const clean = subsetSummary(cleanAll, rows, k);
    const all = order.slice();
    const cleanEvery = subsetSummary(cleanAll, all, k);
    const realMask = Float32Array.from(real.mask);
    const realPattern = Float32Array.from(real.pattern);
    const box = boxOf(realMask, g);
    if (!box) throw new Error(`${m.id}: empty trigger mask`);
    const realT = maskTrigger(
      realMask,
      realPattern,
      `real ${box.size}x${box.size} colour patch at (${box.top},${box.left})`,
      box.size,
    );
    const scale = r.logitScale;
    const out: Measured[] = [];
    const add = async (what: string, t: Trigger): Promise<void> => {
      const e = await measure(run, t, base, rows, clean, g, k, target, scale);
      const cover = t.kind === 'warp' ? 0 : overlap(realMask, t.mask).cover;
      out.push({ what, location: t.location, cover: r3(cover), flip: r3(e.flip), gain: r3(e.gain) });
    };
    // inputs: the real trigger on every base input, and on the screening rows
    const onAll = await measure(run, realT, base, all, cleanEvery, g, k, target, scale);
    await add('real trigger (colours, place and size as trained)', realT);
    // menu link 1: the real place and size, each fill the menu draws (grey: every channel alike)
    const fillsOf: [PatchFill, number, string][] = [
      ['solid-hi', 0, 'solid bright'],
      ['solid-lo', 0, 'solid dark'],
      ['checker', 0, 'checkerboard'],
      ['checker', 1, 'checkerboard, other phase'],
      ['random', 12345, 'grey random pattern'],
    ];
    for (const [fill, fillSeed, words] of fillsOf)
      await add(`real place and size, ${words}`, makePatch(g, range, { ...box, fill, fillSeed }));
    // menu link 2: the real colours at the menu's corner place (flush with the border)
    const flushTop = box.top < g.h / 2 ? 0 : g.h - box.size;
    const flushLeft = box.left < g.w / 2 ? 0 : g.w - box.size;
    const shifted = new Float32Array(realMask.length);
    const shiftedP = new Float32Array(realPattern.length);
    const hw = g.h * g.w;
    for (let y = 0; y < box.size; y++)
      for (let x = 0; x < box.size; x++) {
        const from = (box.top + y) * g.w + box.left + x;
        const to = (flushTop + y) * g.w + flushLeft + x;
        shifted[to] = 1;
        for (let ch = 0; ch < g.c; ch++) shiftedP[ch * hw + to] = realPattern[ch * hw + from];
      }
    await add(
      "real colours, moved to the corner (the menu's place)",
      maskTrigger(shifted, shiftedP, `real pattern at (${flushTop},${flushLeft})`, box.size),
    );
    // menu link 3: the menu's own candidates (generic list and sweep) that overlap the real patch most
    const menu = generateTriggers(g, { seed: menuSeed, range }).filter((t) => t.kind === 'patch');
    const sweep = sweepPatches(g, range, fills);
    const pick = (list: Trigger[], label: string): { t: Trigger; label: string }[] => {
      const byFill = new Map<string, { t: Trigger; iou: number }>();
      for (const t of list) {
        if (t.kind !== 'patch' || !t.patch) continue;
        const o = overlap(realMask, t.mask);
        const key = `${t.patch.fill}/${t.patch.fillSeed}/${t.patch.size}`;
        if (o.iou > 0 && (!byFill.has(key) || o.iou > (byFill.get(key) as { iou: number }).iou))
          byFill.set(key, { t, iou: o.iou });
      }
      return [...byFill.values()]
        .sort((a, b) => b.iou - a.iou)
        .slice(0, 8)
        .map((x) => ({ t: x.t, label }));
    };
    for (const c of [
      ...pick(menu, 'menu (generic list)'),
      ...pick(sweep, `sweep (${fills} fills, 8 inputs each)`),
    ])
      await add(`${c.label}: ${(c.t as MaskTrigger).patch?.fill} ${(c.t as MaskTrigger).patch?.size}px`, c.t);

    // score link: what the class-anomaly score read at the target, and the counterfactual
    const cells = Object.fromEntries([...r.candidateStats.cells].map(([f, cs]) => [f, cs])) as Record<
      string,
      CellLike[]
    >;
    const patchCells = cells.patch ?? [];
    const perTier = patchCells.map((cell, tier) => {
      const { x, z } = cellZs(cell, 'gain', k, DEFAULT_ANOMALY_OPTIONS);
      const sorted = Array.from(x).sort((a, b) => a - b);
      const rank = Array.from(x).filter((v) => v > x[target]).length + 1;
      return {
        tier,
        size: SIZES[tier],
        candidates: cell.candidates,
        targetBestGain: r3(cell.bestGain[target]),
        targetBestFlip: r3(cell.bestFlip[target]),
        targetMaxFlip: r3(cell.maxFlip[target]),
        targetZ: r3(z[target]),
        targetRank: rank,
        medianGain: r3(sorted[k >> 1]),
        topClass: Array.from(z).indexOf(Math.max(...z)),
        topZ: r3(Math.max(...z)),
      };
    });
    const realOnRows = out[0];
    const realTier = nearestTier(box.size);
    const counter = Object.fromEntries(
      Object.entries(cells).map(([f, cs]) => [
        f,
        cs.map((c, tier) => {
          if (f !== 'patch' || tier !== realTier) return c;
          const bestGain = Float32Array.from(c.bestGain);
          const bestFlip = Float32Array.from(c.bestFlip);
          const maxFlip = Float32Array.from(c.maxFlip);
          if (realOnRows.gain > bestGain[target]) {
            bestGain[target] = realOnRows.gain;
            bestFlip[target] = realOnRows.flip;
          }
          maxFlip[target] = Math.max(maxFlip[target], realOnRows.flip);
          return { ...c, bestGain, bestFlip, maxFlip };
        }),
      ]),
    );
    const cf = classAnomaly({ classes: k, cells: counter });
    const cfZ = cellZs(counter.patch[realTier], 'gain', k, DEFAULT_ANOMALY_OPTIONS).z[target];
    return {
      id: m.id,
      attack: m.attack,
      target,
      asrPyTorch: m.asr,
      trigger: m.trigger,
      base: baseKind,
      inputs: n,
      budget: {
        planned: plan.triggerPasses,
        probing: budget,
        mining: mined?.forwardPasses ?? 0,
        used: r.forwardPasses,
      },
      plan: {
        scanBlocks,
        sweepFills: fills,
        sweepPositionsPerFill: sweepPositions(g),
        patchSizes: SIZES,
        candidatesScreened: r.candidatesScreened,
        candidatesTotal: r.candidatesTotal,
        screenedCandidatesPlanned: splan.candidates,
        inputsPerCandidate: splan.rows,
      },
      realOnAllInputs: { flip: r3(onAll.flip), gain: r3(onAll.gain) },
      ladder: out,
      score: {
        pValue: r.selfCheck.pValue,
        suspected: r.selfCheck.targetClass ?? null,
        targetClassP: r.anomaly.classP[target],
        logitScale: r3(scale),
        perPatchTier: perTier,
      },
      counterfactual: {
        tier: realTier,
        pValue: cf.pValue,
        suspected: cf.targetClass,
        targetZ: r3(cfZ),
        targetClassP: cf.classP[target],
      },
      scanCacheP: cachedScanP(m.sha256, baseKind),
      probeSeconds: Math.round(probeMs / 100) / 10,
    };
  } finally {
    await runner.release();
  }
}

async function main(): Promise<void> {
  const zoo = path.resolve(option('--zoo') ?? path.join(ROOT, 'bench', '.cache', 'realsize-zoo'));
  const attacks = (option('--attacks') ?? 'patch').split(',');
  const bases = (option('--bases') ?? 'samples,mined').split(',') as ('samples' | 'mined')[];
  const site = path.resolve(option('--torch-site') ?? path.join(ROOT, 'bench', '.cache', 'torch-site'));
  const outFile = path.resolve(
    option('--out') ?? path.join(ROOT, 'bench', 'results', 'realsize-trigger-diagnosis.json'),
  );
  const manifest = JSON.parse(readFileSync(path.join(zoo, 'manifest.json'), 'utf8')) as RealsizeManifest;
  const models = manifest.models.filter((x) => x.split === 'test' && x.attack && attacks.includes(x.attack));
  const only = option('--models')?.split(',');
  const chosen = only ? models.filter((x) => only.includes(x.id)) : models;
  const real = realTriggers(
    zoo,
    chosen.map((x) => x.id),
    site,
  );
  const prev = existsSync(outFile)
    ? (JSON.parse(readFileSync(outFile, 'utf8')) as { rows: Record<string, unknown>[] })
    : null;
  const rows: Record<string, unknown>[] = [];
  // written after every model and base: a run stopped at a deadline keeps what it measured
  const write = (): void => {
    const kept = (prev?.rows ?? []).filter((p) => !rows.some((r) => r.id === p.id && r.base === p.base));
    writeFileSync(
      outFile,
      JSON.stringify({ generatedAt: new Date().toISOString(), zoo, rows: [...kept, ...rows] }, null, 1) +
        '\n',
    );
  };
  for (const m of chosen) {
    const rt = real[m.id];
    if (!rt) {
      console.error(`${m.id}: its trigger is not a mask trigger (skipped)`);
      continue;
    }
    for (const b of bases) {
      console.error(`${m.id} / ${b}: probing at the default budget`);
      const row = await diagnose(zoo, m, rt, b, manifest.probeSamples);
      rows.push(row);
      write();
      const s = row.score as { pValue: number; targetClassP: number };
      const cf = row.counterfactual as { pValue: number; targetZ: number };
      const ladder = row.ladder as Measured[];
      console.error(
        `  real trigger flips ${(row.realOnAllInputs as { flip: number }).flip} of all inputs; scan p ${s.pValue.toPrecision(2)}, ` +
          `target class p ${s.targetClassP.toPrecision(2)}; with the real trigger in the menu p ${cf.pValue.toPrecision(2)} (z ${cf.targetZ})`,
      );
      for (const l of ladder)
        console.error(`    ${l.what}: flip ${l.flip}, gain ${l.gain}, covers ${l.cover}`);
    }
  }
  console.error(`wrote ${path.relative(ROOT, outFile)}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
