/**
 * A found trigger as a noun phrase a reviewer reads: an image trigger's `location` is already the whole
 * phrase ("bright 3x3 patch at the bottom-right corner (row 11, column 11)", src/selfcheck/triggers.ts), its
 * `kind` ("patch:solid-hi") stays machine-readable for tools and is shown only when no phrase was recorded.
 * One place, so the PR comment, the explanation and the self-check detail word a trigger alike.
 */

/** The phrase for an image trigger (text triggers: describe.ts triggerWordsText). */
export function imageTriggerText(t: { kind: string; location?: string }): string {
  return t.location && t.location.length > 0 ? t.location : `${t.kind} trigger`;
}

/** "a bright 3x3 patch", "an ...", or no article before a count ("5 bright pixels at ..."). */
export function withArticle(phrase: string): string {
  if (/^\d/.test(phrase)) return phrase;
  return `${/^[aeiou]/i.test(phrase) ? 'an' : 'a'} ${phrase}`;
}
