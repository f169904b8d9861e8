/**
 * bench:realsize's bookkeeping: the cached baseline build (reused only for the same tool, references,
 * samples and budget; a failed build is never reused), the per-model scan cache (only models without an
 * entry are scanned; the report keeps the models' order), the choice of models the speed part times, and the
 * results' table of fine-tuning recipes (which recipe made which models, and their cost), and the reference
 * sets a baseline condition is measured with (one per recipe: a baseline never mixes two recipes' references).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildKey, cachedBuild, cachedScan } from '../../bench/realsize/cache.js';
import * as ort from 'onnxruntime-node';
import { recipeTable } from '../../bench/realsize/report.js';
import { conditionLabel, referenceSets } from '../../bench/realsize/references.js';
import { speedModels } from '../../bench/realsize/speed.js';
import { rawInference, TOOL_SESSION_OPTIONS } from '../../bench/speed/realsize.js';
import type { RealsizeModel } from '../../bench/realsize/manifest.js';
import type { BuildResult, CliRunner, ScanResult } from '../../bench/torch/cli.js';
import type { ScanReport } from '../../src/report/types.js';

// The bench's progress lines (stderr) are for people running it: kept out of the test output.
const consoleError = console.error;
beforeAll(() => {
  console.error = () => undefined;
});
afterAll(() => {
  console.error = consoleError;
});

const runner: CliRunner = { label: 'node bin/model-fingerprint.js (dist/cli bundle)', cmd: 'node', args: [] };

describe('cachedBuild', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'realsize-cache-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function counting(result: BuildResult, baselineDir: string) {
    let calls = 0;
    return {
      build: () => {
        calls++;
        mkdirSync(baselineDir, { recursive: true });
        return result;
      },
      calls: () => calls,
    };
  }

  it('reuses a successful build with the same key, with its recorded time', () => {
    const out = path.join(dir, 'baseline-generated');
    const key = buildKey(runner, 'abc', [{ sha256: '1' }, { sha256: '2' }], false, ['--budget', 'default']);
    const b = counting({ ok: true, ms: 1234, message: 'built' }, out);
    expect(cachedBuild(out, key, b.build).ms).toBe(1234);
    const again = counting({ ok: true, ms: 1, message: 'rebuilt' }, out);
    expect(cachedBuild(out, key, again.build)).toEqual({ ok: true, ms: 1234, message: 'built' });
    expect(again.calls()).toBe(0);
  });

  it('rebuilds when the references, the tool, the samples or the budget differ', () => {
    const out = path.join(dir, 'b');
    const refs = [{ sha256: '1' }];
    cachedBuild(
      out,
      buildKey(runner, 'abc', refs, false, []),
      counting({ ok: true, ms: 1, message: '' }, out).build,
    );
    for (const key of [
      buildKey(runner, 'abc', [{ sha256: '9' }], false, []),
      buildKey(runner, 'other-bundle', refs, false, []),
      buildKey(runner, 'abc', refs, true, []),
      buildKey(runner, 'abc', refs, false, ['--budget', 'fast']),
    ]) {
      const b = counting({ ok: true, ms: 2, message: '' }, out);
      cachedBuild(out, key, b.build);
      expect(b.calls()).toBe(1);
      // restore the first key's record for the next variant
      cachedBuild(
        out,
        buildKey(runner, 'abc', refs, false, []),
        counting({ ok: true, ms: 1, message: '' }, out).build,
      );
    }
  });

  it('never reuses a failed build, and rebuilds when the baseline folder is gone', () => {
    const out = path.join(dir, 'b');
    const key = buildKey(runner, 'abc', [{ sha256: '1' }], false, []);
    cachedBuild(out, key, counting({ ok: false, ms: 5, message: 'exit 2' }, out).build);
    const b = counting({ ok: true, ms: 6, message: '' }, out);
    cachedBuild(out, key, b.build);
    expect(b.calls()).toBe(1);
    rmSync(out, { recursive: true });
    const c = counting({ ok: true, ms: 7, message: '' }, out);
    expect(cachedBuild(out, key, c.build).ms).toBe(7);
    expect(c.calls()).toBe(1);
  });
});

describe('cachedScan', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'realsize-scan-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A scan that reports each path it is given, with a score from its name, and records its calls. */
  function fakeScan(calls: string[][], failing = false) {
    return (paths: string[]): ScanResult => {
      calls.push(paths);
      if (failing) return { report: null, ms: 3, status: 2, message: 'exit 2: baseline unreadable' };
      const report = {
        version: 2,
        models: paths.map((p) => ({ path: p, riskScore: Number(p.replace(/\D/g, '')), durationMs: 10 })),
      } as unknown as ScanReport;
      return { report, ms: 5, status: 0, message: '' };
    };
  }
  const models = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ sha256: `h${i}`, path: `m${i}.onnx` }));
  const scores = (r: ScanResult) =>
    (r.report?.models ?? []).map((m) => [m.path, (m as unknown as { riskScore: number }).riskScore]);

  it('scans only the models without an entry, and returns every model in order', () => {
    const file = path.join(dir, 'scan.cache.json');
    const calls: string[][] = [];
    const first = cachedScan(file, 'k', models(2), fakeScan(calls));
    expect(first.scanned).toBe(2);
    const second = cachedScan(file, 'k', models(4), fakeScan(calls));
    expect(calls).toEqual([
      ['m0.onnx', 'm1.onnx'],
      ['m2.onnx', 'm3.onnx'],
    ]);
    expect(second.scanned).toBe(2);
    expect(scores(second)).toEqual([
      ['m0.onnx', 0],
      ['m1.onnx', 1],
      ['m2.onnx', 2],
      ['m3.onnx', 3],
    ]);
    const third = cachedScan(file, 'k', models(3).reverse(), fakeScan(calls));
    expect(calls).toHaveLength(2);
    expect(third.scanned).toBe(0);
    expect(scores(third).map(([p]) => p)).toEqual(['m2.onnx', 'm1.onnx', 'm0.onnx']);
  });

  it('rescans everything under another key, and caches nothing from a scan that wrote no report', () => {
    const file = path.join(dir, 'scan.cache.json');
    const calls: string[][] = [];
    cachedScan(file, 'k', models(2), fakeScan(calls));
    cachedScan(file, 'other budget', models(2), fakeScan(calls));
    expect(calls).toHaveLength(2);
    const failed = cachedScan(path.join(dir, 'f.json'), 'k', models(2), fakeScan(calls, true));
    expect(failed.report).toBeNull();
    expect(failed.message).toMatch(/baseline unreadable/);
    cachedScan(path.join(dir, 'f.json'), 'k', models(2), fakeScan(calls));
    expect(calls).toHaveLength(4);
  });
});

describe('cachedScan in chunks', () => {
  it('caches each chunk as it ends, so a run that fails midway keeps the chunks before', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'realsize-chunk-'));
    try {
      const file = path.join(dir, 'scan.cache.json');
      const calls: string[][] = [];
      const models = Array.from({ length: 5 }, (_, i) => ({ sha256: `h${i}`, path: `m${i}.onnx` }));
      const flaky = (paths: string[]): ScanResult => {
        calls.push(paths);
        if (calls.length === 2) return { report: null, ms: 1, status: null, message: 'killed' };
        const report = { models: paths.map((p) => ({ path: p, durationMs: 1 })) } as unknown as ScanReport;
        return { report, ms: 1, status: 0, message: '' };
      };
      const first = cachedScan(file, 'k', models, flaky, 2);
      expect(calls).toEqual([
        ['m0.onnx', 'm1.onnx'],
        ['m2.onnx', 'm3.onnx'],
      ]);
      expect(first.report?.models.map((m) => m.path)).toEqual(['m0.onnx', 'm1.onnx']);
      expect(first.message).toBe('killed');
      cachedScan(file, 'k', models, flaky, 2);
      expect(calls.slice(2)).toEqual([['m2.onnx', 'm3.onnx'], ['m4.onnx']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cachedScan from both ends', () => {
  it('skips what the other run cached meanwhile, and keeps its entries when writing', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'realsize-ends-'));
    try {
      const file = path.join(dir, 'scan.cache.json');
      const models = Array.from({ length: 4 }, (_, i) => ({ sha256: `h${i}`, path: `m${i}.onnx` }));
      const report = (paths: string[]) =>
        ({ models: paths.map((p) => ({ path: p, durationMs: 1 })) }) as unknown as ScanReport;
      const calls: string[][] = [];
      let other = 0;
      // the run from the end scans m3 (a chunk of 1) while this run scans m0: its entry lands in the file
      const scan = (paths: string[]): ScanResult => {
        calls.push(paths);
        if (calls.length === 1)
          cachedScan(
            file,
            'k',
            models,
            // the other run stops after its first chunk
            (p) => (other++ === 0 ? { report: report(p), ms: 1, status: 0, message: '' } : fakeNone([])(p)),
            1,
            true,
          );
        return { report: report(paths), ms: 1, status: 0, message: '' };
      };
      const res = cachedScan(file, 'k', models, scan, 1);
      // m3 was scanned by the other run: this one stops before it
      expect(calls).toEqual([['m0.onnx'], ['m1.onnx'], ['m2.onnx']]);
      expect(res.scanned).toBe(3);
      expect(res.report?.models.map((m) => m.path)).toEqual(['m0.onnx', 'm1.onnx', 'm2.onnx', 'm3.onnx']);
      const again: string[][] = [];
      cachedScan(file, 'k', models, fakeNone(again));
      expect(again).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  function fakeNone(calls: string[][]) {
    return (paths: string[]): ScanResult => {
      calls.push(paths);
      return { report: null, ms: 0, status: null, message: 'not expected' };
    };
  }
});

describe('speedModels', () => {
  const m = (id: string, label: 'clean' | 'backdoor') => ({ id, label }) as RealsizeModel;
  const tests = [
    m('c0', 'clean'),
    m('c1', 'clean'),
    m('b0', 'backdoor'),
    m('b1', 'backdoor'),
    m('b2', 'backdoor'),
    m('b3', 'backdoor'),
    m('b4', 'backdoor'),
    m('b5', 'backdoor'),
  ];

  it('alternates clean and backdoored models, spread over the backdoored list', () => {
    expect(speedModels(tests, 2).map((x) => x.id)).toEqual(['c0', 'b0']);
    expect(speedModels(tests, 4).map((x) => x.id)).toEqual(['c0', 'b0', 'c1', 'b5']);
  });

  it('stops at what there is', () => {
    expect(speedModels(tests.slice(0, 3), 10).map((x) => x.id)).toEqual(['c0', 'b0', 'c1']);
    expect(speedModels([], 2)).toEqual([]);
  });
});

describe('rawInference on given inputs', () => {
  const model = path.join('examples', 'models', 'candidates', 'clean-candidate.onnx');

  it('runs every row of the inputs in batches, the last one short', async () => {
    // the example MLP takes [N, 1, 14, 14]; 5 rows in batches of 2 are runs of 2, 2 and 1 rows
    const rows = new ort.Tensor('float32', new Float32Array(5 * 196).fill(0.5), [5, 1, 14, 14]);
    const ms = await rawInference(model, 'input', [1, 14, 14], 5, 2, rows);
    expect(ms).toBeGreaterThan(0);
  });

  it("runs with the tool's session settings (no spinning) as the second reference", async () => {
    const rows = new ort.Tensor('float32', new Float32Array(5 * 196).fill(0.5), [5, 1, 14, 14]);
    const ms = await rawInference(model, 'input', [1, 14, 14], 5, 2, rows, TOOL_SESSION_OPTIONS);
    expect(ms).toBeGreaterThan(0);
    // the options are the ones openSession sets; a typo in the config key would be rejected by ORT here
    await expect(
      rawInference(model, 'input', [1, 14, 14], 2, 2, undefined, {
        ...TOOL_SESSION_OPTIONS,
        executionMode: 'no-such-mode' as 'sequential',
      }),
    ).rejects.toThrow();
  });

  it('fails loudly when asked for more rows than the inputs hold', async () => {
    const rows = new ort.Tensor('float32', new Float32Array(2 * 196), [2, 1, 14, 14]);
    await expect(rawInference(model, 'input', [1, 14, 14], 3, 2, rows)).rejects.toThrow();
  });
});

describe('recipeTable', () => {
  const hyper = (images: number, epochs: number, lr: number, warmupEpochs?: number) => ({
    lr,
    images,
    epochs,
    batch: 64,
    momentum: 0.9,
    weightDecay: 5e-4,
    ...(warmupEpochs ? { warmupEpochs } : {}),
  });
  const model = (
    id: string,
    split: 'reference' | 'test',
    label: 'clean' | 'backdoor',
    recipe: string | undefined,
    h: RealsizeModel['hyper'],
    cpu: number,
  ) => ({ id, arch: 'resnet18', split, label, recipe, hyper: h, trainingCpuS: cpu }) as RealsizeModel;

  it('groups the models by recipe and split, with their SGD steps, learning rates and cost per model', () => {
    const cheap = hyper(2000, 1, 0.01);
    const long = hyper(5000, 2, 0.02, 0.2);
    const table = recipeTable({
      // zoos built before recipes carry none: the cheap recipe
      models: [
        model('r0', 'reference', 'clean', undefined, cheap, 10),
        model('r1', 'reference', 'clean', 'cheap', { ...cheap, lr: 0.02 }, 14),
        model('c0', 'test', 'clean', 'long', long, 40),
        model('c1', 'test', 'clean', 'long', { ...long, lr: 0.05 }, 50),
        model('c2', 'test', 'clean', 'long', long, 60),
        model('b0', 'test', 'backdoor', 'long', long, 45),
      ],
      rejected: [
        { ...model('b1', 'test', 'backdoor', 'long', long, 44), reason: 'attack success 0.2 < 0.8' },
      ],
    });
    const rows = table.split('\n').slice(2);
    expect(rows).toEqual([
      '| `resnet18` | cheap | reference | 2 | 2000 x 1 | 32 | 0.01, 0.02 | none | 12.0 (10.0-14.0) |',
      '| `resnet18` | long | test clean | 3 | 5000 x 2 | 158 | 0.02, 0.05 | 0.2 epoch | 50.0 (40.0-60.0) |',
      '| `resnet18` | long | test backdoor | 1 | 5000 x 2 | 158 | 0.02 | 0.2 epoch | 45.0 (45.0) |',
      '| `resnet18` | long | rejected | 1 | 5000 x 2 | 158 | 0.02 | 0.2 epoch | 44.0 (44.0) |',
    ]);
  });
});

describe('referenceSets', () => {
  const m = (id: string, arch: string, split: 'reference' | 'test', recipe?: string) =>
    ({ id, arch, split, label: 'clean', recipe }) as RealsizeModel;

  it("groups an architecture's references by recipe, in manifest order, leaving out test models and other archs", () => {
    const sets = referenceSets(
      [
        m('c0', 'resnet18', 'reference'), // a zoo from before recipes: cheap
        m('t0', 'resnet18', 'test', 'long'),
        m('l0', 'resnet18', 'reference', 'long'),
        m('c1', 'resnet18', 'reference', 'cheap'),
        m('v0', 'vgg11', 'reference', 'long'),
        m('l1', 'resnet18', 'reference', 'long'),
      ],
      'resnet18',
    );
    expect(sets.map((s) => [s.recipe, s.refs.map((r) => r.id)])).toEqual([
      ['cheap', ['c0', 'c1']],
      ['long', ['l0', 'l1']],
    ]);
  });

  it('gives no set for an architecture without references', () => {
    expect(referenceSets([m('t0', 'resnet18', 'test', 'long')], 'resnet18')).toEqual([]);
  });

  it("names a baseline cell by its references' recipe and count, other cells by their condition", () => {
    expect(conditionLabel('baseline', { recipe: 'long', n: 20 })).toBe('baseline (20 long-recipe refs)');
    expect(conditionLabel('no-baseline', null)).toBe('no-baseline');
    expect(conditionLabel('baseline', undefined)).toBe('baseline');
  });
});
