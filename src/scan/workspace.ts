/**
 * Keeps model paths inside the workspace: a path (or a symlink) that resolves outside it is refused,
 * so a pull request cannot point the scanner at files elsewhere on the runner.
 */
import { realpathSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { InputError } from '../errors.js';

export function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/** Resolves `path` and checks it stays in `workspace` (both through symlinks). Missing files pass through. */
export function assertInsideWorkspace(path: string, workspace: string | undefined): void {
  if (!workspace) return;
  let root: string;
  try {
    root = realpathSync(resolve(workspace));
  } catch {
    throw new InputError('not-found', `workspace ${workspace} does not exist`);
  }
  const abs = resolve(path);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    real = abs;
  }
  if (!isInside(abs, root) && !isInside(abs, resolve(workspace))) {
    throw new InputError(
      'path-outside-workspace',
      `${path}: outside the workspace ${workspace}; only files in the repository are scanned`,
      path,
    );
  }
  if (!isInside(real, root)) {
    throw new InputError(
      'path-outside-workspace',
      `${path}: a symlink to ${real}, outside the workspace ${workspace}; refused`,
      path,
    );
  }
}
