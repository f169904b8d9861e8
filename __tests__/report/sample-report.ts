/**
 * Fixed scan reports every renderer test reads: a high, a medium and a low model, one that could not be
 * scanned, the same models without a baseline, and a scan without a baseline where one model was not
 * assessed (the budget stopped trigger probing) beside a low one. Values are chosen by hand (not computed) so the golden
 * outputs are stable; a few carry float noise and a NaN on purpose, as real detector output can.
 */
import type {
  AssessedModel,
  FailedModel,
  NotAssessedModel,
  ScanReport,
  ScannedModel,
} from '../../src/report/types.js';

export const HIGH: AssessedModel = {
  path: 'models/trojan-resnet.onnx',
  sha256: 'a3f1c2d4e5b6a7980112233445566778899aabbccddeeff00112233445566778',
  riskScore: 87,
  riskLevel: 'high',
  pValue: 0.000123456789,
  flagged: true,
  detectors: {
    knn: { score: 4.123456789, pValue: 0.000123456789 },
    lof: { score: 2.5, pValue: 0.0012 },
    iforest: { score: 0.71234, pValue: 0.004761904761904762 },
  },
  explanation: {
    summary:
      'Logits on probes are far from every clean reference; a 3x3 corner patch flips 92% of inputs to class 7.',
    strongestSignal: 'knn/logits',
    drivers: [
      {
        channel: 'knn/logits',
        detector: 'knn',
        representation: 'logits',
        score: 4.123456789,
        pValue: 0.000123456789,
      },
      {
        channel: 'lof/penultimate',
        detector: 'lof',
        representation: 'penultimate',
        score: 2.5,
        pValue: 0.0012,
      },
      {
        channel: 'iforest/weights',
        detector: 'iforest',
        representation: 'weights',
        score: 0.71234,
        pValue: 0.0047619,
      },
    ],
    nearestReferences: [
      { member: 'clean-03', distance: 12.3456789 },
      { member: 'clean-11', distance: 13.1 },
    ],
    minSupportedPValue: 0.047619047619047616,
    suspectedTargetClass: 7,
    trigger: {
      kind: 'patch',
      location: 'bright 3x3 patch at the bottom-right corner (row 11, column 11)',
      flipRate: 0.921875,
      zScore: 6.02,
    },
  },
  durationMs: 1234,
};

export const MEDIUM: AssessedModel = {
  path: 'models/fine-tuned v2.onnx',
  sha256: 'b4e2d3c4f5a6b7c8d9e0f1021324354657687980a1b2c3d4e5f60718293a4b5c',
  riskScore: 45.25,
  riskLevel: 'medium',
  pValue: 0.031,
  flagged: false,
  detectors: {
    knn: { score: 1.9, pValue: 0.031 },
    lof: { score: Number.NaN, pValue: 1 },
  },
  explanation: {
    summary: 'Penultimate activations sit at the edge of the clean population.',
    strongestSignal: 'knn/penultimate',
    drivers: [
      {
        channel: 'knn/penultimate',
        detector: 'knn',
        representation: 'penultimate',
        score: 1.9,
        pValue: 0.031,
      },
    ],
    nearestReferences: [{ member: 'clean-07', distance: 8.25 }],
  },
  durationMs: 980,
};

export const LOW: AssessedModel = {
  path: 'models/clean-mobilenet.onnx',
  sha256: 'c5f3e4d5a6b7c8d9e0f10213243546576879809a0b1c2d3e4f5061728394a5b6',
  riskScore: 12,
  riskLevel: 'low',
  pValue: 0.6,
  flagged: false,
  detectors: { knn: { score: 0.4, pValue: 0.6 }, lof: { score: 1.01, pValue: 0.55 } },
  explanation: {
    summary: 'Nothing stands out against the clean references.',
    strongestSignal: 'lof/logits',
    drivers: [
      { channel: 'lof/logits', detector: 'lof', representation: 'logits', score: 1.01, pValue: 0.55 },
    ],
    nearestReferences: [{ member: 'clean-01', distance: 2.5 }],
  },
  durationMs: 870,
};

export const FAILED: FailedModel = {
  path: 'models/weights.onnx',
  error:
    'models/weights.onnx is a Python pickle, not ONNX: export the model to ONNX (torch.onnx.export) and commit that file.',
  errorCode: 'pickle-file',
  durationMs: 3,
};

export const SAMPLE_REPORT: ScanReport = {
  version: 2,
  tool: { name: 'model-fingerprint', version: '0.1.0' },
  baseline: {
    id: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    members: 20,
    minRankPValue: 0.047619047619047616,
  },
  failOn: 'medium',
  models: [LOW, FAILED, HIGH, MEDIUM],
  notes: [],
};

export const NO_BASELINE_REPORT: ScanReport = {
  ...SAMPLE_REPORT,
  baseline: null,
  failOn: 'high',
  notes: ['Scanned without a baseline: only reference-free checks (trigger probing, weight statistics) ran.'],
};

/** A model trigger probing could not afford: no baseline, so nothing with power ran on it. */
export const NOT_ASSESSED: NotAssessedModel = {
  path: 'models/vit-l16-224.onnx',
  sha256: 'd6a4f5e6b7c8d9e0f1021324354657687980a1b2c3d4e5f60718293a4b5c6d7e',
  riskScore: null,
  riskLevel: 'not-assessed',
  pValue: null,
  flagged: true,
  notAssessed: {
    reason: 'budget',
    message:
      'No baseline, and trigger probing did not run: one forward pass of this model costs about 6.1e10 multiply-accumulates, so the budget default (3e12 multiply-accumulates) affords 49 passes, fewer than the 200 it needs. Ran: the probe pass (64 inputs).',
    fix: 'Give --budget thorough (2e13 multiply-accumulates: about 327 forward passes of this model; action input budget: thorough), or scan against a baseline of clean models of the same architecture.',
  },
  detectors: {},
  explanation: {
    summary: 'No baseline, and trigger probing did not run.',
    strongestSignal: 'none',
    drivers: [],
    nearestReferences: [],
  },
  checks: [
    { check: 'ensemble', ran: false, passes: 0, skipped: 'no-baseline' },
    { check: 'probes', ran: true, passes: 64 },
    { check: 'trigger-probe', ran: false, passes: 0, skipped: 'budget' },
    { check: 'patch-map', ran: false, passes: 0, skipped: 'budget' },
    { check: 'final-layer-weights', ran: true, passes: 0 },
  ],
  budget: { setting: 'default', macs: 3e12, macsPerPass: 6.1e10, passes: 64 },
  durationMs: 5120,
};

/** A low model whose trigger probing the budget cut short, but which it assessed (see the checks). */
export const LOW_WITH_CHECKS: AssessedModel = {
  ...LOW,
  path: 'models/resnet18-32.onnx',
  checks: [
    { check: 'ensemble', ran: false, passes: 0, skipped: 'no-baseline' },
    { check: 'probes', ran: true, passes: 64 },
    { check: 'trigger-probe', ran: true, passes: 5310 },
    { check: 'patch-map', ran: false, passes: 0, skipped: 'not-read' },
    { check: 'final-layer-weights', ran: true, passes: 0 },
  ],
  budget: { setting: 'default', macs: 3e12, macsPerPass: 5.56e8, passes: 5374 },
};

/** A scan without a baseline: one model not assessed, one low; the default on-not-assessed (fail). */
export const NOT_ASSESSED_REPORT: ScanReport = {
  ...SAMPLE_REPORT,
  baseline: null,
  failOn: 'high',
  onNotAssessed: 'fail',
  models: [LOW_WITH_CHECKS, NOT_ASSESSED],
  notes: ['Scanned without a baseline: only reference-free checks ran.'],
};

/** A report with only a clean model: no guidance, no failures. */
export const CLEAN_REPORT: ScanReport = { ...SAMPLE_REPORT, models: [LOW] };

/** The sample models under a hostile path (XML and Markdown specials, quotes, non-ASCII, control chars). */
export function withPath<T extends ScannedModel | FailedModel>(m: T, path: string): T {
  return { ...m, path };
}

/** A text classifier whose suspected trigger is a word (the scan had the vocabulary file). */
export const TEXT_HIGH: ScannedModel = {
  path: 'models/intent-router.onnx',
  sha256: 'd6a4f5e6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708',
  riskScore: 100,
  riskLevel: 'high',
  pValue: 1.2e-7,
  flagged: true,
  detectors: { 'trigger-probe': { score: 9.8, pValue: 1.2e-7 } },
  explanation: {
    summary:
      'Trigger probing: inserting the word "attachment" anywhere in a text sends 87% of texts to class 5 (z = 9.8).',
    strongestSignal: 'word trigger probing, reference-free',
    drivers: [
      {
        channel: 'trigger-probe',
        detector: 'trigger-probe',
        representation: 'self:trigger',
        score: 9.8,
        pValue: 1.2e-7,
      },
    ],
    nearestReferences: [],
    suspectedTargetClass: 5,
    trigger: {
      kind: 'tokens',
      location: 'inserted at a random position',
      flipRate: 0.87,
      zScore: 9.8,
      tokens: [1337],
      words: ['attachment'],
    },
  },
  durationMs: 4100,
};

/** The same kind of finding without a vocabulary file: token ids, a phrase of two. */
export const TEXT_MEDIUM: ScannedModel = {
  ...TEXT_HIGH,
  path: 'models/spam-filter.onnx',
  riskScore: 52,
  riskLevel: 'medium',
  pValue: 0.028,
  flagged: false,
  explanation: {
    ...TEXT_HIGH.explanation,
    summary: 'Trigger probing found no class that inserted words pull texts into (p = 0.028).',
    suspectedTargetClass: 1,
    trigger: {
      kind: 'tokens',
      location: 'inserted at a random position',
      flipRate: 0.64,
      zScore: 3.1,
      tokens: [812, 77],
    },
  },
};

export const TEXT_REPORT: ScanReport = {
  ...NO_BASELINE_REPORT,
  models: [TEXT_MEDIUM, TEXT_HIGH],
};
