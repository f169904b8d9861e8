/**
 * `npm run release -- 1.2.3 [--push] [--remote origin]`: cut a release that `uses: owner/fingerprint-action@v1`
 * picks up. Refuses a dirty tree, an existing tag, a version not above the current one, and a dist/ that is not
 * what the source builds; then bumps the version (package.json, package-lock.json, src/version.ts), rebuilds
 * dist/ (the bundle carries the version), commits "Release v1.2.3", tags v1.2.3 and moves the major tag v1
 * (both annotated; a prerelease such as 1.2.3-rc.1 leaves the major tag alone). Pushes only with --push, and
 * otherwise prints the push commands. Any refusal after it started changing files puts the tree back as it was
 * (it was clean to begin with). Steps in docs/release.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

/** A refusal: printed as one line, exit 1. */
export class ReleaseError extends Error {}
/** A malformed command line: printed with the usage, exit 2. */
export class UsageError extends ReleaseError {}

export interface ReleaseOptions {
  /** The version to release, "1.2.3" (no leading v). */
  version: string;
  push: boolean;
  remote: string;
}

export interface ReleaseDeps {
  /** The repository's root (where package.json is). */
  cwd: string;
  log: (line: string) => void;
  /** Runs the build (npm run build); output goes where the caller wants it. */
  build: (cwd: string) => void;
}

export interface ReleaseResult {
  tag: string;
  /** The moved major tag, or undefined for a prerelease. */
  majorTag: string | undefined;
  commit: string;
  /** The push commands, run with --push, printed otherwise. */
  pushCommands: string[][];
}

export const USAGE = 'usage: npm run release -- <version, e.g. 1.2.3> [--push] [--remote <name>]';

/** Files the bump rewrites; with dist/ the only paths a release commit may change. */
const VERSION_FILES = ['package.json', 'package-lock.json', 'src/version.ts'];
const TOOL_VERSION_RE = /(export const TOOL_VERSION = ')([^']*)(';)/;

export function parseReleaseArgs(argv: string[]): ReleaseOptions {
  let version: string | undefined;
  let push = false;
  let remote = 'origin';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--push') push = true;
    else if (a === '--remote') {
      remote = argv[++i] ?? '';
      if (!remote || remote.startsWith('-')) throw new UsageError(`--remote needs a name. ${USAGE}`);
    } else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}. ${USAGE}`);
    else if (version === undefined) version = a;
    else throw new UsageError(`one version only (got ${version} and ${a}). ${USAGE}`);
  }
  if (version === undefined) throw new UsageError(USAGE);
  // semver.valid accepts "v1.2.3" and "=1.2.3" too; the tag adds the v, so the argument must not carry one.
  if (semver.valid(version) !== version) {
    throw new UsageError(`"${version}" is not a version like 1.2.3 (or 1.2.3-rc.1). ${USAGE}`);
  }
  return { version, push, remote };
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function gitOk(cwd: string, ...args: string[]): boolean {
  try {
    git(cwd, ...args);
    return true;
  } catch {
    return false;
  }
}

interface StatusEntry {
  /** git status's two-letter code, e.g. " M", "??". */
  code: string;
  path: string;
}

/** `git status` of the whole tree or of some paths, untracked files included. */
function status(cwd: string, ...paths: string[]): StatusEntry[] {
  const args = [
    'status',
    '--porcelain',
    '-z',
    '--untracked-files=all',
    ...(paths.length ? ['--', ...paths] : []),
  ];
  const fields = execFileSync('git', args, { cwd, encoding: 'utf8' }).split('\0');
  const entries: StatusEntry[] = [];
  for (let i = 0; i < fields.length; i++) {
    if (fields[i] === '') continue;
    const code = fields[i].slice(0, 2);
    entries.push({ code, path: fields[i].slice(3) });
    if (code[0] === 'R' || code[0] === 'C') i++; // a rename's or copy's source path follows
  }
  return entries;
}

function shortList(entries: StatusEntry[]): string {
  const shown = entries.slice(0, 5).map((e) => `${e.code.trim()} ${e.path}`);
  return shown.join(', ') + (entries.length > 5 ? ` and ${entries.length - 5} more` : '');
}

function readVersions(cwd: string): { pkg: string; tool: string | undefined } {
  const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as { version?: string };
  if (!pkg.version) throw new ReleaseError('package.json has no "version"');
  const versionTs = join(cwd, 'src', 'version.ts');
  const tool = existsSync(versionTs) ? TOOL_VERSION_RE.exec(readFileSync(versionTs, 'utf8'))?.[2] : undefined;
  return { pkg: pkg.version, tool };
}

/** Rewrites the version in place, keeping each file's formatting (only the version strings change). */
function bumpVersion(cwd: string, from: string, to: string): void {
  const pkgPath = join(cwd, 'package.json');
  const pkgText = readFileSync(pkgPath, 'utf8');
  writeFileSync(pkgPath, pkgText.replace(`"version": "${from}"`, `"version": "${to}"`));
  const lockPath = join(cwd, 'package-lock.json');
  if (existsSync(lockPath)) {
    // The root package's version sits at the top and again under packages[""], as npm version writes it.
    const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as {
      version?: string;
      packages?: Record<string, { version?: string }>;
    };
    if (lock.version !== undefined) lock.version = to;
    const root = lock.packages?.[''];
    if (root?.version !== undefined) root.version = to;
    writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
  }
  const versionTs = join(cwd, 'src', 'version.ts');
  if (existsSync(versionTs)) {
    writeFileSync(versionTs, readFileSync(versionTs, 'utf8').replace(TOOL_VERSION_RE, `$1${to}$3`));
  }
}

/** Back to HEAD as it was: the tree was clean when the release started, so nothing of the user's is lost. */
function restore(cwd: string): void {
  git(cwd, 'reset', '--quiet', '--hard', 'HEAD');
  git(cwd, 'clean', '-fdq', '--', 'dist');
}

export function release(opts: ReleaseOptions, deps: ReleaseDeps): ReleaseResult {
  const { cwd, log } = deps;
  const { version } = opts;
  const tag = `v${version}`;
  const prerelease = semver.prerelease(version) !== null;
  const majorTag = prerelease ? undefined : `v${semver.major(version)}`;

  if (!gitOk(cwd, 'rev-parse', '--is-inside-work-tree'))
    throw new ReleaseError(`${cwd} is not a git work tree`);
  const dirty = status(cwd);
  if (dirty.length > 0) {
    throw new ReleaseError(`the work tree is not clean (${shortList(dirty)}): commit or stash first`);
  }
  const branch = gitOk(cwd, 'symbolic-ref', '-q', 'HEAD') ? git(cwd, 'symbolic-ref', '--short', 'HEAD') : '';
  if (opts.push && !branch) throw new ReleaseError('HEAD is detached: check out the branch to release from');
  if (gitOk(cwd, 'rev-parse', '-q', '--verify', `refs/tags/${tag}`)) {
    throw new ReleaseError(`tag ${tag} exists already: pick the next version`);
  }
  const current = readVersions(cwd);
  if (current.tool !== undefined && current.tool !== current.pkg) {
    throw new ReleaseError(
      `package.json says ${current.pkg} but src/version.ts says ${current.tool}: make them agree first`,
    );
  }
  if (!semver.valid(current.pkg) || !semver.gt(version, current.pkg)) {
    throw new ReleaseError(`${version} is not above the current version ${current.pkg}`);
  }

  log(`Building to check dist/ is what the source at HEAD builds...`);
  try {
    deps.build(cwd);
  } catch (e) {
    restore(cwd);
    throw new ReleaseError(`the build failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const stale = status(cwd, 'dist');
  if (stale.length > 0) {
    restore(cwd);
    throw new ReleaseError(
      `dist/ is not what the source builds (${shortList(stale)}): run npm run build, commit dist/, release again`,
    );
  }
  const strays = status(cwd);
  if (strays.length > 0) {
    restore(cwd);
    throw new ReleaseError(
      `the build changed files outside dist/ (${shortList(strays)}): ignore or commit them`,
    );
  }

  log(`Bumping ${current.pkg} -> ${version} and rebuilding dist/...`);
  try {
    bumpVersion(cwd, current.pkg, version);
    const bumped = readVersions(cwd);
    if (bumped.pkg !== version || (bumped.tool !== undefined && bumped.tool !== version)) {
      throw new ReleaseError(
        `the version bump did not take (package.json ${bumped.pkg}, src/version.ts ${bumped.tool})`,
      );
    }
    deps.build(cwd);
    const outside = status(cwd).filter((e) => !VERSION_FILES.includes(e.path) && !e.path.startsWith('dist/'));
    if (outside.length > 0)
      throw new ReleaseError(`the bump changed unexpected files (${shortList(outside)})`);
    git(cwd, 'add', '--all', '--', ...VERSION_FILES.filter((f) => existsSync(join(cwd, f))), 'dist');
    git(cwd, 'commit', '--quiet', '-m', `Release ${tag}`);
  } catch (e) {
    restore(cwd);
    if (e instanceof ReleaseError) throw e;
    throw new ReleaseError(`the version bump failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const commit = git(cwd, 'rev-parse', 'HEAD');
  git(cwd, 'tag', '-a', tag, '-m', `Release ${tag}`);
  if (majorTag)
    git(cwd, 'tag', '-f', '-a', majorTag, '-m', `${majorTag}: the latest ${majorTag}.x release, ${tag}`);
  log(
    `Committed ${commit.slice(0, 12)} "Release ${tag}", tagged ${tag}${majorTag ? ` and moved ${majorTag}` : ''}.`,
  );

  const pushCommands = [
    ['git', 'push', opts.remote, branch || 'HEAD'],
    ['git', 'push', opts.remote, `refs/tags/${tag}`],
    // The major tag moves on every release, so its push must be forced.
    ...(majorTag ? [['git', 'push', '--force', opts.remote, `refs/tags/${majorTag}`]] : []),
  ];
  if (opts.push) {
    for (const [, ...args] of pushCommands) {
      log(`$ git ${args.join(' ')}`);
      git(cwd, ...args);
    }
    log('Pushed.');
  } else {
    log('Nothing pushed. To publish:');
    for (const c of pushCommands) log(`  ${c.join(' ')}`);
  }
  return { tag, majorTag, commit, pushCommands };
}

async function main(argv: string[]): Promise<number> {
  try {
    const opts = parseReleaseArgs(argv);
    release(opts, {
      cwd: process.cwd(),
      log: (line) => process.stdout.write(`${line}\n`),
      build: (cwd) =>
        execFileSync('npm', ['run', '--silent', 'build'], { cwd, stdio: ['ignore', 'inherit', 'inherit'] }),
    });
    return 0;
  } catch (e) {
    if (!(e instanceof ReleaseError)) throw e;
    process.stderr.write(`release: ${e.message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
