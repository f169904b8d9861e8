/**
 * What a scan may touch, shown on real runs: ONNX Runtime never gets a custom-op library or a model-named
 * path, a scan writes nothing but its --output file (not even temp files), it opens no network connection,
 * memory budgets and the time limit are checked before the work they guard, a huge side file is read by
 * slice only, and the CLI entry point has ORT telemetry off when the first session is created.
 */
import { execFile } from 'node:child_process';
import dns from 'node:dns';
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { InputError } from '../../src/errors.js';
import { fingerprintModel } from '../../src/fingerprint/extract.js';
import { layerWeightStats } from '../../src/fingerprint/weights.js';
import { MAX_PROBE_SET_BYTES } from '../../src/limits.js';
import { readModel } from '../../src/model/read.js';
import { SESSION_CONFIG_NO_SPIN, inlineExternalData, runProbes } from '../../src/model/session.js';
import { GraphBuilder, attr, encodeTensorData } from '../../src/model/write.js';
import { generateProbes } from '../../src/probes/generate.js';
import { Rng } from '../../src/probes/rng.js';
import { cli, cleanSubset, tempDir, EXAMPLE_CANDIDATES } from '../cli/helpers.js';
import { HOSTILE_CASES } from '../fixtures/hostile.js';

const run = promisify(execFile);
const root = tempDir('mf-isolation-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file under `dir` with its size and mtime (a snapshot to compare before/after). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p);
        out[path.relative(dir, p)] = `${st.size}:${st.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}

function srcFiles(dir = 'src'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? srcFiles(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
}

describe('ONNX Runtime gets no plugins and no paths from the model', () => {
  test('no source registers a custom-op library or passes extra session config; one place creates sessions', () => {
    const files = srcFiles();
    const creators = files.filter((f) => /InferenceSession\.create\(/.test(readFileSync(f, 'utf8')));
    expect(creators).toEqual([path.join('src', 'model', 'session.ts')]);
    // src/detect/gram-ort.ts runs ONNX Runtime's MatMul on a two-node graph the code builds itself (never a
    // model file); it may tune threading ("extra" intra-op spinning), but it loads no plugin and reads no file.
    const GRAM = path.join('src', 'detect', 'gram-ort.ts');
    const gram = readFileSync(GRAM, 'utf8');
    expect(/registerCustomOpsLibrary|customOpsLibrar|readFile|readModel/.test(gram)).toBe(false);
    const SESSION = path.join('src', 'model', 'session.ts');
    for (const f of files.filter((x) => x !== GRAM)) {
      // session.ts passes one fixed "extra" entry, the constant pinned below; nothing else may
      const text = readFileSync(f, 'utf8').replace(
        f === SESSION ? /extra: SESSION_CONFIG_NO_SPIN,/ : /(?!)/,
        '',
      );
      expect({
        f,
        hit: /registerCustomOpsLibrary|customOpsLibrar|sessionConfigEntries|\bextra\s*:/.test(text),
      }).toEqual({ f, hit: false });
    }
    // The only session options: these six, none of them taken from the model.
    const session = readFileSync(SESSION, 'utf8');
    const options = /InferenceSession\.create\(bytes, \{([^}]*)\}/.exec(session)?.[1] ?? '';
    const keys = [...options.matchAll(/(\w+):/g)].map((m) => m[1]).sort();
    expect(keys).toEqual([
      'executionMode',
      'extra',
      'graphOptimizationLevel',
      'interOpNumThreads',
      'intraOpNumThreads',
      'logSeverityLevel',
    ]);
    // ...and the extra entry is exactly "threads sleep between operators": no path, no plugin, no model value
    expect(JSON.parse(JSON.stringify(SESSION_CONFIG_NO_SPIN))).toEqual({
      session: { intra_op: { allow_spinning: '0' } },
    });
    expect(Object.isFrozen(SESSION_CONFIG_NO_SPIN.session.intra_op)).toBe(true);
  });

  test('custom-domain operators (top level, in functions, in subgraphs) are refused by the reader, which never loads ORT', async () => {
    const reader = readFileSync(path.join('src', 'model', 'read.ts'), 'utf8');
    expect(reader).not.toMatch(/onnxruntime|session\.js/);
    for (const name of ['custom-domain', 'custom-op-in-function', 'custom-op-in-subgraph']) {
      const c = HOSTILE_CASES.find((h) => h.name === name);
      if (!c) throw new Error(`no hostile case ${name}`);
      const dir = path.join(root, 'custom', name);
      mkdirSync(dir, { recursive: true });
      const file = c.write(dir, { good: new Uint8Array(), outside: root });
      await expect(readModel(file)).rejects.toMatchObject({ code: 'unknown-operator' });
    }
  });

  test('external data reaches ORT inlined: the bytes ORT loads name no external file', async () => {
    const dir = path.join(root, 'inline');
    mkdirSync(dir, { recursive: true });
    const w = new Rng(5).normals(3 * 4, 0, 1);
    writeFileSync(path.join(dir, 'w.bin'), encodeTensorData('float32', w));
    const g = new GraphBuilder();
    g.addInput('x', 'float32', ['N', 4]);
    g.addInitializer('w', 'float32', [3, 4], null, { location: 'w.bin', offset: 0, length: 48 });
    g.addNode('Gemm', ['x', 'w'], ['y'], { transB: attr.int(1) });
    g.addOutput('y', 'float32', ['N', 3]);
    writeFileSync(path.join(dir, 'model.onnx'), g.toBytes());
    const model = await readModel(path.join(dir, 'model.onnx'));
    const probes = generateProbes(model.inputs, { count: 2 }, { file: model.path });
    const bytes = inlineExternalData(model);
    expect(Buffer.from(bytes).includes(Buffer.from('w.bin'))).toBe(false);
    // With the side file gone, the inlined bytes still run: ORT needs no path from the model.
    rmSync(path.join(dir, 'w.bin'));
    await expect(
      runProbes(
        { ...model, bytes, initializers: model.initializers.map((t) => ({ ...t, externalPath: undefined })) },
        probes,
      ),
    ).resolves.toMatchObject({
      tensors: expect.any(Map),
    });
  });
});

describe('a scan writes nothing but its report and opens no connection', () => {
  test('workspace, baseline and examples unchanged except --output; a private TMPDIR stays empty; no sockets', async () => {
    const ws = path.join(root, 'ws');
    mkdirSync(ws, { recursive: true });
    for (const f of ['backdoored.onnx', 'clean-candidate.onnx'])
      copyFileSync(path.join(EXAMPLE_CANDIDATES, f), path.join(ws, f));
    const baseline = path.join(root, 'baseline');
    expect((await cli('baseline', 'build', cleanSubset(6), '--out', baseline)).code).toBe(0);
    // A hostile model too, so refusal paths run as well.
    HOSTILE_CASES.find((c) => c.name === 'nan-weights')?.write(ws, {
      good: readFileSync(path.join(ws, 'backdoored.onnx')),
      outside: root,
    });

    const privateTmp = path.join(root, 'tmp');
    mkdirSync(privateTmp);
    const before = { ws: snapshot(ws), baseline: snapshot(baseline), examples: snapshot('examples/models') };
    const attempts: string[] = [];
    const saved = {
      tmp: process.env.TMPDIR,
      connect: net.Socket.prototype.connect,
      tlsConnect: tls.connect,
      lookup: dns.lookup,
      fetch: globalThis.fetch,
    };
    process.env.TMPDIR = privateTmp;
    net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
      attempts.push(`connect ${JSON.stringify(args[0])}`);
      return saved.connect.apply(this, args as Parameters<typeof saved.connect>);
    } as typeof saved.connect;
    (tls as { connect: unknown }).connect = (...args: unknown[]) => {
      attempts.push('tls.connect');
      return (saved.tlsConnect as (...a: unknown[]) => tls.TLSSocket)(...args);
    };
    (dns as { lookup: unknown }).lookup = (...args: unknown[]) => {
      attempts.push(`lookup ${String(args[0])}`);
      return (saved.lookup as (...a: unknown[]) => void)(...args);
    };
    globalThis.fetch = ((input: unknown) => {
      attempts.push(`fetch ${String(input)}`);
      return Promise.reject(new Error('network is off in this test'));
    }) as typeof fetch;
    let r;
    try {
      r = await cli(
        'scan',
        ws,
        '--baseline',
        baseline,
        '--format',
        'json',
        '--output',
        path.join(ws, 'report.json'),
        '--workspace',
        ws,
      );
    } finally {
      if (saved.tmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved.tmp;
      net.Socket.prototype.connect = saved.connect;
      (tls as { connect: unknown }).connect = saved.tlsConnect;
      (dns as { lookup: unknown }).lookup = saved.lookup;
      globalThis.fetch = saved.fetch;
    }
    expect(r.code).toBe(2); // the NaN model
    expect(attempts).toEqual([]);
    expect(readdirSync(privateTmp)).toEqual([]);
    const after = snapshot(ws);
    expect(Object.keys(after).filter((k) => !(k in before.ws))).toEqual(['report.json']);
    delete after['report.json'];
    expect(after).toEqual(before.ws);
    expect(snapshot(baseline)).toEqual(before.baseline);
    expect(snapshot('examples/models')).toEqual(before.examples);
    const report = JSON.parse(readFileSync(path.join(ws, 'report.json'), 'utf8'));
    expect(report.models).toHaveLength(3);
    // no wall-clock bound of its own: what it checks is what a scan touches, not how long a baseline build
    // and a scan take (minutes on a machine at load 15); jest's testTimeout (jest.config.js) stops a hang
  });
});

describe('limits are checked before the work they guard', () => {
  /** x [N, ...shape] -> Flatten -> ReduceMean -> [N, 1]. */
  function reduceModel(shape: number[]): Uint8Array {
    const g = new GraphBuilder();
    g.addInput('input', 'float32', ['N', ...shape]);
    g.addNode('Flatten', ['input'], ['flat'], { axis: attr.int(1) });
    g.addNode('ReduceMean', ['flat'], ['logits'], { axes: attr.ints([1]), keepdims: attr.int(1) });
    g.addOutput('logits', 'float32', ['N', 1]);
    return g.toBytes();
  }

  test('a probe set over the memory budget is refused, naming the budget, without allocating it', async () => {
    const file = path.join(root, 'budget.onnx');
    writeFileSync(file, reduceModel([1, 4096, 4096])); // 64 MiB per probe, legal dims
    const model = await readModel(file);
    const rss = process.memoryUsage().rss;
    const err = await fingerprintModel(model, { probes: { count: 64 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('too-large');
    expect((err as InputError).message).toContain(`${MAX_PROBE_SET_BYTES}-byte probe memory budget`);
    expect((err as InputError).message).toContain(file);
    expect(process.memoryUsage().rss - rss).toBeLessThan(256 * 1024 ** 2);
  });

  test('one probe batch over the session budget is refused before ORT runs', async () => {
    const file = path.join(root, 'batch.onnx');
    writeFileSync(file, reduceModel([1, 14, 14]));
    const model = await readModel(file);
    const probes = generateProbes(model.inputs, { count: 4 }, { file });
    await expect(runProbes(model, probes, { memoryBudgetBytes: 500 })).rejects.toMatchObject({
      code: 'too-large',
      message: expect.stringMatching(/one probe batch needs 784 bytes of input, over the 500-byte budget/),
    });
  });

  /** `length` MatMuls in a chain, all sharing one 1024x1024 weight (a cheap deterministic pattern). */
  function sharedWeightChain(length = 64): string {
    const g = new GraphBuilder();
    g.addInput('input', 'float32', ['N', 1024]);
    const w = new Float32Array(1024 * 1024).map((_, i) => ((i * 7919) % 1000) / 32000 - 1 / 64);
    g.addInitializer('w', 'float32', [1024, 1024], w);
    let x = 'input';
    for (let i = 0; i < length; i++) {
      g.addNode('MatMul', [x, 'w'], [`h${i}`]);
      x = `h${i}`;
    }
    g.addNode('ReduceMean', [x], ['logits'], { axes: attr.ints([1]), keepdims: attr.int(1) });
    g.addOutput('logits', 'float32', ['N', 1]);
    const file = path.join(root, `chain-${length}.onnx`);
    writeFileSync(file, g.toBytes());
    return file;
  }

  test('the per-model time limit stops a slow model at the next batch', async () => {
    // 256 probes through 256 chained 1024x1024 MatMuls: seconds of ORT work, one probe per batch. ORT runs a
    // batch synchronously, so the limit is checked between batches (see docs/security.md, gaps).
    const file = sharedWeightChain(256);
    const model = await readModel(file);
    const probes = generateProbes(model.inputs, { count: 256, kinds: ['uniform'] }, { file });
    // the reference, in this process: the session and two batches, without a limit
    const two = generateProbes(model.inputs, { count: 2, kinds: ['uniform'] }, { file });
    const r0 = Date.now();
    await runProbes(model, two, { batchSize: 1, threads: 1 });
    const twoBatches = Date.now() - r0;
    const t0 = Date.now();
    const err = await runProbes(model, probes, { batchSize: 1, timeLimitMs: 300, threads: 1 }).catch(
      (e: unknown) => e,
    );
    const elapsed = Date.now() - t0;
    expect(err).toMatchObject({
      code: 'timeout',
      message: expect.stringContaining(`${file}: fingerprinting took longer than`),
    });
    // stopped once past the limit, at the next batch: the limit and about a batch more (the session and two
    // batches, timed above under the same load, with room), never the 256 batches the probes need
    expect(elapsed).toBeLessThan(300 + 2 * twoBatches);
  });

  test('the weight statistics after probing are under the same time limit', async () => {
    const model = await readModel(sharedWeightChain());
    expect(() => layerWeightStats(model, { deadline: Date.now() - 1, limitMs: 120_000 })).toThrow(
      expect.objectContaining({
        code: 'timeout',
        message: expect.stringMatching(
          /chain-64\.onnx: fingerprinting took longer than the 120 s limit \(weight statistics\)/,
        ),
      }),
    );
  });

  test('fingerprintModel keeps one time limit over probing and the weight statistics', async () => {
    // Eight distinct 1024x1024 weights. The weight statistics are now ~44 GEMM passes over the weights
    // (about 0.1 s here), too fast to outlast a limit reliably on their own; so the limit is set below what
    // the whole fingerprint needs, and wherever it runs out (probing or the statistics), the one deadline set
    // at the start is what stops it, within the time the current batch or matrix takes. The statistics'
    // own deadline check is tested directly in __tests__/fingerprint (layerWeightStats with a past deadline).
    const side = 1024;
    const g = new GraphBuilder();
    g.addInput('input', 'float32', ['N', side]);
    let x = 'input';
    for (let i = 0; i < 8; i++) {
      const w = new Float32Array(side * side);
      for (let j = 0; j < w.length; j++) w[j] = (((j + i) * 7919) % 1000) / 32000 - 1 / 64;
      g.addInitializer(`w${i}`, 'float32', [side, side], w);
      g.addNode('MatMul', [x, `w${i}`], [`h${i}`]);
      x = `h${i}`;
    }
    g.addNode('ReduceMean', [x], ['logits'], { axes: attr.ints([1]), keepdims: attr.int(1) });
    g.addOutput('logits', 'float32', ['N', 1]);
    const file = path.join(root, 'eight-weights.onnx');
    writeFileSync(file, g.toBytes());
    const model = await readModel(file);
    const t0 = Date.now();
    const full = await fingerprintModel(model, { probes: { count: 1 } });
    const needed = Date.now() - t0;
    expect(full.blocks['weights:layers']).toHaveLength(8 * 3);
    const limit = Math.max(1, Math.floor(needed / 4));
    const t1 = Date.now();
    const err = await fingerprintModel(model, { probes: { count: 1 }, timeLimitMs: limit }).catch(
      (e: unknown) => e,
    );
    const elapsed = Date.now() - t1;
    expect(err).toMatchObject({
      code: 'timeout',
      message: expect.stringMatching(
        new RegExp(
          `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: fingerprinting took longer than the [0-9.]+ s limit`,
        ),
      ),
    });
    // within the time the current batch or matrix takes: well before the whole fingerprint's `needed`,
    // timed just before in this process (so machine load cancels out)
    expect(elapsed).toBeLessThan(limit + needed / 2);
    // the message says how to raise the limit on a busy machine
    expect((err as Error).message).toContain('--time-limit SECONDS');
    // a fixed allowance (--time-limit) of 1 ms stops it too: the budget adds only this model's one probe pass
    // at the slow rate the limit assumes (about 4 ms), far less than its weight statistics take (an allowance
    // relative to `needed` would race a warmer second run)
    const viaAllowance = await fingerprintModel(model, {
      probes: { count: 1 },
      timeAllowanceMs: 1,
    }).catch((e: unknown) => e);
    expect(viaAllowance).toMatchObject({ code: 'timeout' });
  }, 30_000);

  test('a weight shared by 64 nodes is measured once, not 64 times', async () => {
    // Timed against a one-node chain in the same process, so that machine load cancels out: one 1024x1024
    // matrix's statistics are about a second on a quiet core; measured 64 times they would be 64 of those.
    const one = await readModel(sharedWeightChain(1));
    const t1 = Date.now();
    layerWeightStats(one);
    const single = Date.now() - t1;
    const model = await readModel(sharedWeightChain());
    const t0 = Date.now();
    const { block, names } = layerWeightStats(model);
    const elapsed = Date.now() - t0;
    expect(names).toHaveLength(64);
    expect(new Set(names)).toEqual(new Set(['w']));
    for (let i = 3; i < block.length; i++) expect(block[i]).toBe(block[i % 3]);
    expect(elapsed).toBeLessThan(8 * single + 500);
  }, 60_000);

  test('a side file far larger than its tensor is read by slice, never whole', async () => {
    const dir = path.join(root, 'sparse-side');
    mkdirSync(dir, { recursive: true });
    const side = path.join(dir, 'w.bin');
    writeFileSync(side, encodeTensorData('float32', new Rng(4).normals(10 * 196, 0, 0.1)));
    truncateSync(side, 3 * 1024 ** 3); // 3 GiB, sparse: past Node's 2 GiB readFile limit
    const g = new GraphBuilder();
    g.addInput('input', 'float32', ['N', 1, 14, 14]);
    g.addNode('Flatten', ['input'], ['flat'], { axis: attr.int(1) });
    g.addInitializer('w', 'float32', [10, 196], null, { location: 'w.bin', offset: 0, length: 10 * 196 * 4 });
    g.addNode('Gemm', ['flat', 'w'], ['logits'], { transB: attr.int(1) });
    g.addOutput('logits', 'float32', ['N', 10]);
    writeFileSync(path.join(dir, 'model.onnx'), g.toBytes());
    const rss = process.memoryUsage().rss;
    const fp = await fingerprintModel(await readModel(path.join(dir, 'model.onnx')), {
      probes: { count: 8 },
    });
    expect(fp.header.model.classes).toBe(10);
    expect(process.memoryUsage().rss - rss).toBeLessThan(256 * 1024 ** 2);
  });
});

describe('ONNX Runtime telemetry is off', () => {
  test('the CLI entry point has ORT_DISABLE_TELEMETRY=1 when it creates its first session (env unset before)', async () => {
    // A preload wraps InferenceSession.create to record the variable at the moment ORT reads it
    // (ORT reads it when its environment is created, with the first session).
    const preload = path.join(root, 'record-telemetry.mjs');
    const ortUrl = pathToFileURL(path.resolve('node_modules/onnxruntime-node/dist/index.js')).href;
    writeFileSync(
      preload,
      `import * as ort from ${JSON.stringify(ortUrl)};\n` +
        `const create = ort.InferenceSession.create.bind(ort.InferenceSession);\n` +
        `ort.InferenceSession.create = (...a) => { process.stderr.write('[telemetry-at-create=' + process.env.ORT_DISABLE_TELEMETRY + ']\\n'); return create(...a); };\n`,
    );
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.ORT_DISABLE_TELEMETRY;
    delete env.NODE_OPTIONS;
    const out = path.join(root, 'fp.mfp');
    const { stderr } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        pathToFileURL(preload).href,
        'src/cli/main.ts',
        'fingerprint',
        path.join('examples/models/clean', 'clean-01.onnx'),
        '--out',
        out,
        '--probes',
        '4',
      ],
      { env, timeout: 30_000 },
    );
    expect(stderr).toContain('[telemetry-at-create=1]');
    expect(stderr).not.toContain('[telemetry-at-create=undefined]');
  }, 40_000);

  test('the action entry point imports ort-env.js first, and it sets ORT_DISABLE_TELEMETRY', () => {
    const main = readFileSync(path.join('src', 'action', 'main.ts'), 'utf8');
    const imports = [...main.matchAll(/^import .*?['"](.+?)['"];?$/gm)].map((m) => m[1]);
    expect(imports[0]).toBe('./ort-env.js');
    const env = readFileSync(path.join('src', 'action', 'ort-env.ts'), 'utf8');
    expect(env).toMatch(/process\.env\.ORT_DISABLE_TELEMETRY \?\?= '1'/);
    expect(env).not.toMatch(/^import /m);
  });
});
