/**
 * Trimming text to the sizes the GitHub API accepts, by characters or by UTF-8 bytes, with a visible
 * marker so a reader knows something was cut.
 */

const CUT = '\n… (truncated)';

/** At most `max` UTF-16 code units (what the API counts as characters), marker included. */
export function trimChars(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= CUT.length) return text.slice(0, max);
  let cut = max - CUT.length;
  // Do not split a surrogate pair.
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return text.slice(0, cut) + CUT;
}

/** At most `maxBytes` bytes of UTF-8, marker included, cut at a character boundary. */
export function trimBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let cut = Math.max(0, maxBytes - Buffer.byteLength(CUT, 'utf8'));
  // Step back over UTF-8 continuation bytes (10xxxxxx) so the cut lands before a character's first byte.
  while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut -= 1;
  return bytes.subarray(0, cut).toString('utf8') + CUT;
}
