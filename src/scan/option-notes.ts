/**
 * The report's notes on options a model could not use as asked, one sentence per fact in the report's notes,
 * which every format renders once (text, Markdown, HTML, JSON, SARIF, JUnit): a user who asked for an option
 * learns that it did not apply and why, and is not told twice.
 *   --synthesise-base  trigger probing could not synthesise its inputs and mined them (SelfCheck.notSynthesised
 *                      keeps the reason; only this note says it);
 *   --token-inversion  the model takes no token ids (images, other inputs): the option was ignored.
 */
import type { OnnxModel } from '../model/types.js';

/** How every --token-inversion note begins (the CLI and the action also say it once on their log). */
export const TOKEN_INVERSION_IGNORED = '--token-inversion applies to token-input (text) models';

/** The fallback of --synthesise-base on one model, with its reason. */
export function notSynthesisedNote(path: string, reason: string): string {
  return `${path}: --synthesise-base: the inputs were mined, not synthesised (${reason}).`;
}

/** What a model takes when it is not one token-id input ("images"), or null for a token-input (text) model. */
export function nonTokenInput(model: Pick<OnnxModel, 'inputs'>): string | null {
  const ins = model.inputs;
  if (ins.length === 1 && (ins[0].dtype === 'int64' || ins[0].dtype === 'int32')) return null;
  if (ins.length !== 1) return 'several inputs';
  return ins[0].shape.length === 4 ? 'images' : `${ins[0].dtype} inputs`;
}

/**
 * One note for every model --token-inversion did not apply to, grouped by what they take:
 * "--token-inversion applies to token-input (text) models; a.onnx takes images: ignored".
 */
export function tokenInversionNote(ignored: readonly { path: string; takes: string }[]): string | null {
  if (ignored.length === 0) return null;
  const byKind = new Map<string, string[]>();
  for (const m of ignored) byKind.set(m.takes, [...(byKind.get(m.takes) ?? []), m.path]);
  const parts = [...byKind].map(
    ([takes, paths]) => `${listed(paths)} ${paths.length === 1 ? 'takes' : 'take'} ${takes}`,
  );
  return `${TOKEN_INVERSION_IGNORED}; ${parts.join('; ')}: ignored`;
}

/** Names most-`max` paths, then how many more. */
function listed(paths: readonly string[], max = 5): string {
  const shown = paths.slice(0, max);
  const more = paths.length - shown.length;
  const head = more > 0 ? [...shown, `${more} more`] : shown;
  return head.length === 1 ? head[0] : `${head.slice(0, -1).join(', ')} and ${head[head.length - 1]}`;
}
