/**
 * The rows bench/refree.ts collected, read straight from its cache (bench/.cache/refree/KEY; nothing is
 * probed): for the offline studies (combiners.ts, final-weight.ts) that rescore every collected row.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ProbeRow } from './collect.js';

/**
 * Every row of the collections `keys` (comma-separated, as bench/refree.ts's --cache): a model's row from
 * the first collection that has it.
 */
export function loadCollections(keys: string, root: string = process.cwd()): ProbeRow[] {
  const rows: ProbeRow[] = [];
  const seen = new Set<string>();
  for (const k of keys.split(',')) {
    const dir = path.join(root, 'bench', '.cache', 'refree', k);
    if (!k || !existsSync(dir)) throw new Error(`no collection at ${dir} (give --cache KEY)`);
    const walk = (d: string): void => {
      // statSync follows symlinks: a collection may be assembled from others' by links
      for (const name of readdirSync(d)) {
        const f = path.join(d, name);
        const rel = path.relative(dir, f);
        if (statSync(f).isDirectory()) walk(f);
        else if (name.endsWith('.json') && !seen.has(rel)) {
          seen.add(rel);
          rows.push(JSON.parse(readFileSync(f, 'utf8')) as ProbeRow);
        }
      }
    };
    walk(dir);
  }
  return rows;
}
