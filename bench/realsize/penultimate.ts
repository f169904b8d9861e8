/**
 * `npx tsx bench/realsize/penultimate.ts --zoo DIR [--extra-tests DIR] [--out FILE]`: a diagnosis, not a check
 * of the tool: would the penultimate activations (the final linear layer's input) on the 128 probe samples
 * have told the backdoored real-size models from the clean ones, against the long-recipe references? Asked for
 * the frozen-head attacker (train.py --head frozen: the classifier rows are the base's, so the final-layer
 * check has nothing to see; bench/realsize/findings.md "Frozen head").
 *
 * Per model: ONNX Runtime on the probe samples with the final Gemm's input exposed (src/model/session.ts
 * runProbes), each unit's mean and standard deviation over the samples (2 x 128 values at quarter width). Per
 * feature the references' median and MAD give a robust z; a model's score is the root mean square of its z
 * (differs everywhere a little) and its largest |z| (differs in one place), each also ranked among the
 * references' own leave-one-out scores. Units are comparable across these models only because every one is
 * a fine-tune of one base (the tool never reads raw hidden units: independently trained nets permute them;
 * src/baseline/config.ts). AUROC of each score: clean test models against each backdoored set.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readModel } from '../../src/model/read.js';
import { runProbes } from '../../src/model/session.js';
import { auroc } from '../../src/score/metrics.js';
import { option } from '../lib/args.js';
import { probeTensor } from './probe-tensor.js';
import { readArchManifests, type RealsizeManifest, type RealsizeModel } from './manifest.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Per unit mean and standard deviation of the final linear layer's input over the probe samples. */
async function penultimate(file: string, probes: { data: Float32Array; count: number }): Promise<number[]> {
  const model = await readModel(file);
  const gemm = [...model.proto.graph!.node!]
    .reverse()
    .find((n) => n.opType === 'Gemm' || n.opType === 'MatMul');
  if (!gemm) throw new Error(`${file}: no final Gemm/MatMul`);
  const layer = gemm.input![0];
  const res = await runProbes(
    model,
    {
      count: probes.count,
      inputs: [
        { name: 'input', dtype: 'float32', sampleShape: [3, 32, 32], batch: 'dynamic', data: probes.data },
      ],
    },
    { layers: [layer], threads: 1 },
  );
  const t = res.tensors.get(layer);
  if (!t) throw new Error(`${file}: ${layer} was not captured`);
  const d = t.data.length / probes.count;
  const feat: number[] = [];
  for (let j = 0; j < d; j++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < probes.count; i++) {
      const v = t.data[i * d + j];
      s += v;
      s2 += v * v;
    }
    const m = s / probes.count;
    feat.push(m, Math.sqrt(Math.max(0, s2 / probes.count - m * m)));
  }
  return feat;
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

/** Robust z of x against the rows of refs, per feature (MAD scaled to a normal's sd, floored). */
function zs(x: number[], refs: number[][]): number[] {
  return x.map((v, j) => {
    const col = refs.map((r) => r[j]);
    const med = median(col);
    const mad = 1.4826 * median(col.map((c) => Math.abs(c - med)));
    return (v - med) / Math.max(mad, 1e-6);
  });
}

function scores(x: number[], refs: number[][]): { rms: number; maxAbs: number } {
  const z = zs(x, refs);
  return {
    rms: Math.sqrt(z.reduce((s, v) => s + v * v, 0) / z.length),
    maxAbs: Math.max(...z.map(Math.abs)),
  };
}

async function main(): Promise<void> {
  const zoo = path.resolve(option('--zoo') ?? path.join(ROOT, 'bench', '.cache', 'realsize-zoo'));
  const manifest = JSON.parse(readFileSync(path.join(zoo, 'manifest.json'), 'utf8')) as RealsizeManifest;
  const extraDir = option('--extra-tests');
  const extra = extraDir
    ? [...readArchManifests(path.resolve(extraDir)).values()]
        .filter((m) => m.split === 'test')
        .map((m) => ({ ...m, file: path.resolve(extraDir, m.file) }))
    : [];
  const outFile = path.resolve(
    option('--out') ?? path.join(ROOT, 'bench', 'results', 'realsize-penultimate.json'),
  );
  const t = probeTensor(manifest.data.dir);
  const probes = { data: t.data as Float32Array, count: t.dims[0] };
  const refs = manifest.models.filter((m) => m.split === 'reference' && m.recipe === 'long');
  const tests = [...manifest.models.filter((m) => m.split === 'test'), ...extra];
  const feat = async (m: RealsizeModel) => penultimate(path.resolve(zoo, m.file), probes);
  const refF: number[][] = [];
  for (const m of refs) refF.push(await feat(m));
  // the references' own scores, each against the other 19: the null a model's score is ranked in
  const loo = refF.map((f, i) =>
    scores(
      f,
      refF.filter((_, k) => k !== i),
    ),
  );
  const rankP = (v: number, key: 'rms' | 'maxAbs') =>
    (1 + loo.filter((s) => s[key] >= v).length) / (1 + loo.length);
  const rows: Record<string, unknown>[] = [];
  for (const m of tests) {
    const s = scores(await feat(m), refF);
    const head =
      (m as unknown as { head?: { mode: string } }).head?.mode ?? (m.label === 'backdoor' ? 'free' : null);
    rows.push({
      id: m.id,
      label: m.label,
      attack: m.attack,
      head,
      ...s,
      pRms: rankP(s.rms, 'rms'),
      pMaxAbs: rankP(s.maxAbs, 'maxAbs'),
    });
    console.error(`${m.id}: rms z ${s.rms.toFixed(2)}, max |z| ${s.maxAbs.toFixed(1)}`);
  }
  // the zoo's own clean test models (clean controls made under a head rule are listed, not pooled)
  const clean = rows.filter((r) => r.label === 'clean' && r.head === null);
  const aucs: Record<string, { rms: number; maxAbs: number; n: number }> = {};
  for (const h of ['free', 'frozen', 'anchored']) {
    const bd = rows.filter((r) => r.head === h && r.label === 'backdoor');
    if (!bd.length) continue;
    const lab = [...clean.map(() => 0), ...bd.map(() => 1)];
    const of = (k: string) =>
      auroc(
        lab,
        [...clean, ...bd].map((r) => r[k] as number),
      );
    aucs[h] = { rms: of('rms'), maxAbs: of('maxAbs'), n: bd.length };
    console.error(
      `AUROC clean vs ${h}-head backdoored (${bd.length}): rms ${aucs[h].rms.toFixed(3)}, max |z| ${aucs[h].maxAbs.toFixed(3)}`,
    );
  }
  writeFileSync(
    outFile,
    JSON.stringify(
      { generatedAt: new Date().toISOString(), refs: refs.length, leaveOneOut: loo, auroc: aucs, rows },
      null,
      1,
    ) + '\n',
  );
  console.error(`wrote ${path.relative(ROOT, outFile)}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
