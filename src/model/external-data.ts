/**
 * External tensor data (ONNX "location" references to side files) is allowed only as a relative path that
 * stays inside the model's own directory: no absolute paths, no `..` escaping, no symlink leading out.
 * A model from an untrusted pull request must not make the scanner read /etc/passwd or a runner secret.
 */
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';

function refuse(file: string, location: string, why: string): never {
  throw new InputError(
    'external-data',
    `${file}: external tensor data "${location}" ${why}; external data must be a relative path inside the model's directory`,
    file,
  );
}

/**
 * Resolves an external data `location` of the model at `modelPath` and returns the real path of the data file.
 * Throws InputError('external-data') naming the model and the location when it is not allowed or missing.
 */
export function resolveExternalData(modelPath: string, location: string): string {
  if (location === '' || location.includes('\0')) refuse(modelPath, location, 'is not a valid path');
  if (path.isAbsolute(location) || path.win32.isAbsolute(location) || /^[a-zA-Z]:/.test(location)) {
    refuse(modelPath, location, 'is an absolute path');
  }
  const parts = location.split(/[\\/]+/);
  if (parts.includes('..')) refuse(modelPath, location, 'leaves the model directory (..)');
  const dir = realpathSync(path.dirname(path.resolve(modelPath)));
  const target = path.resolve(dir, location);
  let real: string;
  try {
    real = realpathSync(target);
  } catch {
    refuse(modelPath, location, 'does not exist');
  }
  const rel = path.relative(dir, real);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    refuse(modelPath, location, 'resolves (through a symlink) outside the model directory');
  }
  if (!statSync(real).isFile()) refuse(modelPath, location, 'is not a regular file');
  return real;
}
