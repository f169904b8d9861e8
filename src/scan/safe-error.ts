/**
 * Makes a model's error message safe to put in a report, a log line or a PR comment: tensor, node and file
 * names inside it come from the (untrusted) model file and may hold newlines, terminal escapes, bidi
 * overrides or megabytes of text. Used by the scan (report entries) and the CLI (one-line errors).
 */
import { printable } from '../report/printable.js';
import { MAX_ERROR_MESSAGE_CHARS } from '../limits.js';

// Line and paragraph separators and bidirectional overrides: invisible in most viewers, they could make a
// message read differently from what it says.
const INVISIBLE_FORMATTING = /[\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * An error message as one safe line: tensor, node and file names inside it come from the (untrusted) model
 * file and may hold newlines, terminal escapes or megabytes of text, so controls are escaped and the length
 * is capped (the message starts with the file, which stays).
 */
export function safeErrorLine(message: string): string {
  const escaped = printable(message).replace(
    INVISIBLE_FORMATTING,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return escaped.length > MAX_ERROR_MESSAGE_CHARS
    ? `${escaped.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}\u2026`
    : escaped;
}
