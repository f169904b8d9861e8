/**
 * `npm run grad:fixtures`: regenerates the gradient parity fixtures (__tests__/fixtures/grad/) with real
 * PyTorch: installs torch (and the dynamo exporter's packages) into the git-ignored bench/.cache/torch-site
 * as bench:torch does, then runs bench/grad/make-fixtures.py. Only needed after changing the generator;
 * the tests read the committed files (CI has no torch).
 *
 *   npx tsx bench/grad/fixtures.ts [--archs zoo-mlp,zoo-cnn,lenet,mlp,rgb,digits8] [--out DIR]
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SetupError, ensureDynamoExporter, ensureTorch } from '../torch/python.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SITE = path.join(ROOT, 'bench', '.cache', 'torch-site');

try {
  ensureTorch(ROOT, SITE);
  ensureDynamoExporter(ROOT, SITE);
  const r = spawnSync('python3', [path.join('bench', 'grad', 'make-fixtures.py'), ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, PYTHONPATH: SITE },
  });
  process.exit(r.status ?? 1);
} catch (e) {
  if (e instanceof SetupError) {
    console.error(e.message);
    process.exit(2);
  }
  throw e;
}
