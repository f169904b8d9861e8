/**
 * The CacheDep backed by @actions/cache. Checks that the runner exposes a cache service first: without it
 * the library retries a request that cannot succeed (seconds of delay) before reporting a miss.
 */
import * as cache from '@actions/cache';
import type { CacheDep } from './cache.js';

export const actionsCache: CacheDep = {
  async restore(paths, primaryKey, restoreKeys) {
    if (!cache.isFeatureAvailable()) {
      throw new Error(
        'the Actions cache service is not available here (ACTIONS_CACHE_URL / ACTIONS_RESULTS_URL not set)',
      );
    }
    return cache.restoreCache(paths, primaryKey, restoreKeys);
  },
  async save(paths, key) {
    if (!cache.isFeatureAvailable()) {
      throw new Error(
        'the Actions cache service is not available here (ACTIONS_CACHE_URL / ACTIONS_RESULTS_URL not set)',
      );
    }
    return cache.saveCache(paths, key);
  },
};
