/**
 * `npm run bench:text-zoo` (tsx bench/text/zoo-main.ts [--corpus man|debian] [--archs bag,cnn,transformer]
 * [--refs N] [--clean-test N] [--backdoored N] [--clean-dev N] [--backdoored-dev N] [--out-name DIR]): trains
 * the text zoo (bench/text/train.py) with PyTorch from the local wheel (bench/torch/python.ts installs it into
 * bench/.cache/torch-site) into bench/.cache/text-zoo (the man pages), bench/.cache/text-debian-zoo (the
 * held-out Debian package descriptions, bench/text/debian_corpus.py), or bench/.cache/DIR (e.g.
 * text-debian-zoo-cnn: an architecture trained apart, in parallel). Resumable: models already in the zoo's
 * models.jsonl with their file and hash are kept. Then `npm run bench:text [-- --corpus debian]` scores it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureTorch, SetupError } from '../torch/python.js';
import { CACHE, ROOT, TEXT_CORPORA, zooName, type TextCorpus } from './zoo.js';
import { option } from '../lib/args.js';

const SITE = path.join(CACHE, 'torch-site');

try {
  ensureTorch(ROOT, SITE);
  const archs = option('--archs');
  const refs = option('--refs');
  const corpus = (option('--corpus') ?? 'man') as TextCorpus;
  if (!TEXT_CORPORA.includes(corpus))
    throw new SetupError(`bench:text-zoo: --corpus is one of ${TEXT_CORPORA.join(', ')} (got ${corpus})`);
  // train.py's own sizing options (--clean-test, --backdoored, --clean-dev, --backdoored-dev) pass through
  const passed = ['--clean-test', '--backdoored', '--clean-dev', '--backdoored-dev'].flatMap((o) => {
    const v = option(o);
    return v ? [o, v] : [];
  });
  const r = spawnSync(
    'python3',
    [
      path.join('bench', 'text', 'train.py'),
      '--out',
      path.join(CACHE, option('--out-name') ?? zooName(corpus)),
      '--corpus',
      corpus,
      ...(archs ? ['--archs', archs] : []),
      ...(refs ? ['--refs', refs] : []),
      ...passed,
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
