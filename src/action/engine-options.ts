/**
 * The engine options of a run: the probe and layer inputs, with paths resolved against the workspace (the
 * core resolves relative paths against the process's working directory, which need not be the workspace)
 * and the workspace itself, outside which the core refuses to read models.
 */
import { resolve } from 'node:path';
import type { EngineOptions } from '../scan/api.js';
import type { ActionInputs } from './inputs.js';

export function engineOptions(inputs: ActionInputs, workspace: string): EngineOptions {
  const probes = { ...inputs.engine.probes };
  if (probes.samplesDir) probes.samplesDir = resolve(workspace, probes.samplesDir);
  if (probes.vocabFile) probes.vocabFile = resolve(workspace, probes.vocabFile);
  return { ...inputs.engine, probes, workspace };
}
