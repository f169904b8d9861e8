/**
 * One run of the action, given its dependencies (deps.ts): mode scan or mode baseline. Every error ends
 * the same way: the job fails with a one-line message (an InputError's message names the file and the
 * fix), the job summary says so too, and an unexpected error also logs its stack at debug level.
 */
import { describeError, isInputError } from '../errors.js';
import { markdownText } from '../report/markdown.js';
import { runBaseline, type BaselineOutcome } from './baseline-mode.js';
import type { ActionCore, RunDeps } from './deps.js';
import { runScan, type ScanOutcome } from './scan-mode.js';

export type { RunDeps } from './deps.js';

export type RunOutcome = ScanOutcome | BaselineOutcome | { mode: 'error'; failure: string };

async function summarizeFailure(core: ActionCore, failure: string): Promise<void> {
  try {
    core.summary.addRaw(`### Model fingerprint: the run failed\n\n${markdownText(failure)}\n`, true);
    await core.summary.write();
  } catch {
    core.summary.emptyBuffer();
  }
}

export async function run(deps: RunDeps): Promise<RunOutcome> {
  try {
    return deps.inputs.mode === 'baseline' ? await runBaseline(deps) : await runScan(deps);
  } catch (e) {
    const failure = describeError(e);
    if (!isInputError(e) && e instanceof Error && e.stack) deps.core.debug(e.stack);
    deps.core.setFailed(failure);
    await summarizeFailure(deps.core, failure);
    return { mode: 'error', failure };
  }
}
