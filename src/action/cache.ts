/**
 * The baseline in the Actions cache. Cache entries are immutable, so a baseline is saved under
 * `<baseline-cache-key>-<baseline id>` and restored by the prefix `<baseline-cache-key>-` (the newest entry
 * with that prefix wins). A miss, or a cache service that cannot be reached, is a warning and the run falls
 * back to the `baseline` path in the workspace. The content check of what was restored is the caller's
 * (verifyBaseline): a restored baseline that does not verify must stop the run.
 */
import { describeError, InputError } from '../errors.js';

/** What the action needs of @actions/cache (injected: tests replace it at this edge). */
export interface CacheDep {
  restore(paths: string[], primaryKey: string, restoreKeys: string[]): Promise<string | undefined>;
  save(paths: string[], key: string): Promise<number>;
}

/** The service's key limits (512 characters, no commas). */
const MAX_CACHE_KEY_CHARS = 512;

export function cacheKeyPrefix(key: string): string {
  if (key.includes(',') || key.length > MAX_CACHE_KEY_CHARS - 80) {
    throw new InputError(
      'bad-argument',
      `action input "baseline-cache-key" is "${key}": use fewer than ${MAX_CACHE_KEY_CHARS - 80} characters and no commas`,
    );
  }
  return `${key}-`;
}

export function cacheKeyFor(key: string, baselineId: string): string {
  return `${cacheKeyPrefix(key)}${baselineId}`;
}

export type RestoreOutcome = { hit: true; key: string } | { hit: false; warning: string };

export async function restoreBaseline(cache: CacheDep, dir: string, key: string): Promise<RestoreOutcome> {
  const prefix = cacheKeyPrefix(key);
  try {
    const hit = await cache.restore([dir], prefix, [prefix]);
    if (hit) return { hit: true, key: hit };
    return {
      hit: false,
      warning: `No cached baseline under the key prefix "${prefix}": using the baseline at ${dir} (build and cache one with mode: baseline on the default branch).`,
    };
  } catch (e) {
    return {
      hit: false,
      warning: `The Actions cache could not be read (${describeError(e)}): using the baseline at ${dir}.`,
    };
  }
}

export type SaveOutcome = { saved: true; key: string } | { saved: false; key: string; warning: string };

export async function saveBaseline(
  cache: CacheDep,
  dir: string,
  key: string,
  baselineId: string,
): Promise<SaveOutcome> {
  const full = cacheKeyFor(key, baselineId);
  try {
    const id = await cache.save([dir], full);
    // @actions/cache reports most failures (including "this key exists") as -1 after logging them.
    if (id === -1)
      return {
        saved: false,
        key: full,
        warning: `The baseline was not saved to the Actions cache under "${full}" (see the cache messages above; an entry with this key may already exist, which holds the same baseline).`,
      };
    return { saved: true, key: full };
  } catch (e) {
    return {
      saved: false,
      key: full,
      warning: `The baseline could not be saved to the Actions cache under "${full}": ${describeError(e)}`,
    };
  }
}
