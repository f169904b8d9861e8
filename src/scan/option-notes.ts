/**
 * The report's notes on options a model could not use as asked, one sentence per fact in the report's notes,
 * which every format renders once (text, Markdown, HTML, JSON, SARIF, JUnit): a user who asked for an option
 * learns that it did not apply and why, and is not told twice.
 *   --synthesise-base  trigger probing could not synthesise its inputs and mined them (SelfCheck.notSynthesised
 *                      keeps the reason; only this note says it).
 */

/** The fallback of --synthesise-base on one model, with its reason. */
export function notSynthesisedNote(path: string, reason: string): string {
  return `${path}: --synthesise-base: the inputs were mined, not synthesised (${reason}).`;
}
