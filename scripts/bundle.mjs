// Bundles the action and the CLI (compiled by tsc into lib/) with ncc into dist/ and copies ONNX Runtime's native binding beside them.
// ncc does not emit the .node binding by itself; onnxruntime-node loads it from ../bin/napi-v6/<os>/<arch>/
// relative to the bundle, so dist/main/index.js and dist/cli/index.js share dist/bin/.
// Binaries ship for the platforms src/platform.ts lists (the entry points refuse the others), and per platform
// only the binding and the ONNX Runtime library it links: darwin's package holds the same dylib twice under two
// names, and the binding loads @rpath/libonnxruntime.1.dylib only.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, readdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUPPORTED_PLATFORMS } from '../lib/platform.js';

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
const BINDING = 'onnxruntime_binding.node';
/**
 * The files of a platform's folder in onnxruntime-node that the binding links: a linked library's file name
 * is a plain string in the binding's dynamic-linking tables (ELF DT_NEEDED, Mach-O LC_LOAD_DYLIB), which
 * readelf -d and otool -L confirm for 1.30 (libonnxruntime.so.1; @rpath/libonnxruntime.1.dylib).
 */
function linkedFiles(dir) {
  const binding = readFileSync(join(dir, BINDING)).toString('latin1');
  const linked = readdirSync(dir).filter((f) => f !== BINDING && binding.includes(f));
  if (linked.length === 0) throw new Error(`${dir}: ${BINDING} names none of the libraries beside it`);
  return [BINDING, ...linked];
}
for (const { os, arch } of SUPPORTED_PLATFORMS) {
  const src = join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', os, arch);
  const dst = join(root, 'dist', 'bin', 'napi-v6', os, arch);
  mkdirSync(dst, { recursive: true });
  for (const f of linkedFiles(src)) cpSync(join(src, f), join(dst, f));
}
writeFileSync(join(root, 'dist', 'package.json'), JSON.stringify({ type: 'module' }) + '\n');
