/**
 * Property-based fuzzing of the model reader (fast-check, fixed seed): valid models mutated at the byte level
 * (bit flips, insertions, deletions, truncations) and at the field level (the decoded ModelProto changed and
 * re-encoded: dims to huge/negative numbers, unknown data types, external-data entries, operator types and
 * domains, input dims, node wiring). Each mutant goes through readModel and, when it reads, through
 * fingerprintModel with a few probes on real ONNX Runtime. Nothing may throw except an InputError naming the
 * file, each case must finish quickly, and memory must stay bounded (huge declared sizes refused before any
 * allocation).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import onnxProto from 'onnx-proto';
import { InputError } from '../../src/errors.js';
import { fingerprintModel } from '../../src/fingerprint/extract.js';
import { readModel } from '../../src/model/read.js';
import { safeErrorLine } from '../../src/scan/safe-error.js';
import { fuzzSeedModel } from '../fixtures/hostile.js';
import { buildCnn, buildTokenModel, buildTwoInput } from '../fixtures/models.js';

const { onnx } = onnxProto;

const SEED = 20261122;
const NUM_RUNS = 1000;
/** Per-case wall-time bound (read + fingerprint of a tiny model; generous for 2 shared cores). */
const CASE_LIMIT_MS = 3_000;
/** Resident memory may not grow past this over the whole run (a refused 40 GB declaration must not count). */
const RSS_GROWTH_LIMIT = 512 * 1024 ** 2;
/** Nor in one readModel call (the reader allocates nothing near a declared size). */
const READ_RSS_GROWTH_LIMIT = 128 * 1024 ** 2;

type FieldMutation =
  | { kind: 'dims'; tensor: number; axis: number; value: number }
  | { kind: 'dtype'; tensor: number; value: number }
  | { kind: 'external'; tensor: number; location: string; offset: string; length: string }
  | { kind: 'op'; node: number; opType: string; domain: string }
  | { kind: 'input-dim'; axis: number; value: number }
  | { kind: 'rewire'; node: number; slot: number; from: number }
  | { kind: 'weight-bits'; tensor: number; flips: { pos: number; bit: number }[] };

type Mutation =
  | { kind: 'flip'; flips: { pos: number; bit: number }[] }
  | { kind: 'insert'; pos: number; bytes: number[] }
  | { kind: 'delete'; pos: number; len: number }
  | { kind: 'truncate'; len: number }
  | { kind: 'fields'; muts: FieldMutation[] };

const DIM_VALUES = [-1, -(2 ** 31), 0, 1, 7, 2 ** 31, 2 ** 40, 1e9, Number.MAX_SAFE_INTEGER, 16_385, 4_096];
const DTYPE_VALUES = [0, 2, 7, 8, 10, 15, 16, 17, 99, -3, 2 ** 20];
const LOCATIONS = [
  '../../../etc/passwd',
  '/etc/passwd',
  'w.bin',
  'missing.bin',
  'a/../../b',
  'C:\\x',
  'x\0y',
  '',
  '.',
];
const NUMBERS = ['0', '-5', '1e30', 'abc', '99999999999', '64', '2048'];
const OPS = [
  'Relu',
  'Gemm',
  'Flatten',
  'Identity',
  'Loop',
  'If',
  'Scan',
  'ConstantOfShape',
  'Expand',
  'Tile',
  'Resize',
  'NoSuchOp',
  '',
];
const DOMAINS = ['', 'ai.onnx', 'ai.onnx.ml', 'com.microsoft', 'evil.corp'];

const fieldMutation: fc.Arbitrary<FieldMutation> = fc.oneof(
  fc.record({
    kind: fc.constant('dims' as const),
    tensor: fc.nat(8),
    axis: fc.nat(3),
    value: fc.constantFrom(...DIM_VALUES),
  }),
  fc.record({
    kind: fc.constant('dtype' as const),
    tensor: fc.nat(8),
    value: fc.constantFrom(...DTYPE_VALUES),
  }),
  fc.record({
    kind: fc.constant('external' as const),
    tensor: fc.nat(8),
    location: fc.constantFrom(...LOCATIONS),
    offset: fc.constantFrom(...NUMBERS),
    length: fc.constantFrom(...NUMBERS),
  }),
  fc.record({
    kind: fc.constant('op' as const),
    node: fc.nat(8),
    opType: fc.constantFrom(...OPS),
    domain: fc.constantFrom(...DOMAINS),
  }),
  fc.record({
    kind: fc.constant('input-dim' as const),
    axis: fc.nat(4),
    value: fc.constantFrom(...DIM_VALUES),
  }),
  fc.record({ kind: fc.constant('rewire' as const), node: fc.nat(8), slot: fc.nat(2), from: fc.nat(8) }),
  fc.record({
    kind: fc.constant('weight-bits' as const),
    tensor: fc.nat(8),
    flips: fc.array(fc.record({ pos: fc.nat(), bit: fc.nat(7) }), { minLength: 1, maxLength: 8 }),
  }),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    flips: fc.array(fc.record({ pos: fc.nat(), bit: fc.nat(7) }), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    pos: fc.nat(),
    bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), len: fc.nat() }),
  fc.record({
    kind: fc.constant('fields' as const),
    muts: fc.array(fieldMutation, { minLength: 1, maxLength: 3 }),
  }),
);

function applyFields(seed: Uint8Array, muts: FieldMutation[]): Uint8Array {
  const proto = onnx.ModelProto.decode(seed);
  const g = proto.graph as onnxProto.onnx.GraphProto;
  const inits = g.initializer;
  const nodes = g.node;
  const tensorNames: string[] = [
    ...g.input.map((i) => i.name ?? ''),
    ...inits.map((t) => t.name ?? ''),
    ...nodes.flatMap((n) => n.output ?? []),
  ];
  for (const m of muts) {
    switch (m.kind) {
      case 'dims': {
        const t = inits[m.tensor % inits.length];
        const dims = [...(t.dims ?? [])];
        dims[m.axis % Math.max(1, dims.length)] = m.value;
        t.dims = dims;
        break;
      }
      case 'dtype':
        inits[m.tensor % inits.length].dataType = m.value;
        break;
      case 'external': {
        const t = inits[m.tensor % inits.length];
        t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
        t.rawData = new Uint8Array(0);
        t.externalData = [
          onnx.StringStringEntryProto.create({ key: 'location', value: m.location }),
          onnx.StringStringEntryProto.create({ key: 'offset', value: m.offset }),
          onnx.StringStringEntryProto.create({ key: 'length', value: m.length }),
        ];
        break;
      }
      case 'op': {
        const n = nodes[m.node % nodes.length];
        n.opType = m.opType;
        n.domain = m.domain;
        break;
      }
      case 'input-dim': {
        const dims = g.input[0].type?.tensorType?.shape?.dim ?? [];
        if (dims.length)
          dims[m.axis % dims.length] = onnx.TensorShapeProto.Dimension.create({ dimValue: m.value });
        break;
      }
      case 'weight-bits': {
        // Bits of the weights themselves: the model still parses, and may now compute NaN/Inf or anything.
        const t = inits[m.tensor % inits.length];
        const raw = new Uint8Array(t.rawData ?? new Uint8Array(0));
        if (raw.length) for (const f of m.flips) raw[f.pos % raw.length] ^= 1 << f.bit;
        t.rawData = raw;
        break;
      }
      case 'rewire': {
        const n = nodes[m.node % nodes.length];
        const inputs = [...(n.input ?? [])];
        inputs[m.slot % Math.max(1, inputs.length)] = tensorNames[m.from % tensorNames.length];
        n.input = inputs;
        break;
      }
    }
  }
  return onnx.ModelProto.encode(proto).finish();
}

function mutate(seed: Uint8Array, m: Mutation): Uint8Array {
  switch (m.kind) {
    case 'flip': {
      const out = new Uint8Array(seed);
      for (const f of m.flips) out[f.pos % out.length] ^= 1 << f.bit;
      return out;
    }
    case 'insert': {
      const at = m.pos % (seed.length + 1);
      return Uint8Array.from([...seed.subarray(0, at), ...m.bytes, ...seed.subarray(at)]);
    }
    case 'delete': {
      const at = m.pos % seed.length;
      return Uint8Array.from([...seed.subarray(0, at), ...seed.subarray(at + m.len)]);
    }
    case 'truncate':
      return seed.slice(0, m.len % seed.length);
    case 'fields':
      return applyFields(seed, m.muts);
  }
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mf-fuzz-'));
  // A real side file for external-data mutations that name "w.bin" (4 KiB of zeros).
  writeFileSync(path.join(dir, 'w.bin'), new Uint8Array(4096));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('mutated models: only InputErrors naming the file, bounded time and memory', async () => {
  // Seeds: an MLP, a CNN (Conv/BatchNorm/MaxPool), a token-id model (int64 input, Gather), two inputs.
  const seeds = [fuzzSeedModel(), buildCnn(), buildTokenModel(), buildTwoInput()];
  const outcomes = new Map<string, number>();
  const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  const rssStart = process.memoryUsage().rss;
  let slowest = 0;
  let caseNo = 0;

  await fc.assert(
    fc.asyncProperty(fc.nat(seeds.length - 1), mutation, async (which, m) => {
      const file = path.join(dir, `case-${caseNo++}.onnx`);
      writeFileSync(file, mutate(seeds[which], m));
      const t0 = Date.now();
      const rssBefore = process.memoryUsage().rss;
      try {
        const model = await readModel(file);
        expect(process.memoryUsage().rss - rssBefore).toBeLessThan(READ_RSS_GROWTH_LIMIT);
        const fp = await fingerprintModel(model, {
          probes: { count: 4, seed: 1 },
          timeLimitMs: CASE_LIMIT_MS,
          // Trigger probing runs thousands of extra passes through the same session: not what mutations exercise.
          trigger: false,
        });
        expect(fp.header.probes.count).toBe(4);
        count('fingerprinted');
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        expect(e.message).toContain(file);
        // Names quoted from the mutant may hold anything; what reaches a report or log is one safe line.
        const line = safeErrorLine(e.message);
        expect(line.split('\n')).toHaveLength(1);
        // eslint-disable-next-line no-control-regex -- the point is to find control characters
        expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
        count(e.code);
      }
      const ms = Date.now() - t0;
      slowest = Math.max(slowest, ms);
      expect(ms).toBeLessThan(CASE_LIMIT_MS);
      expect(process.memoryUsage().rss - rssStart).toBeLessThan(RSS_GROWTH_LIMIT);
    }),
    { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true },
  );

  // The fuzz reached both sides: mutants that still run, and each kind of refusal the mutations aim at.
  const stats = Object.fromEntries([...outcomes].sort());
  expect(stats.fingerprinted).toBeGreaterThan(10);
  for (const code of [
    'truncated',
    'not-onnx',
    'invalid-graph',
    'external-data',
    'too-large',
    'unknown-operator',
  ]) {
    expect(stats[code] ?? 0).toBeGreaterThan(0);
  }
  process.stdout.write(`fuzz: ${NUM_RUNS} cases, slowest ${slowest} ms, outcomes ${JSON.stringify(stats)}\n`);
}, 60_000);

test('a declared 40 GB initializer is refused before anything is allocated', async () => {
  const file = path.join(dir, 'declared-huge.onnx');
  writeFileSync(
    file,
    mutate(fuzzSeedModel(), {
      kind: 'fields',
      muts: [
        { kind: 'dims', tensor: 0, axis: 0, value: 1e9 },
        { kind: 'dims', tensor: 0, axis: 1, value: 10 },
      ],
    }),
  );
  const before = process.memoryUsage().rss;
  await expect(readModel(file)).rejects.toMatchObject({
    code: 'too-large',
    message: expect.stringContaining('600000000 elements'),
  });
  expect(process.memoryUsage().rss - before).toBeLessThan(READ_RSS_GROWTH_LIMIT);
});
