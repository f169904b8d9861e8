/**
 * The opt-in no-baseline verdict with trigger inversion (`scan --inversion --probe-samples DIR`) on real-size
 * test models, as a user runs it: one CLI scan's JSON report, labelled from the zoos' manifests, summarised per
 * model and per head family, beside the shipped verdict (trigger probing and the final-layer rows only)
 * recomputed from the same scan's per-check p with the same combiner (src/score/no-baseline.ts), so the two
 * verdicts differ only by the inversion's p.
 *
 *   node bin/model-fingerprint.js scan ZOO1/resnet18/*.onnx ZOO2/resnet18/*.onnx \
 *     --probe-samples /work/cache/data/gtsrb/probe-samples --inversion --format json --output SCAN.json --fail-on never
 *   npx tsx bench/realsize/inversion-verdict.ts --scan SCAN.json --zoos ZOO1/resnet18,ZOO2/resnet18 [--tag T]
 *     -> bench/results/realsize-inversion-verdict[-T].{json,md}
 *
 * Nothing is chosen here: the inversion's null and weight were frozen on the dev set (bench/realsize/findings.md,
 * "Trigger inversion by gradient"); models of the dev set must not be passed (say which sets in the tag).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { auroc } from '../../src/score/metrics.js';
import { combineNoBaseline, type NoBaselineCheck } from '../../src/score/no-baseline.js';
import { levelOf, riskScore } from '../../src/score/risk.js';
import type { ArchManifest, RealsizeModel } from './manifest.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The report's detector names of the no-baseline checks (src/score/reference-free.ts). */
const DETECTOR_OF: Record<NoBaselineCheck, string> = {
  trigger: 'trigger-probe',
  'weight-outlier': 'final-layer',
  inversion: 'trigger-inversion',
};

interface ScannedRow {
  path: string;
  riskScore?: number;
  riskLevel?: string;
  explanation?: { suspectedTargetClass?: number };
  detectors?: Record<string, { pValue?: number; targetClass?: number }>;
  error?: string;
}

interface Row {
  id: string;
  label: 'clean' | 'backdoor';
  family: string;
  target: number | null;
  optIn: { risk: number; level: string; suspect: number | null };
  shipped: { risk: number; level: string };
  p: Partial<Record<NoBaselineCheck, number>>;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function familyOf(m: RealsizeModel): string {
  const head = m.id.includes('frozenfc')
    ? 'frozen head'
    : m.id.includes('anchoredfc')
      ? 'anchored head'
      : 'free head';
  return m.label === 'clean' ? `clean (${head})` : `${m.attack} (${head})`;
}

function main(): void {
  const scanFile = arg('--scan');
  const zoos = arg('--zoos')?.split(',');
  if (!scanFile || !zoos) {
    console.error('usage: inversion-verdict.ts --scan SCAN.json --zoos DIR[,DIR] [--tag T]');
    process.exit(2);
  }
  const tag = arg('--tag');
  const byFile = new Map<string, RealsizeModel>();
  for (const dir of zoos) {
    const man = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as ArchManifest;
    // by file name: a manifest's paths are relative to the zoo's root, not its own folder
    for (const m of man.models) if (m.file) byFile.set(path.basename(m.file), m);
  }
  const report = JSON.parse(readFileSync(scanFile, 'utf8')) as { models: ScannedRow[] };
  const rows: Row[] = [];
  for (const s of report.models) {
    const m = byFile.get(path.basename(s.path));
    if (!m) throw new Error(`${s.path}: not in the zoos' manifests`);
    if (s.error || s.riskScore === undefined)
      throw new Error(`${s.path}: not scanned (${s.error ?? 'no risk'})`);
    const p: Partial<Record<NoBaselineCheck, number>> = {};
    for (const [check, name] of Object.entries(DETECTOR_OF) as [NoBaselineCheck, string][]) {
      const v = s.detectors?.[name]?.pValue;
      if (typeof v === 'number') p[check] = v;
    }
    const shippedChecks = (['trigger', 'weight-outlier'] as const).filter((c) => p[c] !== undefined);
    const shippedP = combineNoBaseline(
      shippedChecks.map((c) => ({ check: c, pValue: p[c] as number })),
    ).pValue;
    const risk = riskScore(shippedP);
    // the same combiner over all three checks must give the CLI's own risk, or the p read here are not the verdict's
    const all = (Object.keys(DETECTOR_OF) as NoBaselineCheck[]).filter((c) => p[c] !== undefined);
    const again = riskScore(combineNoBaseline(all.map((c) => ({ check: c, pValue: p[c] as number }))).pValue);
    if (again !== s.riskScore) throw new Error(`${m.id}: recombined risk ${again}, the CLI's ${s.riskScore}`);
    rows.push({
      id: m.id,
      label: m.label,
      family: familyOf(m),
      target: m.targetClass,
      optIn: {
        risk: s.riskScore,
        level: s.riskLevel ?? levelOf(s.riskScore),
        suspect: s.explanation?.suspectedTargetClass ?? null,
      },
      shipped: { risk, level: levelOf(risk) },
      p,
    });
  }
  const summary = (which: 'optIn' | 'shipped') => {
    const clean = rows.filter((r) => r.label === 'clean');
    const bd = rows.filter((r) => r.label === 'backdoor');
    return {
      auroc: auroc(
        rows.map((r) => (r.label === 'backdoor' ? 1 : 0)),
        rows.map((r) => r[which].risk),
      ),
      cleanHigh: clean.filter((r) => r[which].level === 'high').length,
      cleanMediumOrHigh: clean.filter((r) => r[which].level !== 'low').length,
      clean: clean.length,
      backdoorHigh: bd.filter((r) => r[which].level === 'high').length,
      backdoors: bd.length,
    };
  };
  const out = { scan: path.basename(scanFile), optIn: summary('optIn'), shipped: summary('shipped'), rows };
  const name = `realsize-inversion-verdict${tag ? `-${tag}` : ''}`;
  writeFileSync(path.join(ROOT, 'bench', 'results', `${name}.json`), JSON.stringify(out, null, 1) + '\n');
  const f = (p?: number) => (p === undefined ? '-' : p < 1e-3 ? p.toExponential(1) : p.toFixed(3));
  const line = (label: string, s: ReturnType<typeof summary>) =>
    `| ${label} | ${s.auroc.toFixed(3)} | ${s.cleanHigh} / ${s.clean} | ${s.cleanMediumOrHigh} / ${s.clean} | ${s.backdoorHigh} / ${s.backdoors} |`;
  const md = [
    `# scan --inversion with the 128 samples, no baseline (${tag ?? 'real-size test models'})`,
    '',
    "One CLI scan (`scan --inversion --probe-samples`); the shipped verdict recomputed from the same scan's trigger-probing and final-layer p (src/score/no-baseline.ts), so the two differ only by the inversion. `npx tsx bench/realsize/inversion-verdict.ts` (its header gives the commands).",
    '',
    '| verdict | AUROC (risk) | clean high | clean medium or high | backdoored high |',
    '|---|---:|---:|---:|---:|',
    line('shipped (trigger probing + final-layer rows)', out.shipped),
    line('opt-in `--inversion` (+ trigger inversion, weight 1)', out.optIn),
    '',
    '| model | family | target | p trigger probing | p final-layer | p inversion | shipped | opt-in (suspect) |',
    '|---|---|---:|---:|---:|---:|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.id} | ${r.family} | ${r.target ?? ''} | ${f(r.p.trigger)} | ${f(r.p['weight-outlier'])} | ${f(r.p.inversion)} | ${r.shipped.risk} ${r.shipped.level} | ${r.optIn.risk} ${r.optIn.level} (${r.optIn.suspect ?? '-'}) |`,
    ),
    '',
  ].join('\n');
  writeFileSync(path.join(ROOT, 'bench', 'results', `${name}.md`), md);
  console.log(md);
}

main();
