/**
 * SARIF 2.1.0 for GitHub code scanning: one rule per finding kind, one result per medium/high,
 * not-assessed or unscannable model, located at the model file (path relative to the checkout, forward slashes, region on
 * line 1 because code scanning needs a region) with a partial fingerprint of path + rule so an alert is
 * tracked across runs instead of reopened. Models at level low produce no result.
 * Hand-built rather than with a builder package: the log is small and fixed, and `@types/sarif` checks its
 * shape at compile time; the tests validate it against the official 2.1.0 JSON schema.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Log, ReportingDescriptor, Result } from 'sarif';
import { baselineText, strongestSignalText, targetClassText } from './describe.js';
import {
  FLAGGED_MODEL_GUIDANCE,
  FLAGGED_MODEL_GUIDANCE_TITLE,
  NOT_ASSESSED_GUIDANCE,
  UNSCANNABLE_MODEL_GUIDANCE,
  plainText,
} from './guidance.js';
import { failsGate, levelLabel, onNotAssessedOf } from './levels.js';
import { formatPValue, formatRiskScore, roundSig } from './numbers.js';
import type { FailedModel, ModelEntry, NotAssessedModel, ScanReport, ScannedModel } from './types.js';
import { isFailed } from './types.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
/** Where the SARIF driver points people for documentation. Placeholder until the project has a homepage. */
export const DEFAULT_INFORMATION_URI = 'https://github.com/fingerprint-action/fingerprint-action';
/** The base id GitHub resolves relative artifact URIs against: the repository checkout. */
export const SRCROOT = '%SRCROOT%';
/** Key of our partial fingerprint; versioned so a change of recipe does not silently merge old alerts. */
export const FINGERPRINT_KEY = 'modelPathRule/v1';

export const RULE_HIGH = 'MF001';
export const RULE_MEDIUM = 'MF002';
export const RULE_UNSCANNABLE = 'MF003';
export const RULE_NOT_ASSESSED = 'MF004';

export interface SarifOptions {
  /** Directory the model paths are made relative to (the repository root in the action). */
  cwd: string;
  /** Documentation link of the tool (driver.informationUri). */
  informationUri?: string;
}

const guidanceMarkdown = FLAGGED_MODEL_GUIDANCE.map((s) => `- ${s}`).join('\n');
const guidanceText = FLAGGED_MODEL_GUIDANCE.map((s) => `- ${plainText(s)}`).join('\n');
const COMMON_TAGS = ['security', 'machine-learning', 'backdoor', 'supply-chain'];

function riskRule(id: string, name: string, band: string, level: 'error' | 'warning', severity: string) {
  const what =
    `The model's behavioural fingerprint (activations and outputs on seeded probes, plus weight statistics) ` +
    `is anomalous against the clean baseline, or reference-free trigger probing found a small input pattern ` +
    `that flips many inputs into one class. The calibrated risk score is in the ${band} band.`;
  const rule: ReportingDescriptor = {
    id,
    name,
    shortDescription: { text: `Model shows ${band} backdoor risk` },
    fullDescription: { text: what },
    help: {
      text: `${what}\n\n${FLAGGED_MODEL_GUIDANCE_TITLE}:\n${guidanceText}`,
      markdown: `${what}\n\n**${FLAGGED_MODEL_GUIDANCE_TITLE}**\n\n${guidanceMarkdown}`,
    },
    defaultConfiguration: { level },
    properties: { tags: COMMON_TAGS, precision: 'medium', 'security-severity': severity },
  };
  return rule;
}

/** The rules, in a fixed order: ruleIndex in each result points into this list. */
export const SARIF_RULES: readonly ReportingDescriptor[] = [
  riskRule(RULE_HIGH, 'backdoor-risk-high', 'high (61-100)', 'error', '8.0'),
  riskRule(RULE_MEDIUM, 'backdoor-risk-medium', 'medium (31-60)', 'warning', '5.0'),
  {
    id: RULE_UNSCANNABLE,
    name: 'model-unscannable',
    shortDescription: { text: 'Model could not be scanned' },
    fullDescription: {
      text:
        'The file could not be read, parsed or run as an ONNX model (for example a pickle, a Git LFS pointer, ' +
        'a truncated file or an unsupported operator), so it could not be checked for a backdoor.',
    },
    help: { text: UNSCANNABLE_MODEL_GUIDANCE, markdown: UNSCANNABLE_MODEL_GUIDANCE },
    defaultConfiguration: { level: 'error' },
    properties: { tags: ['machine-learning', 'supply-chain'], precision: 'very-high' },
  },
  {
    id: RULE_NOT_ASSESSED,
    name: 'model-not-assessed',
    shortDescription: { text: 'Model was not assessed for a backdoor' },
    fullDescription: {
      text:
        'No check with power ran on the model: there was no baseline of clean models, and reference-free ' +
        'trigger probing did not run (the scan budget affords too few forward passes of the model, or the ' +
        'input or output kind does not suit it) or ran too short to call the model clean. It has no risk ' +
        'score: it is unverified, not low risk.',
    },
    help: { text: NOT_ASSESSED_GUIDANCE, markdown: NOT_ASSESSED_GUIDANCE },
    defaultConfiguration: { level: 'error' },
    properties: { tags: COMMON_TAGS, precision: 'very-high' },
  },
];

function ruleIndexOf(id: string): number {
  return SARIF_RULES.findIndex((r) => r.id === id);
}

interface ArtifactUri {
  uri: string;
  uriBaseId?: string;
  /** The path as people read it in messages (relative, forward slashes, not percent-encoded). */
  display: string;
}

/** The model path as a SARIF artifact URI relative to cwd; a file outside cwd keeps an absolute file: URI. */
export function artifactUriOf(modelPath: string, cwd: string): ArtifactUri {
  const abs = path.resolve(cwd, modelPath);
  const rel = path.relative(path.resolve(cwd), abs);
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    return { uri: pathToFileURL(abs).href, display: abs.split(path.sep).join('/') };
  }
  const segments = rel.split(path.sep);
  return {
    // Percent-encode each segment: spaces, '#', '?', '%' and non-ASCII must not change the URI's meaning.
    uri: segments.map(encodeURIComponent).join('/'),
    uriBaseId: SRCROOT,
    display: segments.join('/'),
  };
}

function fingerprintOf(ruleId: string, uri: string): string {
  return createHash('sha256').update(`${ruleId}\u0000${uri}`).digest('hex');
}

function locate(
  m: ModelEntry,
  ruleId: string,
  cwd: string,
): Pick<Result, 'locations' | 'partialFingerprints'> {
  const { uri, uriBaseId } = artifactUriOf(m.path, cwd);
  return {
    locations: [
      {
        physicalLocation: {
          artifactLocation: uriBaseId ? { uri, uriBaseId } : { uri },
          region: { startLine: 1 },
        },
      },
    ],
    partialFingerprints: { [FINGERPRINT_KEY]: fingerprintOf(ruleId, uri) },
  };
}

function notAssessedResult(m: NotAssessedModel, report: ScanReport, cwd: string): Result {
  const { display } = artifactUriOf(m.path, cwd);
  const fails = failsGate(m.riskLevel, report.failOn, onNotAssessedOf(report));
  return {
    ruleId: RULE_NOT_ASSESSED,
    ruleIndex: ruleIndexOf(RULE_NOT_ASSESSED),
    level: fails ? 'error' : 'warning',
    message: { text: `${display}: not assessed. ${m.notAssessed.message} Fix: ${m.notAssessed.fix}` },
    ...locate(m, RULE_NOT_ASSESSED, cwd),
    properties: {
      riskLevel: m.riskLevel,
      reason: m.notAssessed.reason,
      flagged: m.flagged,
      sha256: m.sha256,
    },
  };
}

function scannedResult(m: ScannedModel, report: ScanReport, cwd: string): Result | undefined {
  if (m.riskLevel === 'low') return undefined;
  if (m.riskLevel === 'not-assessed') return notAssessedResult(m, report, cwd);
  const ruleId = m.riskLevel === 'high' ? RULE_HIGH : RULE_MEDIUM;
  const { display } = artifactUriOf(m.path, cwd);
  const target = targetClassText(m);
  const text =
    `${display}: backdoor risk ${formatRiskScore(m.riskScore)}/100 (${levelLabel(m.riskLevel)}). ` +
    `Strongest signal: ${strongestSignalText(m)}. ` +
    `Suspected target: ${target ?? 'none found'}. ` +
    (report.baseline
      ? `p-value ${formatPValue(m.pValue)} against ${baselineText(report.baseline)}.`
      : 'No baseline: reference-free checks only.');
  const rank = roundSig(m.riskScore);
  return {
    ruleId,
    ruleIndex: ruleIndexOf(ruleId),
    level: m.riskLevel === 'high' ? 'error' : 'warning',
    message: { text },
    ...locate(m, ruleId, cwd),
    // SARIF rank is a 0-100 priority: exactly what the risk score is.
    ...(rank !== null ? { rank: Math.min(100, Math.max(0, rank)) } : {}),
    properties: {
      riskScore: roundSig(m.riskScore),
      riskLevel: m.riskLevel,
      pValue: roundSig(m.pValue),
      flagged: m.flagged,
      sha256: m.sha256,
      ...(m.explanation.suspectedTargetClass !== undefined
        ? { suspectedTargetClass: m.explanation.suspectedTargetClass }
        : {}),
    },
  };
}

function failedResult(m: FailedModel, cwd: string): Result {
  const { display } = artifactUriOf(m.path, cwd);
  return {
    ruleId: RULE_UNSCANNABLE,
    ruleIndex: ruleIndexOf(RULE_UNSCANNABLE),
    level: 'error',
    message: { text: `${display} could not be scanned (${m.errorCode}): ${m.error}` },
    ...locate(m, RULE_UNSCANNABLE, cwd),
    properties: { errorCode: m.errorCode, ...(m.sha256 !== undefined ? { sha256: m.sha256 } : {}) },
  };
}

/** The SARIF log as an object (what renderSarif serialises). */
export function reportToSarif(report: ScanReport, opts: SarifOptions): Log {
  const results: Result[] = [];
  for (const m of report.models) {
    const r = isFailed(m) ? failedResult(m, opts.cwd) : scannedResult(m, report, opts.cwd);
    if (r) results.push(r);
  }
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: report.tool.name,
            informationUri: opts.informationUri ?? DEFAULT_INFORMATION_URI,
            semanticVersion: report.tool.version,
            version: report.tool.version,
            rules: [...SARIF_RULES],
          },
        },
        results,
        // the report's notes (no baseline, options a model could not use as asked): the run's notifications
        ...(report.notes.length > 0
          ? {
              invocations: [
                {
                  executionSuccessful: true,
                  toolExecutionNotifications: report.notes.map((text) => ({
                    level: 'note' as const,
                    message: { text },
                  })),
                },
              ],
            }
          : {}),
        properties: {
          failOn: report.failOn,
          baseline: report.baseline ? { id: report.baseline.id, members: report.baseline.members } : null,
        },
      },
    ],
  };
}

/** The SARIF log as text: two-space indented, ending in a newline. */
export function renderSarif(report: ScanReport, opts: SarifOptions): string {
  return `${JSON.stringify(reportToSarif(report, opts), null, 2)}\n`;
}
