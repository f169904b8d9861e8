/**
 * The bench's baseline builds, cached: a build of 20 real-size references is bench:realsize's longest step,
 * and it depends only on the tool that ran it, the references' bytes, the samples and the budget. The
 * record sits beside the baseline folder (`<dir>.build.json`).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { BuildResult, CliRunner } from '../torch/cli.js';
import type { RealsizeModel } from './manifest.js';

/**
 * What a baseline build depends on: the tool that built it (its runner and `tool`, a stamp of its code: the
 * bundle's hash, or the checkout's commit), its members' bytes, the samples, the budget.
 */
export function buildKey(
  runner: CliRunner,
  tool: string,
  refs: Pick<RealsizeModel, 'sha256'>[],
  samples: boolean,
  args: string[],
): string {
  return JSON.stringify({ runner: runner.label, tool, refs: refs.map((m) => m.sha256), samples, args });
}

/**
 * A baseline build, reused when the folder's record says it was built with the same key (the build of 20
 * references is the bench's longest step; its time is the recorded one, not a re-measurement).
 */
export function cachedBuild(dir: string, key: string, build: () => BuildResult): BuildResult {
  const record = `${dir}.build.json`;
  if (existsSync(record) && existsSync(dir)) {
    const r = JSON.parse(readFileSync(record, 'utf8')) as { key: string; result: BuildResult };
    if (r.key === key && r.result.ok) {
      console.error(`  reusing the baseline built for the same references (${record})`);
      return r.result;
    }
  }
  const result = build();
  if (result.ok) writeFileSync(record, JSON.stringify({ key, result }) + '\n');
  return result;
}
