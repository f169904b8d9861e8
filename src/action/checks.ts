/**
 * The check run on the scanned commit: created completed, with a conclusion (failure when a model reaches
 * fail-on or could not be scanned, neutral when nothing was scanned, else success), a title and summary
 * saying how many models at which level, and one annotation per model. The API takes 50 annotations per
 * request: the first 50 go with checks.create, the rest in further checks.update calls (which append).
 */
import type { ModelAnnotation } from './annotations.js';
import {
  MAX_ANNOTATIONS_PER_REQUEST,
  MAX_CHECK_SUMMARY_CHARS,
  MAX_CHECK_TITLE_CHARS,
} from './github-limits.js';
import type { GitHubClient } from './octokit.js';
import { trimChars } from './text.js';

export type Conclusion = 'success' | 'failure' | 'neutral';

export interface CheckTarget {
  owner: string;
  repo: string;
  headSha: string;
  name: string;
}

export interface CheckContent {
  conclusion: Conclusion;
  title: string;
  summary: string;
  annotations: ModelAnnotation[];
}

export interface PublishedCheck {
  id: number;
  url: string;
  /** Requests made: 1 create + N updates. */
  requests: number;
}

function toApi(a: ModelAnnotation) {
  return {
    path: a.path,
    start_line: 1,
    end_line: 1,
    annotation_level: a.level,
    title: a.title,
    message: a.message,
    ...(a.rawDetails ? { raw_details: a.rawDetails } : {}),
  };
}

export async function publishCheck(
  octokit: GitHubClient,
  target: CheckTarget,
  content: CheckContent,
): Promise<PublishedCheck> {
  const output = {
    title: trimChars(content.title, MAX_CHECK_TITLE_CHARS),
    summary: trimChars(content.summary, MAX_CHECK_SUMMARY_CHARS),
  };
  const batches: ModelAnnotation[][] = [];
  for (let i = 0; i < content.annotations.length; i += MAX_ANNOTATIONS_PER_REQUEST) {
    batches.push(content.annotations.slice(i, i + MAX_ANNOTATIONS_PER_REQUEST));
  }
  const [first = [], ...rest] = batches;
  const { data } = await octokit.rest.checks.create({
    owner: target.owner,
    repo: target.repo,
    name: target.name,
    head_sha: target.headSha,
    status: 'completed',
    conclusion: content.conclusion,
    completed_at: new Date().toISOString(),
    output: { ...output, annotations: first.map(toApi) },
  });
  for (const batch of rest) {
    await octokit.rest.checks.update({
      owner: target.owner,
      repo: target.repo,
      check_run_id: data.id,
      output: { ...output, annotations: batch.map(toApi) },
    });
  }
  return { id: data.id, url: data.html_url ?? '', requests: 1 + rest.length };
}
