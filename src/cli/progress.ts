/**
 * Progress for long runs: a one-line bar redrawn in place on a terminal, one log line per model
 * elsewhere (CI logs keep every line). Written to stderr so stdout stays the report.
 */
import type { ProgressEvent } from '../scan/api.js';

export function progressReporter(
  write: (s: string) => void,
  isTTY: boolean,
  verb: string,
): (e: ProgressEvent) => void {
  const BAR = 24;
  return (e) => {
    if (e.kind === 'start') {
      if (!isTTY) write(`${verb} ${e.total} model(s)\n`);
      return;
    }
    const done = e.index + 1;
    const status = e.error ? `error: ${e.error}` : `${e.ms} ms`;
    if (isTTY) {
      const filled = Math.round((BAR * done) / e.total);
      write(
        `\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${done}/${e.total} ${e.path} (${status})`,
      );
      if (done === e.total) write('\n');
    } else {
      write(`[${done}/${e.total}] ${e.path}: ${status}\n`);
    }
  };
}
