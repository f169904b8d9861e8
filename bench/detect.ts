/**
 * Detection benchmark (`npm run bench:detect`): how well the fingerprint + ensemble tells the zoo's backdoored
 * models from clean ones, per architecture, and which default ensemble (blocks, detectors, combination rule)
 * to ship. Writes bench/results/detect.json (every number) and detect.md (the tables).
 *
 *   npx tsx bench/detect.ts [--zoo bench/.cache/zoo] [--configs default,samples,probes256] [--draws 5]
 *                           [--out bench/results] [--reuse-cache]
 * --report-only re-renders detect.md from detect.json. --reuse-cache takes the newest cached fingerprints of each configuration even when the fingerprinting
 * code changed since (the default re-fingerprints then); --code HASH takes the cache written by that code
 * version, and --cached-only leaves out models without a cached fingerprint (to compare code versions).
 *
 * Steps (README of the method in bench/results/detect.md):
 *  1. fingerprint every zoo model once per probe configuration (cached, bench/detect/fingerprints.ts);
 *  2. per architecture and configuration, fit every block x detector channel on the reference clean models
 *     (all of them, and DRAWS seeded 20-model subsamples), score the test models (channels.ts);
 *  3. rebuild candidate ensembles from the channel p-values (combos.ts, candidates.ts), and check once that the
 *     rebuild equals the real fitEnsemble/scoreEnsemble;
 *  4. the research's naive method (raw first-hidden-layer activations with LOF / Isolation Forest / OCSVM)
 *     and the reference-free self-checks alone;
 *  5. metrics (metrics.ts) and the report (report.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  baselineEnsembleConfig,
  detectorParams,
  SEPARATE_TEST_CHANNELS,
  selectChannels,
} from '../src/baseline/config.js';
import type { DetectorName } from '../src/detect/detector.js';
import type { Fingerprint } from '../src/fingerprint/types.js';
import { Rng } from '../src/probes/rng.js';
import { ensembleBlocks } from '../src/scan/blocks.js';
import { combineLabel } from '../src/score/combine.js';
import { fitEnsemble, isSelfCheckBlock, scoreEnsemble } from '../src/score/ensemble.js';
import {
  FINAL_TESTS,
  finalVerdict,
  TRIGGER_POLICY_WITH_BASELINE,
  TRIGGER_REFERENCE_CHANNEL,
} from '../src/score/final.js';
import { P_HIGH } from '../src/score/risk.js';
import {
  BLOCK_DETECTORS,
  candidateGrid,
  previousDefault,
  shippedDefault,
  shippedOtherPolicy,
  tierCandidates,
  type Candidate,
} from './detect/candidates.js';
import { channelKey, runChannel, stack, type ChannelRun } from './detect/channels.js';
import { runCombo } from './detect/combos.js';
import {
  fingerprintCodeHash,
  fingerprintZoo,
  BENCH_TRIGGER_MARK,
  NAIVE_BLOCK,
  type FingerprintRun,
  type ProbeConfig,
} from './detect/fingerprints.js';
import { evaluate, meanMetrics, surprise, type Metrics } from './detect/metrics.js';
import {
  rankCandidates,
  writeReport,
  type ArchResult,
  type DetectResults,
  type MethodResult,
} from './detect/report.js';
import { ensureSampleDir } from './detect/samples.js';
import { loadZoo, type ZooModel } from './detect/zoo.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NAIVE_DETECTORS: DetectorName[] = ['lof', 'isolation_forest', 'ocsvm'];
const SUBSAMPLE_SIZE = 20;
/** Detectors run in the non-default probe configurations (the expensive ones only in the default one). */
const ALT_CONFIG_DETECTORS: DetectorName[] = [
  'knn',
  'lof',
  'ocsvm',
  'pca_mahalanobis',
  'distance_to_clean_mean',
  'max_z',
];

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

function log(s: string): void {
  process.stderr.write(`[detect ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
}

function probeConfigs(names: string[], cacheRoot: string): ProbeConfig[] {
  const all: Record<string, () => ProbeConfig> = {
    default: () => ({ name: 'default', note: '64 mixed generated probes (the default)', engine: {} }),
    probes256: () => ({
      name: 'probes256',
      note: '256 mixed generated probes',
      engine: { probes: { count: 256 } },
    }),
    samples: () => ({
      name: 'samples',
      note: '64 probes: 32 held-out MNIST digits + 32 generated; trigger probing on all 128 digits of the --samples folder',
      engine: { probes: { samplesDir: ensureSampleDir(cacheRoot, 128) } },
    }),
  };
  return names.map((n) => {
    const f = all[n];
    if (!f) throw new Error(`unknown probe config ${n}; use ${Object.keys(all).join(', ')}`);
    return f();
  });
}

/** Seeded subsample of `k` of `n` indices. */
function subsample(n: number, k: number, seed: string): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k).sort((a, b) => a - b);
}

/** Block names present in every fingerprint with one length. */
function commonBlocks(blocks: Record<string, Float32Array>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, b] of Object.entries(blocks[0])) {
    if (blocks.every((x) => x[name] && x[name].length === b.length)) out[name] = b.length;
  }
  return out;
}

interface RefSet {
  name: string;
  idx: number[];
}

function channelsForCandidate(c: Candidate, sizes: Record<string, number>, nRefs: number): string[] {
  return selectChannels(sizes, nRefs, {
    prefixes: c.prefixes,
    detectors: c.detectors,
    separateTests: false,
    ...(c.blockDetectors ? { blockDetectors: c.blockDetectors } : {}),
  }).map((ch) => channelKey(ch.representation, ch.detector));
}

function comboMetrics(
  runs: Map<string, ChannelRun>,
  keys: string[],
  c: Candidate,
  tests: ZooModel[],
  testFps: Fingerprint[],
): { metrics: Metrics; p: Float64Array } | null {
  const chosen = keys.map((k) => runs.get(k));
  if (chosen.length === 0 || chosen.some((x) => x === undefined)) return null;
  const combo = runCombo(chosen as ChannelRun[], c.rule);
  if (!c.verdict)
    return { metrics: evaluate(tests, surprise(combo.testP), combo.testP, combo.rankFloor), p: combo.testP };
  // what `scan` reports (src/score/final.ts), under the shipped trigger policy or under Bonferroni
  const policy = c.verdict === 'scan' ? TRIGGER_POLICY_WITH_BASELINE : c.verdict;
  // the trigger score's p among the references, as scan passes it (src/score/final.ts), when the combo has it
  const refTrigger = runs.get(TRIGGER_REFERENCE_CHANNEL);
  // the separate tests scan adds (src/baseline/config.ts SEPARATE_TEST_CHANNELS), when they were run
  const separate = SEPARATE_TEST_CHANNELS.map((t) =>
    runs.get(channelKey(t.representation, t.detector)),
  ).filter((r): r is ChannelRun => r !== undefined);
  const verdicts = Array.from(combo.testP, (pe, i) =>
    finalVerdict(
      pe,
      testFps[i],
      policy,
      keys.includes(TRIGGER_REFERENCE_CHANNEL) ? refTrigger?.testP[i] : undefined,
      c.verdict === 'scan' ? Object.fromEntries(separate.map((r) => [r.key, r.testP[i]])) : {},
    ),
  );
  const p = Float64Array.from(verdicts, (v) => v.pValue);
  const floor = (verdicts[0]?.combined.length ?? FINAL_TESTS) * combo.rankFloor;
  return { metrics: evaluate(tests, surprise(p), p, floor), p };
}

async function main(): Promise<void> {
  const started = Date.now();
  if (process.argv.includes('--report-only')) {
    // re-render detect.md from detect.json (after a change to the report's layout)
    const dir = path.resolve(ROOT, arg('out', 'bench/results'));
    const saved = JSON.parse(readFileSync(path.join(dir, 'detect.json'), 'utf8')) as DetectResults;
    writeFileSync(path.join(dir, 'detect.md'), writeReport(saved));
    return;
  }
  const zooDir = path.resolve(ROOT, arg('zoo', 'bench/.cache/zoo'));
  const outDir = path.resolve(ROOT, arg('out', 'bench/results'));
  const draws = Number(arg('draws', '5'));
  const cacheRoot = path.resolve(ROOT, 'bench/.cache/detect');
  const zoo = loadZoo(zooDir);
  if (!zoo.models.length) throw new Error(`no zoo models under ${zooDir}; run npm run bench:zoo first`);
  const configs = probeConfigs(arg('configs', 'default,samples').split(','), cacheRoot);
  const codeHash = arg('code', fingerprintCodeHash(ROOT));
  const cachedOnly = process.argv.includes('--cached-only');
  const reuse = process.argv.includes('--reuse-cache');
  log(`zoo ${zooDir}: ${zoo.models.length} models (manifest: ${zoo.fromManifest}); code ${codeHash}`);

  const fpRuns: Record<string, FingerprintRun> = {};
  for (const cfg of configs) {
    fpRuns[cfg.name] = await fingerprintZoo(zoo.models, cfg, cacheRoot, codeHash, log, reuse, cachedOnly);
    const r = fpRuns[cfg.name];
    log(`${cfg.name}: ${r.computed} fingerprinted, ${r.cached} cached, ${(r.millis / 1000).toFixed(1)} s`);
  }

  if (cachedOnly)
    zoo.models = zoo.models.filter((m) => configs.every((c) => fpRuns[c.name].fingerprints.has(m.id)));
  const archs = [...new Set(zoo.models.map((m) => m.arch))].sort();
  const grid = [
    shippedDefault(),
    previousDefault(),
    shippedOtherPolicy(),
    ...tierCandidates(),
    ...candidateGrid(),
  ];
  const results: DetectResults = {
    generatedAt: new Date().toISOString(),
    zoo: { dir: path.relative(ROOT, zooDir), fromManifest: zoo.fromManifest, models: zoo.models.length },
    machine: { cpus: os.cpus().length, loadAvg: os.loadavg() },
    codeHash,
    draws,
    subsampleSize: SUBSAMPLE_SIZE,
    pHigh: P_HIGH,
    configs: configs.map((c) => ({
      name: c.name,
      note: c.note,
      engine: c.engine,
      fingerprintMs: fpRuns[c.name].millis,
      cacheDir: path.relative(ROOT, fpRuns[c.name].dir),
      computed: fpRuns[c.name].computed,
      cached: fpRuns[c.name].cached,
      triggerSource: fpRuns[c.name].triggerSource,
    })),
    archs: {},
    timings: {},
  };

  for (const arch of archs) {
    const refs = zoo.models.filter((m) => m.arch === arch && m.split === 'reference' && m.label === 'clean');
    const tests = zoo.models.filter((m) => m.arch === arch && m.split === 'test');
    const nBad = tests.filter((m) => m.label === 'backdoor').length;
    const nClean = tests.length - nBad;
    if (refs.length < 5 || nBad === 0 || nClean === 0) {
      log(`${arch}: ${refs.length} refs, ${nClean} clean / ${nBad} backdoored tests: skipped`);
      continue;
    }
    const archRes: ArchResult = {
      references: refs.length,
      testClean: nClean,
      testBackdoor: nBad,
      tests: tests.map((m) => ({
        id: m.id,
        label: m.label,
        attack: m.attack,
        poisonRate: m.poisonRate,
        asr: m.asr,
      })),
      configs: {},
    };
    results.archs[arch] = archRes;
    for (const cfg of configs) {
      const t0 = Date.now();
      const fps = fpRuns[cfg.name].fingerprints;
      const fpOf = (m: ZooModel): Fingerprint => fps.get(m.id) as Fingerprint;
      const refBlocks = refs.map((m) => ensembleBlocks(fpOf(m)));
      const testBlocks = tests.map((m) => ensembleBlocks(fpOf(m)));
      const sizes = commonBlocks([...refBlocks, ...testBlocks]);
      delete sizes[BENCH_TRIGGER_MARK];
      const refSets: RefSet[] = [{ name: 'all', idx: refs.map((_, i) => i) }];
      if (refs.length > SUBSAMPLE_SIZE)
        for (let d = 0; d < draws; d++)
          refSets.push({
            name: `n${SUBSAMPLE_SIZE}#${d}`,
            idx: subsample(refs.length, SUBSAMPLE_SIZE, `detect-${arch}-${d}`),
          });

      const detectors = cfg.name === 'default' ? BLOCK_DETECTORS : ALT_CONFIG_DETECTORS;
      const channelMetrics: Record<string, { all: Metrics; sub: Metrics | null; fitMs: number }> = {};
      const runsBySet: Map<string, ChannelRun>[] = [];
      const fitMsByDetector: Record<string, number> = {};
      for (const rs of refSets) {
        const runs = new Map<string, ChannelRun>();
        for (const [block, size] of Object.entries(sizes)) {
          const X = stack(rs.idx.map((i) => refBlocks[i][block]));
          const Y = stack(testBlocks.map((b) => b[block]));
          // a separate test's block is run with that test's channel only (thousands of features; the other
          // detectors are not candidates on it)
          const own = SEPARATE_TEST_CHANNELS.find((t) => t.representation === block);
          const dets: DetectorName[] = own
            ? [own.detector]
            : block === NAIVE_BLOCK
              ? NAIVE_DETECTORS
              : isSelfCheckBlock(block, size)
                ? ['identity']
                : detectors;
          for (const det of dets) {
            try {
              const run = runChannel(
                {
                  block,
                  detector: det,
                  params: own ? { ...own.params } : detectorParams(det, rs.idx.length),
                },
                X,
                Y,
              );
              runs.set(run.key, run);
              if (rs.name === 'all') fitMsByDetector[det] = (fitMsByDetector[det] ?? 0) + run.millis;
            } catch (e) {
              log(`${arch}/${cfg.name}/${rs.name}: ${det}@${block} failed: ${(e as Error).message}`);
            }
          }
        }
        runsBySet.push(runs);
      }
      for (const key of runsBySet[0].keys()) {
        const m = (runs: Map<string, ChannelRun>) => {
          const r = runs.get(key);
          return r ? evaluate(tests, r.testScore, r.testP) : null;
        };
        const subs = runsBySet
          .slice(1)
          .map(m)
          .filter((x): x is Metrics => x !== null);
        channelMetrics[key] = {
          all: m(runsBySet[0]) as Metrics,
          sub: subs.length ? meanMetrics(subs) : null,
          fitMs: runsBySet[0].get(key)?.millis ?? 0,
        };
      }

      const candidates: Record<string, MethodResult> = {};
      for (const c of grid) {
        const per = runsBySet.map((runs, s) => {
          const keys = channelsForCandidate(c, sizes, refSets[s].idx.length);
          return comboMetrics(runs, keys, c, tests, tests.map(fpOf));
        });
        if (per.some((x) => x === null)) continue;
        const ok = per as { metrics: Metrics; p: Float64Array }[];
        candidates[c.name] = {
          rule: combineLabel(c.rule),
          prefixes: c.prefixes,
          detectors: c.detectors,
          channels: channelsForCandidate(c, sizes, refs.length).length,
          all: ok[0].metrics,
          sub: ok.length > 1 ? meanMetrics(ok.slice(1).map((x) => x.metrics)) : null,
          // per-model p-values only for the shipped and the previous default (the report's per-cell table)
          pAll: c === grid[0] || c === grid[1] || c === grid[2] ? Array.from(ok[0].p) : [],
        };
      }

      // the rebuild must equal the real ensemble: fit the shipped channel list with fitEnsemble (Fisher)
      let verification: ArchResult['configs'][string]['verification'] = null;
      if (cfg.name === configs[0].name) {
        const tv = Date.now();
        const config = baselineEnsembleConfig(refBlocks[0], refs.length);
        const keep = new Set(Object.keys(sizes));
        config.channels = config.channels.filter((ch) => keep.has(ch.representation));
        const state = fitEnsemble(
          refBlocks,
          refs.map((m) => m.id),
          config,
        );
        const fitMs = Date.now() - tv;
        const ts = Date.now();
        const real = testBlocks.map((b) => scoreEnsemble(state, b).pValue);
        const scoreMs = (Date.now() - ts) / tests.length;
        // separate tests are not in the ensemble's combined p (src/score/ensemble.ts)
        const keys = config.channels
          .filter((ch) => !ch.separate)
          .map((ch) => channelKey(ch.representation, ch.detector));
        const rebuilt = runCombo(
          keys.map((k) => runsBySet[0].get(k) as ChannelRun),
          { rule: 'fisher' },
        );
        let maxRelDiff = 0;
        real.forEach((p, i) => (maxRelDiff = Math.max(maxRelDiff, Math.abs(p - rebuilt.testP[i]) / p)));
        verification = { channels: keys.length, maxRelDiff, fitMs, scoreMsPerModel: scoreMs };
        log(
          `${arch}/${cfg.name}: real ensemble vs rebuild: max relative p difference ${maxRelDiff.toExponential(2)}`,
        );
      }

      // reference-free: each self-check's score alone (no references), and the trigger p-value
      const referenceFree: Record<string, Metrics> = {};
      const selfNames = Object.keys(fpOf(tests[0]).selfChecks).filter((n) =>
        tests.every((m) => fpOf(m).selfChecks[n] !== undefined),
      );
      for (const n of selfNames) {
        const scores = tests.map((m) => fpOf(m).selfChecks[n].score);
        if (n === 'trigger') {
          // the trigger test's own p-value (its class anomaly, no zoo null), as scan uses it (src/score/final.ts)
          const p = tests.map((m) => fpOf(m).selfChecks[n].pValue ?? 1);
          referenceFree[n] = evaluate(tests, surprise(p), p);
        } else {
          referenceFree[n] = evaluate(tests, scores);
        }
      }
      // The same with every clean model as a negative: a reference-free check never uses the reference
      // models, so they are 80 more clean models it has not seen (only the trigger test's null was fitted on
      // them, which does not move an AUROC); 20 clean test models alone give a noisy, optimistic estimate.
      const allModels = [...refs, ...tests];
      const trigAll = allModels.filter((m) => fpOf(m).selfChecks.trigger !== undefined);
      const referenceFreeAllClean: Record<string, Metrics> =
        trigAll.length === allModels.length
          ? {
              trigger: evaluate(
                allModels,
                allModels.map((m) => fpOf(m).selfChecks.trigger.score),
              ),
            }
          : {};

      archRes.configs[cfg.name] = {
        blocks: sizes,
        channels: channelMetrics,
        candidates,
        naive: Object.fromEntries(
          NAIVE_DETECTORS.map((d) => [d, channelMetrics[channelKey(NAIVE_BLOCK, d)] ?? null]),
        ),
        referenceFree,
        referenceFreeAllClean,
        verification,
        fitMsByDetector,
        millis: Date.now() - t0,
      };
      log(
        `${arch}/${cfg.name}: ${Object.keys(channelMetrics).length} channels x ${refSets.length} reference sets, ${Object.keys(candidates).length} candidates, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
    }
  }
  results.timings = { totalMs: Date.now() - started };
  results.ranking = rankCandidates(results, configs[0].name);
  mkdirSync(outDir, { recursive: true });
  const compact = (_k: string, v: unknown): unknown =>
    typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v;
  writeFileSync(path.join(outDir, 'detect.json'), JSON.stringify(results, compact, 1) + '\n');
  writeFileSync(path.join(outDir, 'detect.md'), writeReport(results));
  log(
    `wrote ${path.relative(ROOT, outDir)}/detect.json and detect.md in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
