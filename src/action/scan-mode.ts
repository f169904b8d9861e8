/**
 * mode: scan. Pick the baseline (restored from the Actions cache and verified, or the committed one), pick
 * the models (the change's, see changed-files.ts), scan them with the core, write the report files, set
 * the outputs, publish (check run, comment, summary), and fail the job when a model reaches fail-on or
 * could not be scanned. Nothing matched: a neutral check run and a short summary, never a failure.
 */
import { TOKEN_INVERSION_IGNORED } from '../scan/option-notes.js';
import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { describeError, InputError } from '../errors.js';
import { formatRiskScore } from '../report/numbers.js';
import {
  REPORT_VERSION,
  isFailed,
  type BaselineSummary,
  type ModelEntry,
  type ScanReport,
  type ScannedModel,
} from '../report/types.js';
import type { BaselineInfo } from '../scan/api.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { collectFlaggedEvidence } from '../scan/evidence.js';
import { annotationsFor } from './annotations.js';
import { uploadReportArtifact, type ReportArtifact } from './artifact.js';
import { restoreBaseline } from './cache.js';
import { selectModels, type Selection } from './changed-files.js';
import type { Conclusion } from './checks.js';
import { composeReportMarkdown } from './comment-body.js';
import { engineOptions } from './engine-options.js';
import type { RunDeps } from './deps.js';
import { publish, type PublishResult } from './publish.js';
import { writeReportFiles, type ReportFiles } from './report-files.js';
import { describeTally, tally, type Tally } from './tally.js';

export interface ScanOutcome {
  mode: 'scan';
  conclusion: Conclusion;
  tally: Tally;
  selection: Selection;
  report: ScanReport;
  files: ReportFiles;
  publish: PublishResult;
  /** The HTML report uploaded as a workflow artifact (report-artifact: true). */
  artifact?: ReportArtifact;
  /** The message given to setFailed, or null when the job passes. */
  failure: string | null;
}

interface ChosenBaseline {
  dir: string;
  info: BaselineInfo;
}

async function chooseBaseline(deps: RunDeps): Promise<ChosenBaseline | null> {
  const { inputs, context: ctx, core } = deps;
  const dir = resolve(ctx.workspace, inputs.baseline);
  if (inputs.baselineCacheKey) {
    const restored = await restoreBaseline(deps.cache, inputs.baseline, inputs.baselineCacheKey);
    if (restored.hit) {
      try {
        const info = await deps.verifyBaseline(dir);
        core.info(`Baseline ${info.id} restored from the Actions cache (key ${restored.key}).`);
        return { dir, info };
      } catch (e) {
        // Never scan against a baseline whose content does not match its manifest: stop loudly.
        throw new InputError(
          'baseline-invalid',
          `The baseline restored from the Actions cache (key ${restored.key}) into ${inputs.baseline} does not verify: ${describeError(e)} Refusing to scan against it: delete that cache entry (gh cache delete "${restored.key}") and rebuild it with mode: baseline.`,
          inputs.baseline,
        );
      }
    }
    core.warning(restored.warning);
  }
  if (!existsSync(dir)) {
    core.warning(
      `No baseline at ${inputs.baseline}: only reference-free checks run. Build one from clean models with mode: baseline (see docs/action.md).`,
    );
    return null;
  }
  // A committed baseline that fails its content check stops the run too (InputError from verifyBaseline).
  return { dir, info: await deps.verifyBaseline(dir) };
}

function summaryOf(info: BaselineInfo): BaselineSummary {
  return { id: info.id, members: info.members.length, minRankPValue: info.minRankPValue };
}

function emptyReport(deps: RunDeps, baseline: ChosenBaseline | null, selection: Selection): ScanReport {
  const where = selection.source === 'workspace' ? 'in the workspace' : 'among the changed files';
  return {
    version: REPORT_VERSION,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    baseline: baseline ? summaryOf(baseline.info) : null,
    failOn: deps.inputs.failOn,
    onNotAssessed: deps.inputs.onNotAssessed,
    models: [],
    notes: [`No file matching ${deps.inputs.models.join(', ')} ${where}: nothing to scan.`],
  };
}

/** Report paths as repository paths (forward slashes), whatever the core was given. */
function toRepoPath(workspace: string, p: string): string {
  const rel = isAbsolute(p) ? relative(workspace, p) : p;
  return rel.split(sep).join('/');
}

/** A model entry as the repository sees it: its path, and any error message, without the runner's workspace prefix. */
function inRepoTerms(workspace: string, m: ModelEntry): ModelEntry {
  const path = toRepoPath(workspace, m.path);
  if (!isFailed(m)) return { ...m, path };
  return { ...m, path, error: m.error.split(workspace + sep).join('') };
}

/**
 * failure: a model fails the gate or could not be scanned; neutral: nothing was scanned, or a model was not
 * assessed and on-not-assessed is warn (the gate passes, but not everything was examined); else success.
 */
function conclusionOf(report: ScanReport, t: Tally): Conclusion {
  if (report.models.length === 0) return 'neutral';
  if (t.flagged || t.failed) return 'failure';
  return t.byLevel['not-assessed'] > 0 ? 'neutral' : 'success';
}

function failureMessage(report: ScanReport): string | null {
  if (report.failOn === 'never') return null;
  const parts: string[] = [];
  const failed = report.models.filter(isFailed);
  if (failed.length) {
    parts.push(
      `${failed.length} model(s) could not be scanned, and an unscanned model does not pass the gate: ${failed.map((m) => m.error).join('; ')}`,
    );
  }
  const flagged = report.models.filter((m): m is ScannedModel => !isFailed(m) && m.flagged);
  const reaching = flagged.filter((m) => m.riskLevel !== 'not-assessed');
  if (reaching.length) {
    parts.push(
      `${reaching.length} model(s) reach fail-on ${report.failOn}: ${reaching.map((m) => `${m.path} (risk ${formatRiskScore(m.riskScore)}/100, ${m.riskLevel})`).join(', ')}. See the annotations and the summary for what drove the score.`,
    );
  }
  const unassessed = flagged.filter((m) => m.riskLevel === 'not-assessed');
  if (unassessed.length) {
    parts.push(
      `${unassessed.length} model(s) were not assessed, and a model the scan could not examine does not pass the gate (on-not-assessed: fail): ` +
        `${unassessed.map((m) => `${m.path} (${m.riskLevel === 'not-assessed' ? m.notAssessed.fix : ''})`).join('; ')} Set on-not-assessed: warn to pass them with a warning.`,
    );
  }
  return parts.length ? parts.join(' ') : null;
}

export async function runScan(deps: RunDeps): Promise<ScanOutcome> {
  const { inputs, context: ctx, core } = deps;
  const octokit = inputs.githubToken ? deps.octokit(inputs.githubToken) : null;
  const baseline = await chooseBaseline(deps);
  const selection = await selectModels(ctx, inputs.models, octokit);
  for (const w of selection.warnings) core.warning(w);
  for (const n of selection.notes) core.info(n);

  let report: ScanReport;
  // what trigger probing found on the flagged models: their patch maps in the comment, pictures in the HTML
  const evidence = collectFlaggedEvidence();
  if (selection.paths.length === 0) {
    core.info(`No model files matched ${inputs.models.join(', ')}: nothing to scan.`);
    report = emptyReport(deps, baseline, selection);
  } else {
    core.info(
      `Scanning ${selection.paths.length} model file(s) from the ${selection.source}: ${selection.paths.join(', ')}`,
    );
    const scanned = await deps.scan(
      selection.paths.map((p) => resolve(ctx.workspace, p)),
      {
        ...engineOptions(inputs, ctx.workspace),
        baselineDir: baseline?.dir ?? null,
        failOn: inputs.failOn,
        onEvidence: (path, e, level) => evidence.sink(toRepoPath(ctx.workspace, path), e, level),
        onNotAssessed: inputs.onNotAssessed,
      },
    );
    report = {
      ...scanned,
      models: scanned.models.map((m) => inRepoTerms(ctx.workspace, m)),
      // notes name model files too (option-notes.ts): as the repository sees them
      notes: scanned.notes.map((n) => n.split(ctx.workspace + sep).join('')),
    };
    // an option that did not apply to a model (from the baseline's settings): said once on the log too
    const inversionIgnored = report.notes.find((n) => n.startsWith(TOKEN_INVERSION_IGNORED));
    if (inversionIgnored) core.warning(inversionIgnored);
  }

  const t = tally(report);
  const artifact =
    inputs.reportArtifact && report.models.length > 0
      ? await uploadReportArtifact(
          core,
          ctx,
          deps.artifact,
          inputs.reportArtifactName,
          deps.render.pictures(report, evidence.byPath),
        )
      : undefined;
  const table = deps.render.markdown(report, {
    evidence: evidence.byPath,
    ...(artifact?.url ? { htmlReport: { url: artifact.url, name: artifact.name } } : {}),
  });
  const markdown = (checkUrl?: string) => composeReportMarkdown(report, t, table, checkUrl);
  const files = writeReportFiles(ctx.outDir, {
    json: deps.render.json(report),
    sarif: deps.render.sarif(report, { cwd: ctx.workspace }),
    markdown: markdown(),
  });

  // Nothing scanned: 0 and none. Scanned but none assessed: no score at all (0 would read as low risk).
  core.setOutput('risk-score', t.maxScore !== null ? formatRiskScore(t.maxScore) : t.scanned > 0 ? '' : '0');
  core.setOutput('risk-level', t.maxLevel ?? 'none');
  core.setOutput('flagged', t.flagged);
  core.setOutput('not-assessed', t.byLevel['not-assessed']);
  core.setOutput('report', files.json);
  core.setOutput('sarif', files.sarif);
  core.setOutput('markdown', files.markdown);

  const conclusion = conclusionOf(report, t);
  const title =
    report.models.length === 0 ? 'No model files changed: nothing to scan' : describeTally(t, report.failOn);
  const published = await publish(
    core,
    ctx,
    octokit,
    { conclusion, title, checkSummary: markdown(), annotations: annotationsFor(report.models), markdown },
    { checkName: inputs.checkName, comment: inputs.comment, commentAuthor: inputs.commentAuthor },
  );

  const failure = failureMessage(report);
  if (failure) core.setFailed(failure);
  return {
    mode: 'scan',
    conclusion,
    tally: t,
    selection,
    report,
    files,
    publish: published,
    ...(artifact ? { artifact } : {}),
    failure,
  };
}
