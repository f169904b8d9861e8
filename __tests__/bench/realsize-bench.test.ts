/**
 * bench:realsize's bookkeeping: the cached baseline build (reused only for the same tool, references,
 * samples and budget; a failed build is never reused) and the choice of models the speed part times.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildKey, cachedBuild } from '../../bench/realsize/build-cache.js';
import { speedModels } from '../../bench/realsize/speed.js';
import type { RealsizeModel } from '../../bench/realsize/manifest.js';
import type { BuildResult, CliRunner } from '../../bench/torch/cli.js';

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
