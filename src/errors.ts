/**
 * The error kinds. An InputError is the user's or the file's fault (a bad model, a wrong flag, a baseline
 * built for another model): it becomes exit code 2 and a one-line message that names the file and the fix.
 * Anything else is a bug and keeps its stack (shown with --debug).
 */
export type InputErrorCode =
  | 'empty-file'
  | 'lfs-pointer'
  | 'pickle-file'
  | 'zip-file'
  | 'not-onnx'
  | 'truncated'
  | 'too-large'
  | 'external-data'
  | 'unsupported-input'
  | 'symbolic-dim'
  | 'unknown-operator'
  | 'invalid-graph'
  | 'runtime-error'
  | 'non-finite-output'
  | 'timeout'
  | 'baseline-mismatch'
  | 'baseline-invalid'
  | 'baseline-missing'
  | 'degenerate-data'
  | 'bad-argument'
  | 'path-outside-workspace'
  | 'not-found';

export class InputError extends Error {
  readonly code: InputErrorCode;
  /** The file the error is about, when there is one: always named in the message too. */
  readonly file?: string;

  constructor(code: InputErrorCode, message: string, file?: string) {
    super(message);
    this.name = 'InputError';
    this.code = code;
    this.file = file;
  }
}

export function isInputError(e: unknown): e is InputError {
  return e instanceof InputError;
}

/** One line for a person: the message of an InputError, or the first line of anything else. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0];
  return String(e);
}
