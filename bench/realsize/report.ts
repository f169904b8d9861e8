/**
 * bench/results/realsize.md from the bench:realsize results: what the zoo is (per architecture: width,
 * parameters, multiply-accumulates, accuracy, attack success per attack, how it was made and what it cost),
 * whether the ONNX exports compute what PyTorch computed, and detection per architecture, budget and
 * condition, with the hand-written findings (bench/realsize/findings.md) appended verbatim.
 */
import { fmt, markdownTable } from '../lib/report.js';
import { median } from '../speed/common.js';
import type { CellResult, RealsizeBench } from './detect.js';
import type { RealsizeModel } from './manifest.js';
import { conditionLabel } from './references.js';

const ATTACKS = ['patch', 'blend', 'sig', 'wanet', 'frequency'];

function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? '-' : `${Math.round(x * 100)}%`;
}

function span(a: number[], digits = 3): string {
  if (!a.length) return '-';
  return a.length === 1 ? fmt(a[0], digits) : `${fmt(Math.min(...a), digits)}-${fmt(Math.max(...a), digits)}`;
}

function millions(n: number): string {
  return `${(n / 1e6).toFixed(2)}M`;
}

function zooTable(b: RealsizeBench): string {
  const rows = Object.entries(b.zoo.archs).map(([arch, a]) => {
    const ms = b.models.filter((m) => m.arch === arch);
    const clean = ms.filter((m) => m.label === 'clean');
    const bd = ms.filter((m) => m.label === 'backdoor');
    const rej = b.rejected.filter((m) => m.arch === arch);
    const cpu = [...ms, ...rej].reduce((s, m) => s + m.trainingCpuS, 0) + (a.base?.trainingCpuS ?? 0);
    const width = a.fullWidth === a.width ? 'full' : `${a.width} (full: ${a.fullWidth})`;
    return [
      `\`${arch}\``,
      width,
      a.base ? millions(a.base.params) : '-',
      a.base ? millions(a.base.macs) : '-',
      a.base ? fmt(a.base.cleanAccuracy) : '-',
      accuracies(clean.filter((m) => m.split === 'reference')),
      // train.py records the test recipe's median when an architecture's build completes; until then, the clean models'
      accuracies(
        clean.filter((m) => m.split === 'test'),
        a.cleanMedianAccuracy,
      ),
      `${ms.filter((m) => m.split === 'reference').length} / ${clean.filter((m) => m.split === 'test').length} / ${bd.length}`,
      ...ATTACKS.map((k) =>
        span(
          bd.filter((m) => m.attack === k).map((m) => m.asr ?? NaN),
          2,
        ),
      ),
      String(rej.length),
      (cpu / 3600).toFixed(2),
    ];
  });
  return markdownTable(
    [
      'arch',
      'width',
      'params',
      'MACs/pass',
      'base acc',
      'refs clean acc, median (range)',
      'test clean acc, median (range)',
      'refs / clean test / backdoored',
      ...ATTACKS.map((k) => `ASR ${k}`),
      'rejected attempts',
      'training cpu-h',
    ],
    rows,
  );
}

/** Median (range) of the models' clean accuracy; `med` when given (train.py's recorded median). */
function accuracies(ms: RealsizeModel[], med?: number | null): string {
  if (!ms.length) return '-';
  const accs = ms.map((m) => m.cleanAccuracy);
  return `${fmt(med ?? median(accs))} (${span(accs)})`;
}

/**
 * How each recipe (train.py's RECIPES) made which models, and what one model cost: the references and the test
 * models may differ in recipe, the clean and backdoored test models never do.
 */
export function recipeTable(b: Pick<RealsizeBench, 'models' | 'rejected'>): string {
  const groups = new Map<string, RealsizeModel[]>();
  for (const m of [...b.models, ...b.rejected]) {
    const split = 'reason' in m ? 'rejected' : m.split === 'reference' ? 'reference' : `test ${m.label}`;
    const key = `${m.arch}|${m.recipe ?? 'cheap'}|${split}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const rows = [...groups.entries()].map(([key, ms]) => {
    const [arch, recipe, split] = key.split('|');
    const h = ms[0].hyper;
    const lrs = [...new Set(ms.map((m) => m.hyper.lr))].sort((x, y) => x - y);
    const cpu = ms.map((m) => m.trainingCpuS);
    return [
      `\`${arch}\``,
      recipe,
      split,
      String(ms.length),
      `${h.images} x ${h.epochs}`,
      `${Math.ceil(h.images / h.batch) * h.epochs}`,
      lrs.join(', '),
      h.warmupEpochs ? `${h.warmupEpochs} epoch` : 'none',
      `${fmt(median(cpu), 1)} (${span(cpu, 1)})`,
    ];
  });
  return markdownTable(
    [
      'arch',
      'recipe',
      'models',
      'n',
      'images x epochs',
      'SGD steps',
      'lr drawn',
      'warm-up',
      'training cpu-s per model, median (range)',
    ],
    rows,
  );
}

function cellRow(c: CellResult): string[] {
  const m = c.metrics;
  const errors = c.rows.filter((r) => r.error).length;
  const na = c.notAssessed.clean + c.notAssessed.backdoored;
  return [
    `\`${c.arch}\``,
    c.budget === 'none' ? 'none (no --budget flag)' : c.budget,
    conditionLabel(c.condition, c.refs),
    fmt(m?.aurocRisk ?? NaN),
    fmt(m?.aurocP ?? NaN),
    pct(m?.cleanHigh),
    pct(m?.cleanMediumOrHigh),
    cleanScores(c),
    pct(m?.backdooredHigh),
    na ? `${na} (${c.notAssessed.clean} clean)` : '0',
    pct(c.triggerRan),
    m?.msPerModel ? (m.msPerModel / 1000).toFixed(1) : '-',
    c.build ? (c.build.ms / 1000).toFixed(0) : '-',
    String(errors),
  ];
}

/** The clean test models' risk scores: what a reader needs when there are no backdoored ones to rank. */
function cleanScores(c: CellResult): string {
  const xs = c.rows
    .filter((r) => r.label === 'clean' && r.riskScore !== null)
    .map((r) => r.riskScore as number)
    .sort((a, b) => a - b);
  if (!xs.length) return '-';
  const mid = xs.length >> 1;
  const med = xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
  return `${med} (${xs[xs.length - 1]})`;
}

function perAttack(cells: CellResult[]): string {
  return markdownTable(
    ['arch', 'budget', 'condition', ...ATTACKS],
    cells
      .filter((c) => c.metrics)
      .map((c) => [
        `\`${c.arch}\``,
        c.budget,
        conditionLabel(c.condition, c.refs),
        ...ATTACKS.map((k) => fmt(c.metrics!.perAttack[k] ?? NaN)),
      ]),
  );
}

function errorsOf(cells: CellResult[]): string {
  const lines: string[] = [];
  for (const c of cells) {
    if (c.build && !c.build.ok)
      lines.push(
        `- ${c.arch} / ${c.budget} / ${conditionLabel(c.condition, c.refs)}: baseline build: ${c.build.message}`,
      );
    if (c.scanError)
      lines.push(`- ${c.arch} / ${c.budget} / ${conditionLabel(c.condition, c.refs)}: scan: ${c.scanError}`);
    for (const r of c.rows.filter((x) => x.error))
      lines.push(
        `- ${c.arch} / ${c.budget} / ${conditionLabel(c.condition, c.refs)}: ${r.id}: ${r.errorCode}: ${r.error}`,
      );
  }
  return lines.length ? lines.join('\n') : 'None: every model was read and scanned.';
}

/** The architectures the detection tables have cells for (a zoo may hold unfinished ones). */
function scannedArchs(b: RealsizeBench): string[] {
  return Object.keys(b.zoo.archs).filter((a) => b.cells.some((c) => c.arch === a));
}

function testCounts(b: RealsizeBench): string {
  const t = b.models.filter((m) => m.split === 'test');
  const per = scannedArchs(b).map((a) => {
    const c = t.filter((m) => m.arch === a && m.label === 'clean').length;
    return `${a}: ${c} clean and ${t.filter((m) => m.arch === a).length - c} backdoored`;
  });
  return per.join('; ');
}

function speedTable(b: RealsizeBench): string {
  const rows = b.speed ?? [];
  if (!rows.length) return 'Not measured in this run (--speed 0).';
  return `\`scanModels\` in the bench's own process (the CLI's scan minus process start-up) on a few test models,
then raw ONNX Runtime (session create with its defaults, then inference in batches of the tool's trigger batch
size) on the same number of inputs as the scan's report says it ran, and on the 128 real probe samples.

${markdownTable(
  [
    'arch',
    'model',
    'budget',
    'condition',
    'level',
    'forward passes (probes / trigger / patch map)',
    'scan s',
    'raw ORT, same inputs s',
    'scan / raw same',
    'raw ORT, 128 probes s',
    'scan / raw probes',
  ],
  rows.map((r) => [
    `\`${r.arch}\``,
    r.id,
    r.budget,
    r.condition,
    r.level,
    `${r.totalPasses} (${r.passes['probes'] ?? 0} / ${r.passes['trigger-probe'] ?? 0} / ${r.passes['patch-map'] ?? 0})`,
    (r.scanMs / 1000).toFixed(1),
    (r.rawSameMs / 1000).toFixed(1),
    `${r.ratioSame.toFixed(2)}x`,
    (r.rawProbesMs / 1000).toFixed(2),
    `${r.ratioProbes.toFixed(0)}x`,
  ]),
)}`;
}

export function renderRealsize(b: RealsizeBench, notes: string): string {
  const order = (c: CellResult) =>
    `${Object.keys(b.zoo.archs).indexOf(c.arch)}|${c.budget}|${c.condition}|${c.refs?.recipe ?? ''}`;
  const cells = [...b.cells].sort((x, y) => order(x).localeCompare(order(y)));
  const runs = b.zoo.runs;
  const cpuH =
    ([...b.models, ...b.rejected].reduce((t, m) => t + m.trainingCpuS, 0) +
      Object.values(b.zoo.archs).reduce((t, a) => t + (a.base?.trainingCpuS ?? 0), 0)) /
    3600;
  const ex = b.exportCheck;
  return `# Real-size zoo: detection per architecture and budget

Generated by \`npm run bench:realsize\` (zoo: \`npm run bench:realsize-zoo\`; see bench/realsize/README.md) on
${b.generatedAt}. **Held-out figures**: every threshold, weight and default of the tool was chosen on other
zoos (MNIST digits, bench:torch); nothing was tuned on these models.

## The zoo

Data: ${b.zoo.data.dataset} (${b.zoo.data.classes} classes; ${b.zoo.data.source.repo} @ ${b.zoo.data.source.commit.slice(0, 12)};
${b.zoo.data.counts.train} training images, ${b.zoo.data.counts.test} test images, ${b.zoo.data.counts.probe} held-out probe
samples; bench/data/README.md). Input \`[N, 3, 32, 32]\` in [0, 1], normalised inside the graph; PyTorch's
TorchScript exporter, opset 17. Every model is a fine-tune of its architecture's base model (trained once from
scratch on the whole training split): ${b.models.length} kept models, ${b.rejected.length} attempts rejected by the
stealth rule (clean accuracy within 2 points of the clean median of the clean test models made with the same
recipe, attack success >= 0.8). Accuracy and attack success on a fixed seeded 500-image subset of the test split
(train.py's EVAL_N).

${zooTable(b)}

The fine-tuning recipes (train.py's RECIPES; cpu-s on one thread, niced, on a shared machine):

${recipeTable(b)}

Export check (ONNX Runtime's argmax on the 128 probe samples against PyTorch's): ${ex.mismatchedPredictions} of
${ex.models * 128} predictions differ${ex.worst && ex.worst.mismatches ? ` (most: ${ex.worst.id}, ${ex.worst.mismatches})` : ''}.
Build cost: **${cpuH.toFixed(2)} cpu-hours** of training (bases, kept models and rejected attempts, one thread
each), in ${runs.length} run(s) of \`bench:realsize-zoo\` totalling ${(runs.reduce((t, r) => t + r.wallS, 0) / 3600).toFixed(1)} h wall on a shared machine (load
average ${runs.map((r) => r.loadAvgStart[0].toFixed(0)).join(', ')} at their starts, on 2 cores).

## Detection

AUROC of the risk score (and of -log p) over the test models (${testCounts(b)}); "clean high" and
"backdoored high" are the shares called high (61-100); "not assessed" models get no score and are left out of
the AUROC; "trigger ran" is the share of models the reference-free trigger check ran on; s/model is the
scan's own per-model time (\`durationMs\`), build s the baseline build of the condition's references (a
baseline condition has a row per recipe that made references: the recipe and the count are in its name).

${markdownTable(
  [
    'arch',
    'budget',
    'condition',
    'AUROC',
    'AUROC (p)',
    'clean high',
    'clean medium or high',
    'clean risk, median (max)',
    'backdoored high',
    'not assessed',
    'trigger ran',
    's/model',
    'build s',
    'errors',
  ],
  cells.map(cellRow),
)}

### AUROC per attack (each attack's backdoored models against all clean test models)

${perAttack(cells)}

### Scan time against raw ONNX Runtime (same process)

${speedTable(b)}

### Errors

${errorsOf(cells)}

${notes.trim()}
`;
}
