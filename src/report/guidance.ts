/**
 * What a person should do about a flagged model: the same advice in the PR comment, the SARIF rule help
 * and the terminal, so the three never drift apart. Written as Markdown (backticks for commands); plainText
 * strips the backticks for formats that show text verbatim.
 */

export const FLAGGED_MODEL_GUIDANCE_TITLE = 'What to do about a flagged model';

export const FLAGGED_MODEL_GUIDANCE: readonly string[] = [
  "Don't merge it yet: its fingerprint departs from the clean models the way backdoored models' fingerprints do.",
  'Check its provenance: who produced the file, from which training run, data and code, and whether its hash matches the one the producer published.',
  'If the origin cannot be vouched for, re-train from trusted data and code and scan the new file.',
  'If it is a false alarm (a legitimately new architecture or training recipe), add it to the baseline only after review, with `model-fingerprint baseline add`, so later scans compare against it.',
];

export const UNSCANNABLE_MODEL_GUIDANCE =
  'A model that could not be scanned is unverified: fix the cause named in the error (or convert the model to ONNX) and scan again before merging.';

/** What to do about a model that was not assessed (each model's own fix is in its report entry). */
export const NOT_ASSESSED_GUIDANCE =
  'A model that was not assessed is unverified, not low risk. Scan it against a baseline of clean models of the ' +
  'same architecture (the ensemble applies to any model), or give trigger probing what it needs: a larger scan ' +
  'budget (--budget thorough; action input budget) and real inputs (--probe-samples DIR).';

/** Markdown to plain text for these sentences: only backticks are used, so dropping them is enough. */
export function plainText(markdown: string): string {
  return markdown.replace(/`/g, '');
}
