/**
 * The main job: scan model files against a verified baseline (or with reference-free checks only) and
 * return one ScanReport. A broken model never costs the others their results: it becomes an error entry
 * and the rest are scored. A baseline built at another features version than this tool computes is
 * checked once, when loaded: every model then gets the same baseline-mismatch entry (no fingerprinting).
 */
import { isInputError } from '../errors.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { REPORT_VERSION, type ModelEntry, type ScanReport, type ScannedModel } from '../report/types.js';
import { signatureOf } from '../model/types.js';
import { featuresRefusal, loadBaseline, type LoadedBaseline } from '../baseline/store.js';
import { rebuildCommand, samplesPathOf } from '../baseline/rebuild-command.js';
import { deserializeEnsemble, scoreEnsemble, type EnsembleState } from '../score/ensemble.js';
import { DEFAULT_ON_NOT_ASSESSED, failsGate, levelOf, NOT_ASSESSED, riskScore } from '../score/risk.js';
import { referenceFreeVerdict } from '../score/reference-free.js';
import { finalVerdict, TRIGGER_POLICY_WITH_BASELINE, TRIGGER_REFERENCE_CHANNEL } from '../score/final.js';
import type { EngineOptions, ScanFn, ScanOptions } from './api.js';
import { fingerprintFile } from './engine.js';
import { ensembleBlocks } from './blocks.js';
import { architectureOf } from './architecture.js';
import { explain } from './explain.js';
import { sha256File } from '../util/hash.js';
import { safeErrorLine } from './safe-error.js';
import { engineFromBaseline } from '../baseline/samples.js';
import { budgetOf, checksOf, referenceFreeAssessment } from './assessment.js';
import { budgetNote, budgetRefusal } from './budget-note.js';
import { readVocabularyCached } from '../probes/vocab.js';
import { nonTokenInput, notSynthesisedNote, tokenInversionNote } from './option-notes.js';

interface Reference {
  baseline: LoadedBaseline;
  /** Always absent here: what tells a usable reference from a RefusedReference. */
  refusal?: undefined;
  state: EnsembleState;
  engine: EngineOptions;
  /** The blocks the baseline's channels read: a scan computes only these (and the self-checks). */
  reads: string[];
}

/** A baseline whose members' blocks mean something else than this tool's: every model is refused. */
interface RefusedReference {
  baseline: LoadedBaseline;
  /** The error line every model gets, but for its path in front. */
  refusal: string;
}

/** Without a baseline only the self-checks are read: no hidden-layer capture, no layer weight statistics. */
const REFERENCE_FREE_READS: string[] = ['self:'];

export const NOTE_NO_BASELINE =
  'Scanned without a baseline: only reference-free checks ran (trigger probing, where the model and the scan budget allow it, and the final-layer weight check; give --probe-samples DIR with real inputs for full power). ' +
  'Build a baseline of clean models of the same architecture for the full ensemble: model-fingerprint baseline build CLEAN_MODELS... --out DIR';

async function loadReference(dir: string, opts: ScanOptions): Promise<Reference | RefusedReference> {
  const baseline = await loadBaseline(dir);
  // Checked before the ensemble is read: it may not even be in a shape this version understands.
  const why = featuresRefusal(baseline.manifest) ?? budgetRefusal(baseline.manifest);
  if (why)
    return {
      baseline,
      refusal: `${why}: rebuild it from its clean models: ${rebuildCommand(dir, baseline.manifest)}`,
    };
  const state = deserializeEnsemble(baseline.ensemble.json, baseline.ensemble.arrays);
  const m = baseline.manifest;
  const engine: EngineOptions = engineFromBaseline(dir, m, opts);
  const reads = [...new Set(state.channels.map((c) => c.representation))];
  return { baseline, state, engine, reads };
}

/** The per-model entry for a refused baseline: like the signature/probe mismatch, exit code 2. */
async function refusedEntry(path: string, ref: RefusedReference): Promise<ModelEntry> {
  let sha256: string | undefined;
  try {
    sha256 = await sha256File(path);
  } catch {
    sha256 = undefined;
  }
  return {
    path,
    ...(sha256 ? { sha256 } : {}),
    errorCode: 'baseline-mismatch',
    error: safeErrorLine(`${path}: ${ref.refusal}`),
  };
}

/**
 * Why a model of the baseline's own architecture gets another probe set than the baseline's members did, and
 * the fix. The probes are made from the baseline's recorded settings, so the difference lies in the baseline:
 * its samples folder (part of the probe set's hash) was edited, or it was built by another probe generator.
 */
function probeMismatchFix(b: LoadedBaseline): string {
  const spec = b.manifest.probes?.spec as { samplesDir?: unknown } | undefined;
  const rebuild = rebuildCommand(b.dir, b.manifest);
  if (typeof spec?.samplesDir === 'string')
    return (
      `the probes made from the baseline's samples (${samplesPathOf(b.dir, spec.samplesDir)}) differ from the ones it was built with: ` +
      `a file there was changed, added or removed; restore that folder as it was (it is part of the baseline) or rebuild the baseline: ${rebuild}`
    );
  return `the probes made from the baseline's settings differ from the ones it was built with (another version of the probe generator): rebuild the baseline: ${rebuild}`;
}

/** What the models add to the report's notes (option-notes.ts), gathered as they are scanned. */
interface ModelNotes {
  said: string[];
  /** Models --token-inversion was given for and does not apply to: one note for all of them. */
  noTokenInversion: { path: string; takes: string }[];
}

async function scanOne(
  path: string,
  opts: ScanOptions,
  ref: Reference | RefusedReference | null,
  notes: ModelNotes,
): Promise<ModelEntry> {
  if (ref?.refusal !== undefined) return refusedEntry(path, ref);
  try {
    // Without a baseline the verdict is the trigger test: probing may stop once it is decided.
    const evidence = opts.onEvidence !== undefined;
    const { model, fingerprint } = ref
      ? await fingerprintFile(path, ref.engine, ref.reads, { evidence })
      : await fingerprintFile(path, opts, REFERENCE_FREE_READS, { evidence, earlyStop: true });
    const notSynthesised = fingerprint.selfChecks['trigger']?.notSynthesised;
    if (notSynthesised) notes.said.push(notSynthesisedNote(path, notSynthesised));
    const takes = nonTokenInput(model);
    if ((ref ? ref.engine : opts).probes?.tokenInversion && takes)
      notes.noTokenInversion.push({ path, takes });
    const checks = checksOf(fingerprint, Boolean(ref));
    const budget = budgetOf(fingerprint);
    const extra = { ...(checks ? { checks } : {}), ...(budget ? { budget } : {}) };
    let entry: ScannedModel;
    if (ref) {
      const m = ref.baseline.manifest;
      const signature = signatureOf(model.inputs, model.outputs);
      const architecture = architectureOf(model);
      const probeHash = fingerprint.header.probes.hash;
      if (signature !== m.signature || architecture !== m.architecture || probeHash !== m.probes.hash) {
        const sameModelKind = signature === m.signature && architecture === m.architecture;
        const [what, want] =
          signature !== m.signature
            ? [`signature ${signature}`, m.signature]
            : architecture !== m.architecture
              ? [`architecture ${architecture} (signature ${signature})`, m.architecture]
              : [`probe set ${probeHash.slice(0, 12)}`, m.probes.hash.slice(0, 12)];
        return {
          path,
          sha256: model.sha256,
          errorCode: 'baseline-mismatch',
          error:
            `${path}: ${what} does not match baseline ${m.id} (${want}): ` +
            (sameModelKind
              ? probeMismatchFix(ref.baseline)
              : 'this baseline is for another architecture; build one from clean models like this one: model-fingerprint baseline build CLEAN_MODELS... --out DIR'),
        };
      }
      const verdict = scoreEnsemble(ref.state, ensembleBlocks(fingerprint));
      const final = finalVerdict(
        verdict.pValue,
        fingerprint,
        TRIGGER_POLICY_WITH_BASELINE,
        verdict.channels[TRIGGER_REFERENCE_CHANNEL]?.pValue,
        verdict.separate,
      );
      const detectors: Record<string, { score: number; pValue: number }> = Object.fromEntries(
        Object.entries(verdict.channels).map(([k, v]) => [k, { score: v.score, pValue: v.pValue }]),
      );
      detectors.ensemble = { score: verdict.statistic, pValue: verdict.pValue };
      if (final.triggerPValue !== undefined) {
        detectors['trigger-probe'] = {
          score: fingerprint.selfChecks.trigger.score,
          pValue: final.triggerPValue,
        };
      }
      entry = {
        path,
        sha256: model.sha256,
        riskScore: final.riskScore,
        riskLevel: final.riskLevel,
        pValue: final.pValue,
        flagged: false,
        detectors,
        explanation: explain(
          verdict,
          final,
          fingerprint,
          m,
          model.inputs[0]?.shape ?? [],
          ref.engine.probes?.vocabFile ? readVocabularyCached(ref.engine.probes.vocabFile) : undefined,
        ),
        ...extra,
      };
    } else {
      const v = referenceFreeVerdict(fingerprint);
      const notAssessed = referenceFreeAssessment(fingerprint, v.pValue);
      const score = riskScore(v.pValue);
      entry = notAssessed
        ? {
            path,
            sha256: model.sha256,
            riskScore: null,
            riskLevel: NOT_ASSESSED,
            pValue: null,
            flagged: false,
            notAssessed,
            // a short search's p-value is not calibrated: no detector, no driver; what it pointed at stays
            detectors: {},
            explanation: {
              ...v.explanation,
              summary: notAssessed.message,
              strongestSignal: 'none',
              drivers: [],
            },
            ...extra,
          }
        : {
            path,
            sha256: model.sha256,
            riskScore: score,
            riskLevel: levelOf(score),
            pValue: v.pValue,
            flagged: false,
            detectors: v.detectors,
            explanation: v.explanation,
            ...extra,
          };
    }
    if (fingerprint.evidence) opts.onEvidence?.(path, fingerprint.evidence, entry.riskLevel);
    return { ...entry, flagged: failsGate(entry.riskLevel, opts.failOn, opts.onNotAssessed) };
  } catch (e) {
    if (!isInputError(e)) throw e;
    let sha256: string | undefined;
    try {
      sha256 = await sha256File(path);
    } catch {
      sha256 = undefined;
    }
    const message = safeErrorLine(e.message.includes(path) ? e.message : `${path}: ${e.message}`);
    return { path, ...(sha256 ? { sha256 } : {}), error: message, errorCode: e.code };
  }
}

export const scanModels: ScanFn = async (paths, opts) => {
  const ref = opts.baselineDir ? await loadReference(opts.baselineDir, opts) : null;
  const models: ModelEntry[] = [];
  // what the models add to the notes: options they could not use as asked (option-notes.ts)
  const modelNotes: ModelNotes = { said: [], noTokenInversion: [] };
  opts.onProgress?.({ kind: 'start', total: paths.length });
  for (const [index, path] of paths.entries()) {
    const t0 = Date.now();
    const entry = { ...(await scanOne(path, opts, ref, modelNotes)), durationMs: Date.now() - t0 };
    models.push(entry);
    opts.onProgress?.({
      kind: 'model-done',
      path,
      index,
      total: paths.length,
      ms: Date.now() - t0,
      ...('error' in entry ? { error: entry.error } : {}),
    });
  }
  const inversionNote = tokenInversionNote(modelNotes.noTokenInversion);
  const report: ScanReport = {
    version: REPORT_VERSION,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    baseline: ref
      ? {
          id: ref.baseline.manifest.id,
          members: ref.baseline.manifest.members.length,
          minRankPValue: ref.baseline.manifest.calibration.minRankPValue,
        }
      : null,
    failOn: opts.failOn,
    onNotAssessed: opts.onNotAssessed ?? DEFAULT_ON_NOT_ASSESSED,
    models,
    // The no-baseline note says which checks ran: with no model scanned (none given, or every one an error)
    // none did, and the note would claim otherwise.
    notes: [
      ...(!ref
        ? models.some((m) => !('error' in m))
          ? [NOTE_NO_BASELINE]
          : []
        : ref.refusal === undefined
          ? budgetNote(ref.baseline, opts)
          : []),
      ...modelNotes.said,
      ...(inversionNote ? [inversionNote] : []),
    ],
  };
  return report;
};
