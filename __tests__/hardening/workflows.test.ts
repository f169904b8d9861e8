/**
 * The workflows this repository runs and the ones its docs tell people to copy keep untrusted pull-request
 * code away from write tokens: no `pull_request_target`, `permissions: {}` at the top, only the job
 * permissions the action needs, checkouts without persisted credentials, and in the fork recipe a scan job
 * with a read-only token and a privileged `workflow_run` job that never checks out the PR's code.
 * (Text checks over the YAML: the files are small and the properties are single lines.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const WORKFLOW_DIR = path.join('.github', 'workflows');
/** What the action uses: checkout, the check run, the comment and PR file list, the SARIF upload. */
const ALLOWED_WRITE = new Set(['checks', 'pull-requests', 'security-events']);

function workflows(): [string, string][] {
  return readdirSync(WORKFLOW_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => [f, readFileSync(path.join(WORKFLOW_DIR, f), 'utf8')]);
}

/** `scope: level` pairs under every `permissions:` block (indented lines after it). */
function permissionEntries(yaml: string): [string, string][] {
  const out: [string, string][] = [];
  const lines = yaml.split('\n');
  lines.forEach((line, i) => {
    const m = /^(\s*)permissions:\s*$/.exec(line);
    if (!m) return;
    for (let j = i + 1; j < lines.length; j++) {
      const e = /^(\s*)([\w-]+):\s*(\w+)/.exec(lines[j]);
      if (!e || e[1].length <= m[1].length) break;
      out.push([e[2], e[3]]);
    }
  });
  return out;
}

/** The ```yaml blocks of a Markdown file. */
function yamlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe("this repository's workflows", () => {
  test.each(workflows())(
    '%s: no pull_request_target, permissions {} at the top, least job permissions',
    (_f, yaml) => {
      expect(yaml).not.toMatch(/^\s*pull_request_target\s*:/m);
      expect(yaml).toMatch(/^permissions: \{\}$/m);
      for (const [scope, level] of permissionEntries(yaml)) {
        if (level === 'write') expect(ALLOWED_WRITE).toContain(scope);
        else expect(level).toBe('read');
      }
      const checkouts = yaml.split(/- uses: actions\/checkout@/).slice(1);
      for (const c of checkouts) expect(c).toMatch(/^\s+persist-credentials: false$/m);
    },
  );
});

describe('the fork recipe in docs/action.md', () => {
  const blocks = yamlBlocks(readFileSync(path.join('docs', 'action.md'), 'utf8'));

  test('no copied workflow triggers on pull_request_target', () => {
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) expect(b).not.toMatch(/^\s*pull_request_target\s*:/m);
  });

  test('the pull_request scan job has a read-only token; the workflow_run job never checks out code', () => {
    const scan = blocks.find((b) => /^\s*pull_request:/m.test(b) && /upload-artifact/.test(b));
    const report = blocks.find((b) => /^\s*workflow_run:/m.test(b));
    if (!scan || !report) throw new Error('the two-workflow recipe is missing from docs/action.md');
    expect(scan).toMatch(/^permissions: \{\}$/m);
    expect(permissionEntries(scan).every(([, level]) => level === 'read')).toBe(true);
    expect(report).toMatch(/^permissions: \{\}$/m);
    expect(report).not.toMatch(/actions\/checkout/);
    // The privileged job checks the artifact's PR number against the run's head before writing.
    expect(report).toMatch(/pr\.head\.sha !== context\.payload\.workflow_run\.head_sha/);
  });
});
