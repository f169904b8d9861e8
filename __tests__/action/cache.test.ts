/**
 * The baseline and the Actions cache: a miss (real @actions/cache against the fake server's cache
 * endpoint) falls back to the committed baseline; a restored baseline that does not verify stops the run
 * before any scan; a hit is verified and used; mode: baseline builds or extends and saves under
 * `<key>-<baseline id>`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { actionsCache } from '../../src/action/actions-cache.js';
import type { CacheDep } from '../../src/action/cache.js';
import { FAKE_BASELINE, Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await new Harness().start();
  h.addFiles('models/clean.onnx');
  h.fake.prFiles = [{ filename: 'models/clean.onnx', status: 'added' }];
});
afterEach(async () => {
  await h.stop();
});

function commitBaseline(dir: string, content = '{"id":"committed"}'): void {
  mkdirSync(join(h.workspace, dir), { recursive: true });
  writeFileSync(join(h.workspace, dir, 'manifest.json'), content);
}

/** A cache stand-in recording calls; `restoreInto` simulates what a hit extracts. */
function recordingCache(restoreInto?: () => void, hitKey?: string) {
  const calls: { op: string; paths: string[]; key: string; restoreKeys?: string[] }[] = [];
  const dep: CacheDep = {
    restore: async (paths, key, restoreKeys) => {
      calls.push({ op: 'restore', paths, key, restoreKeys });
      if (!hitKey) return undefined;
      restoreInto?.();
      return hitKey;
    },
    save: async (paths, key) => {
      calls.push({ op: 'save', paths, key });
      return 42;
    },
  };
  return { dep, calls };
}

test('cache miss through the real @actions/cache: warning, then the committed baseline is used', async () => {
  commitBaseline('baselines/default');
  await h.run({
    event: 'pull_request',
    inputs: { 'baseline-cache-key': 'mf-baseline' },
    cache: actionsCache,
    env: { ACTIONS_CACHE_URL: `${h.fake.url}/`, ACTIONS_RUNTIME_TOKEN: 'runtime-token' },
  });
  const lookups = h.fake.calls('cache.lookup');
  expect(lookups).toHaveLength(1);
  expect(lookups[0].query.keys).toBe('mf-baseline-,mf-baseline-');
  expect(
    h.commands('warning').some((l) => l.includes('No cached baseline under the key prefix "mf-baseline-"')),
  ).toBe(true);
  expect(h.verifyCalls).toEqual([join(h.workspace, 'baselines/default')]);
  expect(h.scanCalls[0].opts.baselineDir).toBe(join(h.workspace, 'baselines/default'));
  expect(h.failures).toEqual([]);
});

test('cache service unavailable (no URL): warning, fallback, and no baseline at all means reference-free with a warning', async () => {
  await h.run({
    event: 'pull_request',
    inputs: { 'baseline-cache-key': 'mf-baseline' },
    cache: actionsCache,
    env: { ACTIONS_CACHE_URL: '', ACTIONS_RESULTS_URL: '' },
  });
  expect(
    h
      .commands('warning')
      .some((l) =>
        l.includes('The Actions cache could not be read (the Actions cache service is not available here'),
      ),
  ).toBe(true);
  expect(
    h
      .commands('warning')
      .some((l) => l.includes('No baseline at baselines/default: only reference-free checks run')),
  ).toBe(true);
  expect(h.scanCalls[0].opts.baselineDir).toBeNull();
  expect(h.failures).toEqual([]);
});

test('a restored baseline that does not verify stops the run loudly, before any scan', async () => {
  const { dep, calls } = recordingCache(
    () => commitBaseline('baselines/default', '{"tampered":true}'),
    'mf-baseline-sha256:123',
  );
  const o = await h.run({
    event: 'pull_request',
    inputs: { 'baseline-cache-key': 'mf-baseline' },
    cache: dep,
  });
  expect(calls[0]).toMatchObject({
    op: 'restore',
    paths: ['baselines/default'],
    key: 'mf-baseline-',
    restoreKeys: ['mf-baseline-'],
  });
  expect(o.mode).toBe('error');
  expect(h.scanCalls).toHaveLength(0);
  expect(h.fake.checkRuns).toHaveLength(0);
  expect(h.failures).toHaveLength(1);
  expect(h.failures[0]).toContain('restored from the Actions cache (key mf-baseline-sha256:123)');
  expect(h.failures[0]).toContain('content hash does not match');
  expect(h.failures[0]).toContain('gh cache delete');
  expect(h.summary()).toContain('### Model fingerprint: the run failed');
  expect(h.summary()).toContain('does not verify');
});

test('a cache hit is verified and scanned against', async () => {
  const { dep } = recordingCache(() => commitBaseline('baselines/default'), 'mf-baseline-sha256:abc');
  await h.run({ event: 'pull_request', inputs: { 'baseline-cache-key': 'mf-baseline' }, cache: dep });
  expect(h.verifyCalls).toEqual([join(h.workspace, 'baselines/default')]);
  expect(h.scanCalls[0].opts.baselineDir).toBe(join(h.workspace, 'baselines/default'));
  expect(h.fake.comments[0].body).toContain('models/clean.onnx');
  expect(h.failures).toEqual([]);
});

test('mode: baseline builds from every matching model and saves under <key>-<baseline id>', async () => {
  h.addFiles('models/clean2.onnx');
  const { dep, calls } = recordingCache();
  const o = await h.run({
    event: 'push',
    payload: { before: '0'.repeat(40), after: 'a'.repeat(40) },
    inputs: { mode: 'baseline', 'baseline-cache-key': 'mf-baseline' },
    cache: dep,
  });
  expect(o.mode).toBe('baseline');
  expect(h.baselineCalls).toEqual([
    {
      kind: 'build',
      paths: [join(h.workspace, 'models/clean.onnx'), join(h.workspace, 'models/clean2.onnx')],
      dir: join(h.workspace, 'baselines/default'),
    },
  ]);
  expect(calls).toEqual([
    { op: 'save', paths: ['baselines/default'], key: `mf-baseline-${FAKE_BASELINE.id}` },
  ]);
  expect(h.outputs()).toMatchObject({ 'baseline-id': FAKE_BASELINE.id, 'baseline-size': '2' });
  expect(h.summary()).toContain('Saved to the Actions cache');
  // built without probe-samples: one warning says how to get the stronger setting
  const advice = h.commands('warning').filter((l) => l.includes('built without probe samples'));
  expect(advice).toHaveLength(1);
  expect(advice[0]).toContain('input probe-samples');
  expect(h.fake.requests).toHaveLength(0);
  expect(h.failures).toEqual([]);
});

test('mode: baseline adds to an existing baseline directory', async () => {
  commitBaseline('baselines/default');
  const o = await h.run({ event: 'workflow_dispatch', inputs: { mode: 'baseline' } });
  expect(o.mode).toBe('baseline');
  expect(h.baselineCalls.map((c) => c.kind)).toEqual(['add']);
  expect(h.outputs()['baseline-id']).toBe('sha256:' + 'd'.repeat(64));
  expect(h.commands('warning').filter((l) => l.includes('Input budget'))).toEqual([]);
});

test('mode: baseline adding with a budget input says the baseline keeps its own budget', async () => {
  commitBaseline('baselines/default');
  await h.run({ event: 'workflow_dispatch', inputs: { mode: 'baseline', budget: 'thorough' } });
  expect(h.baselineCalls.map((c) => c.kind)).toEqual(['add']);
  const notes = h.commands('warning').filter((l) => l.includes('Input budget (thorough) set aside'));
  expect(notes).toHaveLength(1);
});

test('mode: baseline building records the budget input', async () => {
  await h.run({ event: 'workflow_dispatch', inputs: { mode: 'baseline', budget: 'fast' } });
  expect(h.baselineCalls.map((c) => c.kind)).toEqual(['build']);
  expect(h.buildOptions[0].budget).toEqual({ setting: 'fast', macs: 1e12 });
});

test('mode: baseline with no matching model fails with a clear message', async () => {
  const o = await h.run({ event: 'workflow_dispatch', inputs: { mode: 'baseline', models: '**/*.pt2' } });
  expect(o.mode).toBe('error');
  expect(h.failures[0]).toContain('mode: baseline found no file matching **/*.pt2');
});
