/**
 * bench:realsize's caches, so that a run interrupted on a shared machine (or started before the last test
 * models finished training) resumes instead of starting over. A baseline build of 20 real-size references
 * depends only on the tool that ran it, the references' bytes, the samples and the budget (the record sits
 * beside the baseline folder, `<dir>.build.json`); a model's scan entry depends on the same plus the
 * baseline it was scanned against, and is kept per model file hash (`scan-<condition>.cache.json`): a run
 * scans, in one CLI process, only the test models that have no entry for its key.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ModelEntry, ScanReport } from '../../src/report/types.js';
import type { BuildResult, CliRunner, ScanResult } from '../torch/cli.js';
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

export interface ScanCache {
  key: string;
  /** The report of the latest scan (its models replaced by the cached entries when read back). */
  report: ScanReport | null;
  entries: Record<string, ModelEntry>;
}

/** A scan cache file as written (any key), or null when there is none: for studies that rescore its entries. */
export function readScanCache(file: string): ScanCache | null {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ScanCache) : null;
}

/**
 * The scan of `models` (by file hash; `path` as the CLI is given it), reusing the entries cached under `key`
 * and running `scan` on the rest only, `chunk` models per call. The returned report lists every model in `models`' order (entries
 * from earlier runs included, with their own durations); `ms` is this run's wall time, `scanned` how many
 * models it scanned. Two runs may share the cache (a second one with `fromEnd`, scanning from the other end):
 * each re-reads the file before every chunk, skips what the other cached, and merges before it writes.
 */
export function cachedScan(
  file: string,
  key: string,
  models: { sha256: string; path: string }[],
  scan: (paths: string[]) => ScanResult,
  chunk = Infinity,
  fromEnd = false,
): ScanResult & { scanned: number } {
  let cache: ScanCache = { key, report: null, entries: {} };
  const merge = () => {
    const prev = readScanCache(file);
    if (prev?.key === key)
      cache = { key, report: cache.report ?? prev.report, entries: { ...prev.entries, ...cache.entries } };
  };
  const todo = () => {
    const t = models.filter((m) => !cache.entries[m.sha256]);
    return (fromEnd ? t.reverse() : t).slice(0, chunk);
  };
  merge();
  let res: ScanResult = { report: cache.report, ms: 0, status: 0, message: '' };
  let ms = 0;
  let scanned = 0;
  // in chunks, each cached as it ends: a run stopped midway keeps what it scanned
  for (let part = todo(); part.length; merge(), part = todo()) {
    res = scan(part.map((m) => m.path));
    ms += res.ms;
    scanned += part.length;
    if (!res.report) break;
    const report = res.report;
    merge();
    for (const m of part) {
      const e = report.models.find((x) => x.path === m.path);
      if (e) cache.entries[m.sha256] = e;
    }
    cache.report = report;
    // written whole and renamed: the other run never reads half a file
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(cache) + '\n');
    renameSync(tmp, file);
  }
  res = { ...res, ms };
  if (!cache.report) return { ...res, scanned };
  const entries = models
    .map((m) => (cache.entries[m.sha256] ? { ...cache.entries[m.sha256], path: m.path } : null))
    .filter((e): e is ModelEntry => e !== null);
  return { ...res, report: { ...cache.report, models: entries }, scanned };
}
