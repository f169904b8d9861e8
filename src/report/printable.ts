/**
 * Makes untrusted strings (model paths and error messages from pull requests) safe to print: control
 * characters are replaced by visible escapes, so a file named with an ANSI escape or a newline cannot
 * repaint a terminal, forge a table row or break out of a Markdown cell.
 */

// C0 controls, DEL and C1 controls. Tabs and newlines are included on purpose: every caller wants one line.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;

/** Replace each control character with a visible `\xNN` escape. */
export function printable(s: string): string {
  return s.replace(CONTROL_CHARS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
