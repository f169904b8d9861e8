/**
 * scripts/release.ts against a real git repository: a temporary copy of a minimal action tree (package.json,
 * package-lock.json, src/version.ts, a build that writes dist/ from src/, dist/ committed) with a bare
 * repository as its remote. Checks the release commit, the annotated tags, the moved major tag, the pushes
 * (only with --push), and that every refusal leaves the repository as it was.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseReleaseArgs,
  release,
  ReleaseError,
  UsageError,
  type ReleaseOptions,
} from '../../scripts/release.js';

const ROOT = process.cwd();
let tmp: string;
let repo: string;
let remote: string;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** The source "builds" into dist/index.js: every src file, in name order, behind a banner. */
const BUILD_MJS = `import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
const files = readdirSync('src').sort();
mkdirSync('dist', { recursive: true });
writeFileSync('dist/index.js', '// built\\n' + files.map((f) => readFileSync('src/' + f, 'utf8')).join(''));
`;

function write(rel: string, text: string): void {
  mkdirSync(join(repo, rel, '..'), { recursive: true });
  writeFileSync(join(repo, rel), text);
}

function build(cwd: string): void {
  execFileSync(process.execPath, ['build.mjs'], { cwd, stdio: 'ignore' });
}

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mf-release-'));
  repo = join(tmp, 'action');
  remote = join(tmp, 'remote.git');
  mkdirSync(repo);
  git(tmp, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
  git(tmp, 'init', '--quiet', '--initial-branch=main', repo);
  git(repo, 'config', 'user.name', 'Release Test');
  git(repo, 'config', 'user.email', 'release@example.invalid');
  git(repo, 'config', 'commit.gpgsign', 'false');
  git(repo, 'config', 'tag.gpgsign', 'false');
  write(
    'package.json',
    JSON.stringify(
      { name: 'mini-action', version: '0.1.0', private: true, scripts: { build: 'node build.mjs' } },
      null,
      2,
    ) + '\n',
  );
  write(
    'package-lock.json',
    JSON.stringify(
      {
        name: 'mini-action',
        version: '0.1.0',
        lockfileVersion: 3,
        requires: true,
        packages: { '': { name: 'mini-action', version: '0.1.0' } },
      },
      null,
      2,
    ) + '\n',
  );
  write('src/version.ts', "export const TOOL_NAME = 'mini';\nexport const TOOL_VERSION = '0.1.0';\n");
  write('src/main.ts', "export const greeting = 'hello';\n");
  write('build.mjs', BUILD_MJS);
  build(repo);
  git(repo, 'add', '--all');
  git(repo, 'commit', '--quiet', '-m', 'initial');
  git(repo, 'remote', 'add', 'origin', remote);
  git(repo, 'push', '--quiet', 'origin', 'main');
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function run(
  version: string,
  more: Partial<ReleaseOptions> = {},
): { log: string[]; result: ReturnType<typeof release> } {
  const log: string[] = [];
  const result = release(
    { version, push: false, remote: 'origin', ...more },
    { cwd: repo, log: (l) => log.push(l), build },
  );
  return { log, result };
}

/** Everything a refusal must leave alone: commits, tags, files. */
function snapshot(): string {
  return [
    git(repo, 'rev-parse', 'HEAD'),
    git(repo, 'tag', '--list'),
    git(repo, 'status', '--porcelain'),
  ].join('|');
}

function tagTarget(cwd: string, tag: string): string {
  return git(cwd, 'rev-parse', `refs/tags/${tag}^{commit}`);
}

test('a release bumps the version, rebuilds dist/, commits, tags v0.2.0 and v0 (annotated), pushes nothing', () => {
  const { log, result } = run('0.2.0');
  const head = git(repo, 'rev-parse', 'HEAD');
  expect(result).toMatchObject({ tag: 'v0.2.0', majorTag: 'v0', commit: head });
  expect(git(repo, 'log', '-1', '--format=%s')).toBe('Release v0.2.0');
  expect(git(repo, 'show', '--name-only', '--format=', 'HEAD').split('\n').sort()).toEqual([
    'dist/index.js',
    'package-lock.json',
    'package.json',
    'src/version.ts',
  ]);
  expect(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version).toBe('0.2.0');
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8'));
  expect([lock.version, lock.packages[''].version]).toEqual(['0.2.0', '0.2.0']);
  expect(readFileSync(join(repo, 'src/version.ts'), 'utf8')).toContain("TOOL_VERSION = '0.2.0'");
  expect(readFileSync(join(repo, 'dist/index.js'), 'utf8')).toContain("TOOL_VERSION = '0.2.0'");
  expect(git(repo, 'status', '--porcelain')).toBe('');
  for (const tag of ['v0.2.0', 'v0']) {
    expect(git(repo, 'cat-file', '-t', `refs/tags/${tag}`)).toBe('tag'); // annotated, not lightweight
    expect(tagTarget(repo, tag)).toBe(head);
  }
  // Nothing reached the remote; the log says how to publish.
  expect(git(remote, 'tag', '--list')).toBe('');
  expect(git(remote, 'rev-parse', 'main')).not.toBe(head);
  expect(log).toEqual(
    expect.arrayContaining([
      '  git push origin main',
      '  git push origin refs/tags/v0.2.0',
      '  git push --force origin refs/tags/v0',
    ]),
  );
});

test('--push publishes the branch and tags, and the next release moves the major tag on the remote too', () => {
  run('0.2.0', { push: true });
  const first = git(repo, 'rev-parse', 'HEAD');
  expect(git(remote, 'rev-parse', 'main')).toBe(first);
  expect(tagTarget(remote, 'v0.2.0')).toBe(first);
  expect(tagTarget(remote, 'v0')).toBe(first);

  run('0.3.0', { push: true });
  const second = git(repo, 'rev-parse', 'HEAD');
  expect(second).not.toBe(first);
  expect(tagTarget(remote, 'v0')).toBe(second);
  expect(tagTarget(remote, 'v0.2.0')).toBe(first);
  expect(tagTarget(remote, 'v0.3.0')).toBe(second);
  expect(git(remote, 'cat-file', '-t', 'refs/tags/v0')).toBe('tag');
});

test('a 1.0.0 release starts v1; a prerelease leaves the major tag where it was', () => {
  run('1.0.0');
  const stable = git(repo, 'rev-parse', 'HEAD');
  expect(tagTarget(repo, 'v1')).toBe(stable);
  const { result } = run('1.1.0-rc.1');
  expect(result.majorTag).toBeUndefined();
  expect(result.pushCommands.map((c) => c.join(' '))).not.toContain('git push --force origin refs/tags/v1');
  expect(tagTarget(repo, 'v1.1.0-rc.1')).toBe(git(repo, 'rev-parse', 'HEAD'));
  expect(tagTarget(repo, 'v1')).toBe(stable);
});

describe('refusals leave the repository as it was', () => {
  function refuses(version: string, message: RegExp): void {
    const before = snapshot();
    expect(() => run(version)).toThrow(message);
    expect(snapshot()).toBe(before);
  }

  test('a modified tracked file', () => {
    write('src/main.ts', "export const greeting = 'changed';\n");
    refuses('0.2.0', /work tree is not clean \(M src\/main\.ts\)/);
  });

  test('an untracked file', () => {
    write('notes.txt', 'draft\n');
    refuses('0.2.0', /work tree is not clean \(\?\? notes\.txt\)/);
  });

  test('dist/ that is not what the source builds (source committed without a rebuild)', () => {
    write('src/main.ts', "export const greeting = 'changed';\n");
    git(repo, 'commit', '--quiet', '-am', 'change without rebuilding');
    refuses('0.2.0', /dist\/ is not what the source builds \(M dist\/index\.js\): run npm run build/);
  });

  test('an existing tag, a version not above the current one', () => {
    git(repo, 'tag', '-a', 'v0.2.0', '-m', 'by hand');
    refuses('0.2.0', /tag v0\.2\.0 exists already/);
    refuses('0.1.0', /0\.1\.0 is not above the current version 0\.1\.0/);
    refuses('0.0.9', /not above/);
  });

  test('package.json and src/version.ts disagreeing', () => {
    write('src/version.ts', "export const TOOL_NAME = 'mini';\nexport const TOOL_VERSION = '0.0.5';\n");
    build(repo);
    git(repo, 'commit', '--quiet', '-am', 'drift');
    refuses('0.2.0', /package\.json says 0\.1\.0 but src\/version\.ts says 0\.0\.5/);
  });

  test('a failing build', () => {
    write('build.mjs', 'process.exit(3);\n');
    git(repo, 'commit', '--quiet', '-am', 'broken build');
    refuses('0.2.0', /the build failed/);
  });
});

test('the command line: a version like 1.2.3, --push, --remote NAME; anything else is a usage error', () => {
  expect(parseReleaseArgs(['1.2.3'])).toEqual({ version: '1.2.3', push: false, remote: 'origin' });
  expect(parseReleaseArgs(['--push', '2.0.0-rc.1', '--remote', 'upstream'])).toEqual({
    version: '2.0.0-rc.1',
    push: true,
    remote: 'upstream',
  });
  for (const bad of [
    [],
    ['v1.2.3'],
    ['1.2'],
    ['1.2.3', '1.2.4'],
    ['1.2.3', '--remote'],
    ['1.2.3', '--force'],
  ]) {
    expect(() => parseReleaseArgs(bad)).toThrow(UsageError);
  }
  expect(new UsageError('x')).toBeInstanceOf(ReleaseError);
});

test('npm run release -- 0.2.0 as a user runs it: through npm, tsx and the real build script', () => {
  // The minimal tree gets the same "release" script line as ours, pointing at our script and our tsx.
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  pkg.scripts.release = `node ${join(ROOT, 'node_modules/tsx/dist/cli.mjs')} ${join(ROOT, 'scripts/release.ts')}`;
  write('package.json', JSON.stringify(pkg, null, 2) + '\n');
  git(repo, 'commit', '--quiet', '-am', 'release script');

  write('scratch.txt', 'x\n');
  const dirty = spawnSync('npm', ['run', '--silent', 'release', '--', '0.2.0'], {
    cwd: repo,
    encoding: 'utf8',
  });
  expect(dirty.status).toBe(1);
  expect(dirty.stderr.trim().split('\n')).toEqual([
    'release: the work tree is not clean (?? scratch.txt): commit or stash first',
  ]);
  rmSync(join(repo, 'scratch.txt'));

  const ok = spawnSync('npm', ['run', '--silent', 'release', '--', '0.2.0'], { cwd: repo, encoding: 'utf8' });
  expect({ status: ok.status, stderr: ok.stderr }).toEqual({ status: 0, stderr: '' });
  expect(ok.stdout).toContain('git push --force origin refs/tags/v0');
  expect(tagTarget(repo, 'v0.2.0')).toBe(git(repo, 'rev-parse', 'HEAD'));

  const usage = spawnSync('npm', ['run', '--silent', 'release'], { cwd: repo, encoding: 'utf8' });
  expect(usage.status).toBe(2);
  expect(usage.stderr).toContain('usage: npm run release -- <version');
});
