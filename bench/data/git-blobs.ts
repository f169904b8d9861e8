/**
 * Reads files of one commit from a git repository (a bare snapshot or an ordinary clone) without a work
 * tree: `git ls-tree` for the listing, one `git cat-file --batch` for all blobs. Nothing from the repository
 * is executed; only git reads it.
 */
import { spawnSync } from 'node:child_process';

export class SourceError extends Error {}

function git(dir: string, args: string[], input?: string): Buffer {
  const r = spawnSync('git', ['-C', dir, ...args], {
    input,
    maxBuffer: 1 << 30,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (r.error) throw new SourceError(`git ${args[0]} in ${dir}: ${r.error.message}`);
  if (r.status !== 0)
    throw new SourceError(`git ${args[0]} in ${dir} failed: ${r.stderr.toString().trim().split('\n')[0]}`);
  return r.stdout;
}

/** Throws a SourceError naming the fix when `dir` is not a git repository holding `commit`. */
export function checkCommit(dir: string, commit: string, repo: string): void {
  try {
    git(dir, ['cat-file', '-e', `${commit}^{commit}`]);
  } catch {
    throw new SourceError(
      `${dir} does not hold commit ${commit} of ${repo}: clone it with ` +
        `git clone https://github.com/${repo} ${dir} (then git -C ${dir} checkout ${commit} is not needed: ` +
        `the build reads that commit directly)`,
    );
  }
}

/** Every file path at `commit` with its blob id. */
export function listTree(dir: string, commit: string): Map<string, string> {
  const out = git(dir, ['ls-tree', '-r', '-z', commit]).toString('utf8');
  const files = new Map<string, string>();
  for (const rec of out.split('\0')) {
    if (!rec) continue;
    const tab = rec.indexOf('\t');
    const [, type, oid] = rec.slice(0, tab).split(' ');
    if (type === 'blob') files.set(rec.slice(tab + 1), oid);
  }
  return files;
}

/** The contents of the given blob ids, in order (one cat-file process for all of them). */
export function readBlobs(dir: string, oids: string[]): Buffer[] {
  const out = git(dir, ['cat-file', '--batch'], oids.join('\n') + '\n');
  const blobs: Buffer[] = [];
  let pos = 0;
  for (const oid of oids) {
    const nl = out.indexOf(10, pos);
    const header = out.subarray(pos, nl).toString('utf8');
    const [got, type, size] = header.split(' ');
    if (got !== oid || type !== 'blob')
      throw new SourceError(
        `git cat-file: expected blob ${oid}, got "${header}" (a file absent from the snapshot?)`,
      );
    const n = Number(size);
    blobs.push(out.subarray(nl + 1, nl + 1 + n));
    pos = nl + 1 + n + 1;
  }
  return blobs;
}
