/**
 * What a run of the action depends on, injected: the core (scan, baseline build/verify, renderers), the
 * REST client factory, the Actions cache and the @actions/core-like logger. main.ts wires the real ones;
 * tests wire the same real pieces with a fake GitHub server behind the client, and may replace the core
 * with small functions returning ScanReports.
 */
import type { AnnotationProperties } from '@actions/core';
import type { ScanReport } from '../report/types.js';
import type { AddToBaselineFn, BuildBaselineFn, ScanFn, VerifyBaselineFn } from '../scan/api.js';
import type { MarkdownOptions } from '../report/markdown.js';
import type { EvidenceByPath, ReportFile } from '../report/pictures.js';
import type { ArtifactDep } from './artifact.js';
import type { CacheDep } from './cache.js';
import type { ActionContext } from './context.js';
import type { ActionInputs } from './inputs.js';
import type { GitHubClient } from './octokit.js';

/** The part of @actions/core a run uses (the module itself satisfies it). */
export interface ActionCore {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string, props?: AnnotationProperties): void;
  error(message: string, props?: AnnotationProperties): void;
  notice(message: string, props?: AnnotationProperties): void;
  setOutput(name: string, value: string | number): void;
  setFailed(message: string): void;
  summary: {
    addRaw(text: string, addEOL?: boolean): unknown;
    write(): Promise<unknown>;
    emptyBuffer(): unknown;
  };
}

export interface Renderers {
  markdown(report: ScanReport, opts?: Pick<MarkdownOptions, 'evidence' | 'htmlReport'>): string;
  json(report: ScanReport): string;
  sarif(report: ScanReport, opts: { cwd: string }): string;
  /** The HTML report directory's files (src/report/pictures.ts renderReportDir). */
  pictures(report: ScanReport, evidence: EvidenceByPath): ReportFile[];
}

export interface RunDeps {
  inputs: ActionInputs;
  context: ActionContext;
  core: ActionCore;
  scan: ScanFn;
  buildBaseline: BuildBaselineFn;
  addToBaseline: AddToBaselineFn;
  verifyBaseline: VerifyBaselineFn;
  render: Renderers;
  /** Builds the REST client for a token (createOctokit with the run's base URL). */
  octokit: (token: string) => GitHubClient;
  cache: CacheDep;
  /** The workflow artifact client (used when report-artifact is true). */
  artifact: ArtifactDep;
}
