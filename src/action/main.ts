/**
 * The action's entry point (dist/main/index.js once bundled): read the inputs and the run's context, wire
 * the real core (scan, baseline build/verify, renderers), the REST client, the Actions cache and
 * @actions/core into run(), and let run() decide. Thin on purpose: everything testable lives in run.ts.
 */
import './ort-env.js';
import './platform-guard.js';
import * as core from '@actions/core';
import { addToBaseline, buildBaseline } from '../baseline/build.js';
import { verifyBaseline } from '../baseline/store.js';
import { renderJson, renderMarkdown, renderSarif } from '../report/index.js';
import { renderReportDir } from '../report/pictures.js';
import { scanModels } from '../scan/scan.js';
import { describeError } from '../errors.js';
import { actionsArtifact } from './actions-artifact.js';
import { actionsCache } from './actions-cache.js';
import { readContext } from './context.js';
import { readInputs } from './inputs.js';
import { createOctokit } from './octokit.js';
import { run } from './run.js';

async function main(): Promise<void> {
  const inputs = readInputs((name) => core.getInput(name));
  const context = readContext(process.env);
  await run({
    inputs,
    context,
    core,
    scan: scanModels,
    buildBaseline,
    addToBaseline,
    verifyBaseline,
    render: {
      markdown: (report, opts) => renderMarkdown(report, opts),
      json: (report) => renderJson(report),
      sarif: (report, opts) => renderSarif(report, opts),
      pictures: (report, evidence) => renderReportDir(report, evidence),
    },
    octokit: (token) => createOctokit(token, { baseUrl: context.apiUrl, log: (m) => core.info(m) }),
    cache: actionsCache,
    artifact: actionsArtifact,
  });
}

main().catch((e: unknown) => core.setFailed(describeError(e)));
