/**
 * Models whose external tensor data a change touched. PyTorch's default exporter (torch.onnx.export with
 * the dynamo exporter) writes the weights to a side file (`model.onnx.data`) beside a small `model.onnx`, so
 * a pull request that swaps only the weights changes only the side file, which the `models` patterns do not
 * match. Without this, a backdoor could be merged by editing the one file the gate never looks at.
 *
 * External data must lie inside the model's own directory (src/model/external-data.ts refuses anything
 * else), so a changed file can only belong to a model in its directory or an ancestor. Those models are
 * read as bytes, never parsed or run, and every one that holds the changed file's name (ASCII case folded,
 * for case-insensitive file systems) is scanned. A name that appears without being a real reference only
 * makes the run scan an unchanged model; a model too large to search is scanned without searching. Both err
 * on the side of scanning, as a gate should.
 *
 * No package: a streamed byte search over a few files; no maintained package maps ONNX side files to models
 * without parsing (decoding) the model, which this avoids for files from an untrusted pull request.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { SIDE_FILE_SEARCH_MAX_BYTES } from '../limits.js';

/** Bytes read per step of the search. */
const CHUNK_BYTES = 1024 * 1024;
/**
 * Most changed file names one model is searched for (each is one scan of every chunk): with more changed
 * files in its folder the model is scanned without searching, which costs one scan, not a slow search.
 */
export const SIDE_FILE_MAX_NAMES = 64;

export interface SideFileHit {
  /** Repository path of the model to scan. */
  model: string;
  /** Repository path of the changed side file that made it a candidate. */
  sideFile: string;
  /**
   * 'reference': the model names the side file; 'too-large' / 'too-many': scanned without searching (the
   * model is over SIDE_FILE_SEARCH_MAX_BYTES, or over SIDE_FILE_MAX_NAMES changed names are in its folder).
   */
  why: 'reference' | 'too-large' | 'too-many';
}

/** Lower-cases ASCII letters in place (file names differ in case on case-insensitive file systems). */
function foldAscii(b: Buffer, n: number): void {
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c >= 0x41 && c <= 0x5a) b[i] = c + 0x20;
  }
}

/**
 * Index of the first of `needles` (already folded) the file holds, or -1; read in chunks that overlap by the
 * longest needle, so a name split across two chunks is still found.
 */
function firstMention(file: string, needles: Buffer[]): number {
  const keep = Math.max(...needles.map((n) => n.length)) - 1;
  const buf = Buffer.alloc(CHUNK_BYTES + keep);
  const fd = openSync(file, 'r');
  try {
    let carried = 0;
    for (;;) {
      const got = readSync(fd, buf, carried, CHUNK_BYTES, null);
      if (got === 0) return -1;
      const n = carried + got;
      foldAscii(buf.subarray(carried, n), got);
      const view = buf.subarray(0, n);
      const i = needles.findIndex((needle) => view.indexOf(needle) >= 0);
      if (i >= 0) return i;
      carried = Math.min(keep, n);
      buf.copy(buf, 0, n - carried, n);
    }
  } finally {
    closeSync(fd);
  }
}

/** Whether `dir` is `ancestor` or lies under it (repository paths, forward slashes, '' = the root). */
function isWithin(dir: string, ancestor: string): boolean {
  return ancestor === '' || dir === ancestor || dir.startsWith(`${ancestor}/`);
}

/**
 * The models (repository paths among `models`, the workspace's matching model files) that may read one of
 * `changed` (repository paths of changed files that are not models themselves, removed ones included: a
 * model whose side file was deleted must fail its scan, not be skipped).
 */
export function modelsUsingSideFiles(workspace: string, changed: string[], models: string[]): SideFileHit[] {
  const hits = new Map<string, SideFileHit>();
  for (const model of models) {
    const dir = path.posix.dirname(model) === '.' ? '' : path.posix.dirname(model);
    const mine = changed.filter((f) => f !== model && isWithin(path.posix.dirname(f), dir));
    if (mine.length === 0) continue;
    const file = path.join(workspace, model);
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      continue; // listed a moment ago and gone: nothing to scan
    }
    const names = [...new Set(mine.map((f) => path.posix.basename(f)))];
    if (size > SIDE_FILE_SEARCH_MAX_BYTES || names.length > SIDE_FILE_MAX_NAMES) {
      hits.set(model, {
        model,
        sideFile: mine[0],
        why: size > SIDE_FILE_SEARCH_MAX_BYTES ? 'too-large' : 'too-many',
      });
      continue;
    }
    // One pass over the model for every changed file's name (a location may spell its folder differently,
    // but it ends in the name).
    const needles = names.map((name) => {
      const b = Buffer.from(name, 'utf8');
      foldAscii(b, b.length);
      return b;
    });
    const i = firstMention(file, needles);
    if (i >= 0) {
      const sideFile = mine.find((f) => path.posix.basename(f) === names[i]) as string;
      hits.set(model, { model, sideFile, why: 'reference' });
    }
  }
  return [...hits.values()].sort((a, b) => a.model.localeCompare(b.model));
}
