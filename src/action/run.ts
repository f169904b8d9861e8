/**
 * One run of the action, given its dependencies (deps.ts): mode scan or mode baseline. Every error ends
 * the same way: the job fails with a one-line message (an InputError's message names the file and the
 * fix); an unexpected error also logs its stack at debug level.
 */
import { describeError, isInputError } from '../errors.js';
import { runBaseline, type BaselineOutcome } from './baseline-mode.js';
import type { RunDeps } from './deps.js';
import { runScan, type ScanOutcome } from './scan-mode.js';

export type { RunDeps } from './deps.js';

export type RunOutcome = ScanOutcome | BaselineOutcome | { mode: 'error'; failure: string };

export async function run(deps: RunDeps): Promise<RunOutcome> {
  try {
    return deps.inputs.mode === 'baseline' ? await runBaseline(deps) : await runScan(deps);
  } catch (e) {
    const failure = describeError(e);
    if (!isInputError(e) && e instanceof Error && e.stack) deps.core.debug(e.stack);
    deps.core.setFailed(failure);
    return { mode: 'error', failure };
  }
}
