/**
 * `npm run bench:text-zoo` (tsx bench/text/zoo-main.ts [--archs bag,cnn,transformer] [--refs N]): trains the text zoo
 * (bench/text/train.py) into bench/.cache/text-zoo with PyTorch from the local wheel (bench/torch/python.ts
 * installs it into bench/.cache/torch-site). Resumable: models already in the zoo's models.jsonl with their
 * file and hash are kept. Then `npm run bench:text` scores it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureTorch, SetupError } from '../torch/python.js';
import { CACHE, ROOT } from './zoo.js';

const SITE = path.join(CACHE, 'torch-site');

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

try {
  ensureTorch(ROOT, SITE);
  const archs = option('--archs');
  const refs = option('--refs');
  const r = spawnSync(
    'python3',
    [
      path.join('bench', 'text', 'train.py'),
      '--out',
      path.join(CACHE, 'text-zoo'),
      ...(archs ? ['--archs', archs] : []),
      ...(refs ? ['--refs', refs] : []),
    ],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PYTHONPATH: SITE } },
  );
  if (r.status !== 0)
    throw new SetupError(`bench:text-zoo: bench/text/train.py exited with ${r.status} (see above)`);
} catch (e) {
  if (e instanceof SetupError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
