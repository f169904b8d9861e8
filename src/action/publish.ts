/**
 * Publishing a scan to GitHub: the check run (with annotations), the sticky PR comment and the job
 * summary. Reporting trouble never fails the job: a refused or failing API call (read-only fork token,
 * missing permission, outage after retries) falls back to workflow-command annotations plus the job
 * summary, and the run prints ONE warning that names the fix.
 */
import { describeError } from '../errors.js';
import type { ModelAnnotation } from './annotations.js';
import { publishCheck, type Conclusion } from './checks.js';
import { resolveCommentAuthor, upsertStickyComment } from './comment.js';
import type { ActionContext } from './context.js';
import type { ActionCore } from './deps.js';
import { MAX_JOB_SUMMARY_BYTES } from './github-limits.js';
import type { GitHubClient } from './octokit.js';
import { trimBytes } from './text.js';
import { emitWorkflowAnnotations } from './workflow-annotations.js';

export interface Publication {
  conclusion: Conclusion;
  title: string;
  /** Check-run summary (trimmed to the API limit by publishCheck). */
  checkSummary: string;
  annotations: ModelAnnotation[];
  /** The comment and job summary text; receives the check run's URL when there is one. */
  markdown: (checkUrl?: string) => string;
}

export interface PublishOptions {
  checkName: string;
  comment: boolean;
  commentAuthor: string | null;
}

export interface PublishResult {
  checkRunId: number | null;
  commentId: number | null;
  /** Annotations went out as workflow commands instead of on a check run. */
  usedWorkflowAnnotations: boolean;
  /** The single reporting warning printed, if any. */
  warning: string | null;
}

const PERMISSION_STATUSES = new Set([401, 403, 404]);

function statusOf(e: unknown): number | undefined {
  const s = (e as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}

function problem(what: string, e: unknown): { text: string; permission: boolean } {
  const status = statusOf(e);
  return {
    text: `the ${what}${status ? ` (HTTP ${status})` : ''}: ${describeError(e)}`,
    permission: status !== undefined && PERMISSION_STATUSES.has(status),
  };
}

export const PERMISSION_FIX =
  'Give the job `permissions: { contents: read, checks: write, pull-requests: write }`. ' +
  'Pull requests from forks always get a read-only token: use the two-workflow recipe (scan on pull_request, report from workflow_run) in docs/action.md, never pull_request_target with a checkout of the PR head.';

export async function publish(
  core: ActionCore,
  ctx: ActionContext,
  octokit: GitHubClient | null,
  pub: Publication,
  opts: PublishOptions,
): Promise<PublishResult> {
  const problems: { text: string; permission: boolean }[] = [];
  const result: PublishResult = {
    checkRunId: null,
    commentId: null,
    usedWorkflowAnnotations: false,
    warning: null,
  };
  let checkUrl: string | undefined;

  if (octokit && ctx.owner && ctx.repo && ctx.sha) {
    try {
      const check = await publishCheck(
        octokit,
        { owner: ctx.owner, repo: ctx.repo, headSha: ctx.sha, name: opts.checkName },
        {
          conclusion: pub.conclusion,
          title: pub.title,
          summary: pub.checkSummary,
          annotations: pub.annotations,
        },
      );
      result.checkRunId = check.id;
      checkUrl = check.url || undefined;
    } catch (e) {
      problems.push(problem('check run', e));
    }
  }
  if (result.checkRunId === null) {
    emitWorkflowAnnotations(core, pub.annotations);
    result.usedWorkflowAnnotations = true;
  }

  const markdown = pub.markdown(checkUrl);
  if (octokit && ctx.pullRequest && opts.comment) {
    try {
      const author = await resolveCommentAuthor(octokit, opts.commentAuthor);
      const sticky = await upsertStickyComment(
        octokit,
        { owner: ctx.owner, repo: ctx.repo, issueNumber: ctx.pullRequest.number },
        markdown,
        author,
      );
      result.commentId = sticky.id;
      core.info(`Pull request comment ${sticky.action} (id ${sticky.id}).`);
      if (sticky.authorMismatch) {
        problems.push({
          text: `the sticky comment's author: it was posted as "${sticky.authorMismatch.actual}" but the action looks for "${sticky.authorMismatch.expected}", so a re-run would add another comment; set \`comment-author: ${sticky.authorMismatch.actual}\``,
          permission: false,
        });
      }
    } catch (e) {
      problems.push(problem('pull request comment', e));
    }
  }

  try {
    core.summary.addRaw(trimBytes(markdown, MAX_JOB_SUMMARY_BYTES), true);
    await core.summary.write();
  } catch (e) {
    // No GITHUB_STEP_SUMMARY outside a runner: the report files and the log still carry the results.
    core.summary.emptyBuffer();
    core.info(`Job summary not written: ${describeError(e)}`);
  }

  if (problems.length) {
    const fix = problems.some((p) => p.permission) ? ` ${PERMISSION_FIX}` : '';
    const where = result.usedWorkflowAnnotations
      ? ' The results are in the workflow annotations and the job summary instead.'
      : ' The results are in the check run and the job summary.';
    result.warning = `Could not publish ${problems.map((p) => p.text).join('; ')}.${where}${fix}`;
    core.warning(result.warning);
  }
  return result;
}
