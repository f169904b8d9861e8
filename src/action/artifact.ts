/**
 * The HTML report as a workflow artifact (`report-artifact: true`): the report directory (index.html and
 * the pictures, src/report/pictures.ts) is written under RUNNER_TEMP and uploaded, and the comment links
 * the artifact. Reporting never costs the scan: a directory that cannot be written or an upload that fails
 * (no artifact service here, a refused token, an outage) is one warning, and the comment and summary go out
 * without the link.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '../errors.js';
import type { ReportFile } from '../report/pictures.js';
import { writeFilesInto } from '../util/write-files.js';
import type { ActionContext } from './context.js';
import type { ActionCore } from './deps.js';

/** What the action needs of @actions/artifact (actions-artifact.ts wires the real client). */
export interface ArtifactDep {
  /** Uploads `files` (paths under `rootDir`) as the artifact `name`; resolves to its id. */
  upload(name: string, files: string[], rootDir: string): Promise<{ id?: number }>;
}

/** The uploaded report: its artifact name and the link to it on the run's page. */
export interface ReportArtifact {
  dir: string;
  name: string;
  /** Undefined when the upload failed or the run's page is not known (no GITHUB_RUN_ID). */
  url?: string;
  warning?: string;
}

/** The report directory's name under the action's output directory. */
export const REPORT_DIR_NAME = 'html-report';

/** The artifact's page: <server>/<owner>/<repo>/actions/runs/<run id>/artifacts/<artifact id>. */
export function artifactUrl(ctx: ActionContext, id: number | undefined): string | undefined {
  if (id === undefined || !ctx.runId || !ctx.owner || !ctx.repo) return undefined;
  const server = ctx.serverUrl.replace(/\/+$/, '');
  return `${server}/${encodeURIComponent(ctx.owner)}/${encodeURIComponent(ctx.repo)}/actions/runs/${encodeURIComponent(ctx.runId)}/artifacts/${id}`;
}

export async function uploadReportArtifact(
  core: ActionCore,
  ctx: ActionContext,
  artifact: ArtifactDep,
  name: string,
  files: ReportFile[],
): Promise<ReportArtifact> {
  const dir = join(ctx.outDir, REPORT_DIR_NAME);
  const failed = (what: string, e: unknown): ReportArtifact => {
    const why = describeError(e);
    const hint = /already exists|\(409\)/i.test(why)
      ? ' Several scans in one workflow run need one report-artifact-name each.'
      : '';
    const warning = `Could not ${what} (${why}).${hint} The scan's results are in the check run, the comment and the job summary; only the pictures are missing.`;
    core.warning(warning);
    return { dir, name, warning };
  };
  let paths: string[];
  try {
    // the directory is the action's own (under RUNNER_TEMP): an earlier run's pictures must not linger there
    rmSync(dir, { recursive: true, force: true });
    paths = writeFilesInto(dir, files);
  } catch (e) {
    return failed(`write the HTML report to ${dir}`, e);
  }
  core.setOutput('report-dir', dir);
  try {
    const { id } = await artifact.upload(name, paths, dir);
    const url = artifactUrl(ctx, id);
    core.info(`HTML report uploaded as the workflow artifact "${name}"${url ? `: ${url}` : ''}.`);
    return { dir, name, ...(url ? { url } : {}) };
  } catch (e) {
    return failed(`upload the HTML report as the workflow artifact "${name}"`, e);
  }
}
