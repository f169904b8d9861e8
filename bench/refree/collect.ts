/**
 * Runs the product's reference-free checks on one bench model and keeps everything the scores read, so the
 * scoring (src/selfcheck/class-anomaly.ts, src/fingerprint/final-layer-anomaly.ts) can be re-run and
 * compared offline without probing again: trigger probing exactly as the scan runs it (runTriggerCheck on
 * the probe set a scan builds, with the domain's samples or, without them, the per-model mined base), and
 * the final layer's per-class row features. Cached per zoo, base and model under bench/.cache/refree/,
 * keyed by a hash of the code that computes them.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readModel } from '../../src/model/read.js';
import { generateProbes } from '../../src/probes/generate.js';
import type { ProbeSpec } from '../../src/probes/types.js';
import { runTriggerCheck } from '../../src/fingerprint/trigger-check.js';
import { planBudget, type ScanBudget } from '../../src/fingerprint/budget.js';
import { findFinalLinear } from '../../src/fingerprint/final-layer.js';
import { finalRowFeatures } from '../../src/fingerprint/final-layer-features.js';
import { sha256Hex } from '../../src/util/hash.js';
import type { TriggerKind } from '../../src/selfcheck/triggers.js';
import type { SelfCheck } from '../../src/fingerprint/types.js';
import type { BenchModel } from './zoos.js';

export type Base = 'samples' | 'mined';

export interface StoredCell {
  candidates: number;
  typicalGain: number[];
  typicalFlip: number[];
  spreadGain: number[];
  bestGain: number[];
  bestFlip: number[];
  maxFlip: number[];
  mapping: {
    changed: number;
    consistent: number;
    spread: number;
    score: number;
    /** Absent in rows collected before it was recorded. */
    sources?: number;
    location: string;
  } | null;
}

/** What one probing of one model left: the rows the scores are computed from. */
export interface ProbeRow {
  model: Omit<BenchModel, 'file' | 'samplesDir' | 'normalize'>;
  base: Base | NonNullable<SelfCheck['basis']>;
  classes: number;
  /** The self-check as the collecting code made it (its score, class and reported trigger). */
  old: { score: number; target: number | null; flipRate: number; kind: string; location: string } | null;
  /**
   * The score before this work (the largest per-class RMS of per-tier gain z's) and its class, on the same
   * probing; absent in rows collected by code whose self-check score still was that score (`old`).
   */
  rms?: { score: number; target: number };
  families: { family: TriggerKind; tierGain: number[]; tierFlip: number[] }[];
  cells: Partial<Record<TriggerKind, StoredCell[]>>;
  clean: { share: number[]; runnerUp: number[]; gap: number[] } | null;
  logitScale: number;
  /** finalRowFeatures, class-major, or null when the final layer was not found. */
  rowFeatures: number[] | null;
  ms: number;
  passes: number;
}

const CODE = [
  'src/selfcheck',
  'src/fingerprint/trigger-check.ts',
  'src/fingerprint/final-layer.ts',
  'src/fingerprint/final-layer-features.ts',
  'src/probes',
];

function listTs(p: string): string[] {
  if (!existsSync(p)) return [];
  if (p.endsWith('.ts')) return [p];
  return readdirSync(p)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => path.join(p, f));
}

/** Hash of the code whose output the cache holds; scoring code (class-anomaly.ts etc.) is excluded. */
export function collectCodeHash(root: string): string {
  const skip = new Set([
    'class-anomaly.ts',
    'final-layer-anomaly.ts',
    'reference-free-p.ts',
    'max-z-null.ts',
    'max-z-table.ts',
  ]);
  const files = CODE.flatMap((c) => listTs(path.join(root, c))).filter((f) => !skip.has(path.basename(f)));
  return sha256Hex(files.map((f) => `${f}\n${readFileSync(f, 'utf8')}`).join('\0')).slice(0, 12);
}

const r4 = (v: number): number => Math.round(v * 1e4) / 1e4;
const arr = (a: ArrayLike<number>): number[] => Array.from(a, r4);

function cacheFile(m: BenchModel, base: Base, cacheDir: string): string {
  return path.join(cacheDir, m.zoo, base, `${m.id}.json`);
}

/** The model's cached row, or null when it was not collected yet. */
export function cached(m: BenchModel, base: Base, cacheDir: string): ProbeRow | null {
  const file = cacheFile(m, base, cacheDir);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ProbeRow;
  } catch {
    return null; // a write cut short by an interrupted collection: collect it again
  }
}

/** `budget`: the scan budget setting to plan the probing with (the scan's default when absent). */
export async function collect(
  m: BenchModel,
  base: Base,
  cacheDir: string,
  budget?: ScanBudget,
): Promise<ProbeRow> {
  const file = cacheFile(m, base, cacheDir);
  const hit = cached(m, base, cacheDir);
  if (hit) return hit;
  const model = await readModel(m.file);
  const spec: ProbeSpec = {
    ...(base === 'samples' && m.samplesDir ? { samplesDir: m.samplesDir } : {}),
    ...(m.normalize ? { normalize: m.normalize } : {}),
  };
  const probes = generateProbes(model.inputs, spec, { file: m.file });
  const classes = Number(model.outputs[0]?.shape.at(-1));
  const t0 = performance.now();
  const found = await runTriggerCheck(
    model,
    probes,
    classes,
    budget ? { plan: planBudget(model, probes, budget) } : {},
  );
  // image models only (the collection has no text models): the image probing's tables
  const trig = found && 'candidateStats' in found.probe ? { ...found, probe: found.probe } : null;
  const ms = performance.now() - t0;
  const fl = findFinalLinear(model);
  const { file: _f, samplesDir: _s, normalize: _n, ...info } = m;
  const row: ProbeRow = {
    model: info,
    base: trig?.selfCheck.basis ?? base,
    classes,
    old: trig
      ? {
          score: r4(trig.selfCheck.score),
          target: trig.selfCheck.targetClass ?? null,
          flipRate: r4(trig.selfCheck.trigger?.flipRate ?? 0),
          kind: trig.selfCheck.trigger?.kind ?? '',
          location: trig.selfCheck.trigger?.location ?? '',
        }
      : null,
    ...(trig
      ? {
          rms: {
            score: r4(Math.max(...trig.probe.classScores)),
            target: trig.probe.classScores.indexOf(Math.max(...trig.probe.classScores)),
          },
        }
      : {}),
    families: trig
      ? trig.probe.families.map((f) => ({
          family: f.family,
          tierGain: arr(f.tierGain),
          tierFlip: arr(f.tierFlip),
        }))
      : [],
    cells: trig
      ? Object.fromEntries(
          [...trig.probe.candidateStats.cells].map(([f, cells]) => [
            f,
            cells.map((c) => ({
              candidates: c.candidates,
              typicalGain: arr(c.typicalGain),
              typicalFlip: arr(c.typicalFlip),
              spreadGain: arr(c.spreadGain),
              bestGain: arr(c.bestGain),
              bestFlip: arr(c.bestFlip),
              maxFlip: arr(c.maxFlip),
              mapping: c.mapping
                ? {
                    changed: r4(c.mapping.changed),
                    consistent: r4(c.mapping.consistent),
                    spread: r4(c.mapping.spread),
                    score: r4(c.mapping.score),
                    sources: c.mapping.sources,
                    location: c.mapping.location,
                  }
                : null,
            })),
          ]),
        )
      : {},
    clean: trig
      ? {
          share: arr(trig.probe.candidateStats.clean.share),
          runnerUp: arr(trig.probe.candidateStats.clean.runnerUp),
          gap: arr(trig.probe.candidateStats.clean.gap),
        }
      : null,
    logitScale: trig ? r4(trig.probe.logitScale) : 1,
    rowFeatures: fl ? arr(finalRowFeatures(fl)) : null,
    ms: Math.round(ms),
    passes: trig?.forwardPasses ?? 0,
  };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(row));
  return row;
}
