/**
 * One sticky pull-request comment per PR, edited on every re-run instead of piling up. Ours is the comment
 * that carries the hidden marker AND was written by our identity: anyone can paste the marker into a
 * comment, so the author check keeps the action from adopting (or failing to edit) somebody else's.
 *
 * Our identity: the `comment-author` input when given; else GET /user, which answers for a personal access
 * token but is refused for installation tokens such as GITHUB_TOKEN, whose comments are written by the
 * Bot `github-actions[bot]`. A GitHub App token posts as `<app-slug>[bot]`: set comment-author for it; when
 * a new comment turns out to carry another login, the run says which value to set.
 */
import { MAX_COMMENT_BODY_CHARS } from './github-limits.js';
import { API_PAGE_SIZE } from './github-limits.js';
import type { GitHubClient } from './octokit.js';
import { trimChars } from './text.js';

export const STICKY_MARKER = '<!-- model-fingerprint:sticky -->';
export const DEFAULT_BOT_LOGIN = 'github-actions[bot]';

export interface CommentTarget {
  owner: string;
  repo: string;
  issueNumber: number;
}

export interface StickyResult {
  id: number;
  action: 'created' | 'updated';
  /** Set when the comment was posted under another login than the one looked for. */
  authorMismatch?: { expected: string; actual: string };
}

interface CommentUser {
  login: string;
  type: string;
}

/** The login whose marked comment is ours. */
export async function resolveCommentAuthor(
  octokit: GitHubClient,
  configured: string | null,
): Promise<string> {
  if (configured) return configured;
  try {
    const { data } = await octokit.rest.users.getAuthenticated();
    return data.login;
  } catch {
    // Installation tokens (GITHUB_TOKEN, GitHub Apps) may not call GET /user.
    return DEFAULT_BOT_LOGIN;
  }
}

export function isOurComment(
  body: string | undefined,
  user: CommentUser | null | undefined,
  author: string,
): boolean {
  if (!body?.includes(STICKY_MARKER) || !user) return false;
  if (user.login !== author) return false;
  // A "[bot]" login must belong to a Bot account, never to a person who chose a look-alike name.
  return author.endsWith('[bot]') ? user.type === 'Bot' : true;
}

export async function upsertStickyComment(
  octokit: GitHubClient,
  target: CommentTarget,
  markdown: string,
  author: string,
): Promise<StickyResult> {
  const body = trimChars(`${STICKY_MARKER}\n${markdown}`, MAX_COMMENT_BODY_CHARS);
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issueNumber,
    per_page: API_PAGE_SIZE,
  });
  const ours = comments.find((c) => isOurComment(c.body, c.user, author));
  if (ours) {
    await octokit.rest.issues.updateComment({
      owner: target.owner,
      repo: target.repo,
      comment_id: ours.id,
      body,
    });
    return { id: ours.id, action: 'updated' };
  }
  const { data } = await octokit.rest.issues.createComment({
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issueNumber,
    body,
  });
  const actual = data.user?.login;
  const result: StickyResult = { id: data.id, action: 'created' };
  if (actual && actual !== author) result.authorMismatch = { expected: author, actual };
  return result;
}
