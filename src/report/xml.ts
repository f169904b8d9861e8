/**
 * XML 1.0 escaping for the JUnit renderer. Hand-written because it is a few lines and the renderer only
 * writes text and attribute values; the tests parse the output back with fast-xml-parser to prove it.
 * Characters XML 1.0 cannot carry at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF) are replaced by
 * a visible `\xNN`/`\uNNNN` escape, because no entity can represent them.
 */

// Not allowed anywhere in an XML 1.0 document, not even as a character reference: C0 controls other than
// tab/newline/return, U+FFFE/U+FFFF, and surrogates that are not part of a pair.
// eslint-disable-next-line no-control-regex
const INVALID_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const INVALID_XML = new RegExp(`${INVALID_CHARS.source}|${LONE_SURROGATE.source}`, 'g');

function visibleEscape(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Escape character data (element text). */
export function escapeXmlText(s: string): string {
  return s
    .replace(INVALID_XML, visibleEscape)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** Escape an attribute value for double quotes; tabs and newlines become references so parsers keep them. */
export function escapeXmlAttr(s: string): string {
  return escapeXmlText(s)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}
