/**
 * One model file -> its fingerprint, with the engine options resolved the same way everywhere (CLI scan,
 * baseline build, the action). The workspace check runs before the file is read.
 */
import { readModel } from '../model/read.js';
import { fingerprintModel } from '../fingerprint/extract.js';
import type { OnnxModel } from '../model/types.js';
import type { Fingerprint } from '../fingerprint/types.js';
import type { ProbeSpec } from '../probes/types.js';
import type { EngineOptions } from './api.js';
import { assertInsideWorkspace } from './workspace.js';

export function probeSpecOf(opts: EngineOptions): ProbeSpec {
  const p = opts.probes ?? {};
  const spec: ProbeSpec = {};
  if (p.count !== undefined) spec.count = p.count;
  if (p.seed !== undefined) spec.seed = p.seed;
  if (p.kinds !== undefined) spec.kinds = p.kinds as ProbeSpec['kinds'];
  if (p.range !== undefined) spec.range = p.range;
  if (p.dims !== undefined) spec.dims = p.dims;
  if (p.vocab !== undefined) spec.vocab = p.vocab;
  if (p.samplesDir !== undefined) spec.samplesDir = p.samplesDir;
  if (p.vocabFile !== undefined) spec.vocabFile = p.vocabFile;
  if (p.normalize !== undefined) spec.normalize = { mean: [...p.normalize.mean], std: [...p.normalize.std] };
  if (p.synthesiseBase) spec.synthesiseBase = true;
  if (p.tokenInversion) spec.tokenInversion = true;
  return spec;
}

/**
 * `blocks`: the ensemble blocks the caller reads (a scan: its baseline's channels; see FingerprintOptions);
 * absent = the whole fingerprint, as baseline builds and `fingerprint` write it. `how.evidence`: keep what
 * trigger probing found for the report's pictures (Fingerprint.evidence); `how.earlyStop`: trigger probing may
 * stop once its verdict is decided (a scan without a baseline).
 */
export async function fingerprintFile(
  path: string,
  opts: EngineOptions,
  blocks?: string[],
  how: { evidence?: boolean; earlyStop?: boolean } = {},
): Promise<{ model: OnnxModel; fingerprint: Fingerprint }> {
  assertInsideWorkspace(path, opts.workspace);
  const model = await readModel(path);
  const fingerprint = await fingerprintModel(model, {
    probes: probeSpecOf(opts),
    layers: opts.layers ?? 'auto',
    batchSize: opts.batchSize,
    ...(opts.budget ? { budget: opts.budget } : {}),
    ...(opts.timeLimitS !== undefined ? { timeAllowanceMs: opts.timeLimitS * 1000 } : {}),
    ...(blocks ? { blocks } : {}),
    ...(how.evidence ? { evidence: true } : {}),
    ...(how.earlyStop ? { earlyStop: true } : {}),
    ...(how.earlyStop && opts.inversion ? { inversion: true } : {}),
  });
  return { model, fingerprint };
}
