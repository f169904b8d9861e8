/**
 * mode: baseline. Fingerprint every model in the workspace matching `models` into the baseline directory:
 * a new baseline, or added to the one already there. With baseline-cache-key, save it to the Actions
 * cache under `<key>-<baseline id>` (entries are immutable, so each distinct baseline gets its own key;
 * scans restore the newest by the prefix `<key>-`). Run it on the default branch, on reviewed models.
 */
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import { markdownCode, markdownText } from '../report/markdown.js';
import type { BaselineInfo } from '../scan/api.js';
import { saveBaseline, type SaveOutcome } from './cache.js';
import { workspaceModels } from './changed-files.js';
import type { RunDeps } from './deps.js';
import { engineOptions } from './engine-options.js';
import { NO_SAMPLES_ADVICE } from '../baseline/samples.js';

export interface BaselineOutcome {
  mode: 'baseline';
  info: BaselineInfo;
  action: 'built' | 'extended';
  models: string[];
  cache: SaveOutcome | null;
}

export async function runBaseline(deps: RunDeps): Promise<BaselineOutcome> {
  const { inputs, context: ctx, core } = deps;
  const dir = resolve(ctx.workspace, inputs.baseline);
  const models = await workspaceModels(ctx.workspace, inputs.models);
  if (models.length === 0) {
    throw new InputError(
      'not-found',
      `mode: baseline found no file matching ${inputs.models.join(', ')} in ${ctx.workspace}: check out the repository first (actions/checkout) and point "models" at the clean models`,
    );
  }
  const paths = models.map((p) => resolve(ctx.workspace, p));
  const engine = engineOptions(inputs, ctx.workspace);
  const extend = existsSync(dir) && readdirSync(dir).length > 0;
  core.info(
    `${extend ? 'Adding' : 'Building a baseline from'} ${models.length} model(s) ${extend ? `to the baseline at ${inputs.baseline}` : `into ${inputs.baseline}`}.`,
  );
  if (extend && inputs.engine.budget)
    core.warning(
      `Input budget (${inputs.engine.budget.setting}) set aside: models join the baseline at ${inputs.baseline} with the budget its members were fingerprinted with (trigger features compare only under one budget). To change it, rebuild the baseline from all its clean models (delete the folder, or build into a new one).`,
    );
  const info = extend
    ? await deps.addToBaseline(dir, paths, engine)
    : await deps.buildBaseline(paths, { ...engine, out: dir });

  if (!extend && !engine.probes?.samplesDir)
    core.warning(`The baseline ${info.id} was ${NO_SAMPLES_ADVICE} (input probe-samples)`);
  core.setOutput('baseline-id', info.id);
  core.setOutput('baseline-size', info.members.length);
  if (!info.highReachable) {
    core.warning(
      `The baseline ${info.id} has ${info.members.length} member(s): too few for a scan to reach the high band (smallest p-value ${info.minRankPValue.toPrecision(2)}). Add more clean models of this architecture.`,
    );
  }

  let cache: SaveOutcome | null = null;
  if (inputs.baselineCacheKey) {
    cache = await saveBaseline(deps.cache, inputs.baseline, inputs.baselineCacheKey, info.id);
    if (cache.saved) core.info(`Baseline saved to the Actions cache under ${cache.key}.`);
    else core.warning(cache.warning);
  }

  const lines = [
    `### Model fingerprint baseline ${extend ? 'extended' : 'built'}`,
    '',
    `Baseline ${markdownCode(info.id)} at ${markdownCode(inputs.baseline)}: ${info.members.length} clean reference model(s), input signature ${markdownCode(info.signature)}.`,
    '',
    ...models.map((m) => `- ${markdownCode(m)}`),
  ];
  if (cache)
    lines.push(
      '',
      cache.saved
        ? `Saved to the Actions cache as ${markdownCode(cache.key)}.`
        : `Not saved to the Actions cache: ${markdownText(cache.warning)}`,
    );
  try {
    core.summary.addRaw(lines.join('\n') + '\n', true);
    await core.summary.write();
  } catch {
    core.summary.emptyBuffer();
  }
  return { mode: 'baseline', info, action: extend ? 'extended' : 'built', models, cache };
}
