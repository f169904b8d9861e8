/**
 * Which model files a run scans. Pull requests: the files the PR adds, modifies or renames (REST
 * pulls.listFiles); pushes: the files changed between before and after (compare API); workflow_dispatch
 * and anything else: every matching file in the workspace. Removed files are never scanned.
 *
 * A changed file that is not a model but may be a model's external tensor data (PyTorch's `model.onnx.data`)
 * makes the models that read it scanned too (src/action/side-files.ts): swapping only the weights file must
 * not slip past the gate.
 *
 * When the API cannot give a complete list (the 3000-file cap of pulls.listFiles, the 300-file cap of
 * compare, a first push, a compare that fails after a force push), the run scans every matching file in
 * the workspace instead and says so: a security gate scans too much rather than too little.
 */
import fg from 'fast-glob';
import { minimatch } from 'minimatch';
import { describeError } from '../errors.js';
import type { ActionContext } from './context.js';
import { modelsUsingSideFiles } from './side-files.js';
import { API_PAGE_SIZE, COMPARE_FILES_API_CAP, PULL_FILES_API_CAP } from './github-limits.js';
import type { GitHubClient } from './octokit.js';

export interface Selection {
  /** Repository-relative paths (forward slashes), sorted. */
  paths: string[];
  /** Where the list came from, said in the summary. */
  source: 'pull-request' | 'push' | 'workspace';
  /** Why the selection fell back to the workspace, or what it could not see. */
  warnings: string[];
  /** Why a model that did not change itself is scanned (its side file changed): said in the log. */
  notes: string[];
}

// Matching is case-insensitive and includes dot folders: `MODEL.ONNX` or `.hidden/x.onnx` must not slip past.
const MATCH_OPTS = { dot: true, nocase: true } as const;

/** A predicate for repository paths: matches one positive pattern and no `!` pattern. */
export function pathMatcher(patterns: string[]): (path: string) => boolean {
  const positive = patterns.filter((p) => !p.startsWith('!'));
  const negative = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  return (path) =>
    positive.some((p) => minimatch(path, p, MATCH_OPTS)) &&
    !negative.some((p) => minimatch(path, p, MATCH_OPTS));
}

/** Every matching file under the workspace (symlinks not followed, .git skipped). */
export async function workspaceModels(workspace: string, patterns: string[]): Promise<string[]> {
  const positive = patterns.filter((p) => !p.startsWith('!'));
  const negative = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  const found = await fg(positive, {
    cwd: workspace,
    ignore: ['.git/**', ...negative],
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: false,
    caseSensitiveMatch: false,
    unique: true,
  });
  return found.sort();
}

interface ChangedFile {
  filename: string;
  status: string;
  /** A rename's old path (the API gives it): a model naming the old side file no longer loads. */
  previous_filename?: string;
}

function keepChanged(files: ChangedFile[], match: (p: string) => boolean): string[] {
  return [
    ...new Set(files.filter((f) => f.status !== 'removed' && match(f.filename)).map((f) => f.filename)),
  ].sort();
}

/**
 * The changed models plus every workspace model whose external data is among the other changed files
 * (removed ones too: a model whose weights file was deleted must fail its scan, not be skipped).
 */
async function changedSelection(
  workspace: string,
  files: ChangedFile[],
  patterns: string[],
  match: (p: string) => boolean,
  source: Selection['source'],
): Promise<Selection> {
  const paths = keepChanged(files, match);
  const others = [
    ...new Set(
      files.flatMap((f) => [f.filename, f.previous_filename ?? f.filename]).filter((p) => !match(p)),
    ),
  ];
  const notes: string[] = [];
  if (others.length > 0) {
    const hits = modelsUsingSideFiles(workspace, others, await workspaceModels(workspace, patterns));
    for (const h of hits) {
      if (paths.includes(h.model)) continue;
      paths.push(h.model);
      notes.push(
        h.why === 'reference'
          ? `${h.model} is scanned: it names ${h.sideFile}, which changed (external tensor data)`
          : h.why === 'too-large'
            ? `${h.model} is scanned: ${h.sideFile} changed in its folder and the model is too large to search for a reference to it`
            : `${h.model} is scanned: too many files changed in its folder (${h.sideFile} among them) to search it for references`,
      );
    }
  }
  return { paths: paths.sort(), source, warnings: [], notes };
}

async function pullRequestFiles(
  octokit: GitHubClient,
  ctx: ActionContext,
  prNumber: number,
): Promise<ChangedFile[]> {
  return octokit.paginate(octokit.rest.pulls.listFiles, {
    owner: ctx.owner,
    repo: ctx.repo,
    pull_number: prNumber,
    per_page: API_PAGE_SIZE,
  });
}

async function pushFiles(
  octokit: GitHubClient,
  ctx: ActionContext,
  before: string,
  after: string,
): Promise<ChangedFile[]> {
  const { data } = await octokit.rest.repos.compareCommitsWithBasehead({
    owner: ctx.owner,
    repo: ctx.repo,
    basehead: `${before}...${after}`,
  });
  return data.files ?? [];
}

export async function selectModels(
  ctx: ActionContext,
  patterns: string[],
  octokit: GitHubClient | null,
): Promise<Selection> {
  const match = pathMatcher(patterns);
  const everything = async (why: string | null): Promise<Selection> => ({
    paths: await workspaceModels(ctx.workspace, patterns),
    source: 'workspace',
    warnings: why ? [why] : [],
    notes: [],
  });

  if (ctx.pullRequest) {
    if (!octokit)
      return everything(
        "No github-token: cannot list the pull request's files, so every matching file in the workspace is scanned.",
      );
    let files: ChangedFile[];
    try {
      files = await pullRequestFiles(octokit, ctx, ctx.pullRequest.number);
    } catch (e) {
      return everything(
        `Could not list the pull request's files (${describeError(e)}): every matching file in the workspace is scanned instead.`,
      );
    }
    if (files.length >= PULL_FILES_API_CAP) {
      return everything(
        `This pull request changes ${PULL_FILES_API_CAP} or more files and the GitHub API lists only the first ${PULL_FILES_API_CAP}: every matching file in the workspace is scanned instead.`,
      );
    }
    return changedSelection(ctx.workspace, files, patterns, match, 'pull-request');
  }

  if (ctx.push) {
    if (ctx.push.created) return everything(null);
    if (!octokit)
      return everything(
        'No github-token: cannot compare the push, so every matching file in the workspace is scanned.',
      );
    let files: ChangedFile[];
    try {
      files = await pushFiles(octokit, ctx, ctx.push.before, ctx.push.after);
    } catch (e) {
      return everything(
        `Could not compare ${ctx.push.before.slice(0, 7)}...${ctx.push.after.slice(0, 7)} (${describeError(e)}): every matching file in the workspace is scanned instead.`,
      );
    }
    if (files.length >= COMPARE_FILES_API_CAP) {
      return everything(
        `This push changes ${COMPARE_FILES_API_CAP} or more files and the compare API lists only the first ${COMPARE_FILES_API_CAP}: every matching file in the workspace is scanned instead.`,
      );
    }
    return changedSelection(ctx.workspace, files, patterns, match, 'push');
  }

  return everything(null);
}
