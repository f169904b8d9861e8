/**
 * The REST client: @actions/github's Octokit (REST methods + paginate) with @octokit/plugin-retry (5xx
 * retried with growing delays) and @octokit/plugin-throttling (primary and secondary rate limits waited
 * out, honouring retry-after). The base URL is given explicitly (GITHUB_API_URL: GitHub Enterprise, the
 * tests' fake server). Delays scale with `retryBaseMs` so tests can run the same code fast.
 */
import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling, type ThrottlingOptions } from '@octokit/plugin-throttling';
import { API_MAX_RATE_LIMIT_RETRIES, API_MAX_RETRIES } from './github-limits.js';

export type GitHubClient = ReturnType<typeof getOctokit>;

export interface OctokitSettings {
  baseUrl: string;
  /** One "second" of the plugins' backoff, in ms (1000 in production; ~1 in tests). */
  retryBaseMs?: number;
  /** Extra throttling options (tests pass request-spacing groups without the production spacing). */
  throttle?: Partial<ThrottlingOptions>;
  /** Where the plugins' diagnostics go. */
  log?: (message: string) => void;
}

export function createOctokit(token: string, settings: OctokitSettings): GitHubClient {
  const base = settings.retryBaseMs ?? 1000;
  const log = settings.log ?? (() => undefined);
  const onLimit =
    (kind: string) =>
    (
      retryAfter: number,
      options: { method?: string; url?: string },
      _octokit: unknown,
      retryCount: number,
    ): boolean => {
      const again = retryCount < API_MAX_RATE_LIMIT_RETRIES;
      log(
        `GitHub API ${kind} on ${options.method} ${options.url}: ${again ? `retrying after ${retryAfter} s` : 'giving up'}`,
      );
      return again;
    };
  const throttle: ThrottlingOptions = {
    retryAfterBaseValue: base,
    fallbackSecondaryRateRetryAfter: 60,
    ...settings.throttle,
    onRateLimit: onLimit('rate limit'),
    onSecondaryRateLimit: onLimit('secondary rate limit'),
  };
  return getOctokit(
    token,
    {
      baseUrl: settings.baseUrl,
      retry: { retries: API_MAX_RETRIES, retryAfterBaseValue: base },
      throttle,
      log: { debug: () => undefined, info: () => undefined, warn: log, error: log },
    },
    retry,
    throttling,
  );
}
