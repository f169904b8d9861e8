// Bundles the action and the CLI (compiled by tsc into lib/) with ncc into dist/ and copies ONNX Runtime's native binding beside them.
// ncc does not emit the .node binding by itself; onnxruntime-node loads it from ../bin/napi-v6/<os>/<arch>/
// relative to the bundle, so dist/main/index.js and dist/cli/index.js share dist/bin/.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const ncc = join(root, 'node_modules', '.bin', 'ncc');
const entries = [
  ['lib/action/main.js', 'dist/main'],
  ['lib/cli/main.js', 'dist/cli'],
  // the weight statistics' worker thread (src/fingerprint/weights-offload.ts finds it at dist/weights-worker/)
  ['lib/fingerprint/weights-worker.js', 'dist/weights-worker'],
];
rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const [entry, out] of entries) {
  if (!existsSync(join(root, entry))) continue;
  execFileSync(ncc, ['build', entry, '-o', out, '--target', 'es2022', '-q', '--license', 'licenses.txt'], {
    cwd: root,
    stdio: 'inherit',
  });
  // ncc copies stray binaries it finds; the shared copy below is the one that is loaded.
  for (const f of readdirSync(join(root, out))) {
    if (f.endsWith('.node') || f.startsWith('libonnxruntime')) rmSync(join(root, out, f));
  }
}
const platforms = [['linux', 'x64']];
for (const [os, arch] of platforms) {
  const src = join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', os, arch);
  const dst = join(root, 'dist', 'bin', 'napi-v6', os, arch);
  mkdirSync(dst, { recursive: true });
  for (const f of readdirSync(src)) {
    if (f.endsWith('.node') || f.startsWith('libonnxruntime.so')) cpSync(join(src, f), join(dst, f));
  }
}
writeFileSync(join(root, 'dist', 'package.json'), JSON.stringify({ type: 'module' }) + '\n');
