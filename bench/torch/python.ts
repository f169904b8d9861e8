/**
 * The Python side of `npm run bench:torch`: finds (or installs from a local wheel) PyTorch and runs
 * bench/torch/train.py, which writes the cross-toolchain zoo and its manifest. PyTorch lives in the
 * git-ignored bench/.cache/torch-site (installed with --no-deps from /opt/wheels, as there is no PyPI access
 * here); numpy must be installed system-wide. A missing piece ends the run with one line naming it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const WHEEL_DIR = '/opt/wheels';
/** A local wheel mirror (this machine has one; no PyPI access): where the dynamo exporter's packages come from. */
const PYPI_MIRROR = '/opt/pypi/files';
/**
 * What torch.onnx.export(dynamo=True) imports beyond torch, pinned to versions that work together here
 * (onnx 1.23 wants protobuf < 7). Installed with --no-deps into the same site, so numpy stays the system's.
 */
const DYNAMO_PACKAGES = [
  'onnx==1.23.1',
  'onnxscript==0.7.2',
  'onnx_ir==1.0.0',
  'ml_dtypes==0.5.4',
  'protobuf==6.33.6',
  'typing_extensions',
  'packaging',
  'sympy',
  'mpmath',
  'filelock',
  'fsspec',
  'networkx',
  'jinja2',
  'markupsafe',
];

export class SetupError extends Error {}

function python(root: string, site: string, args: string[], inherit = false) {
  return spawnSync('python3', args, {
    cwd: root,
    encoding: 'utf8',
    stdio: inherit ? ['ignore', 'inherit', 'inherit'] : 'pipe',
    env: { ...process.env, PYTHONPATH: site },
  });
}

function importable(root: string, site: string, mod: string): boolean {
  const r = python(root, site, ['-c', `import ${mod}`]);
  return r.status === 0;
}

/** Makes sure python3, numpy and torch import; installs torch from a local wheel when one exists. */
export function ensureTorch(root: string, site: string): void {
  const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0)
    throw new SetupError('bench:torch needs python3 on PATH (not found)');
  if (!importable(root, site, 'numpy'))
    throw new SetupError('bench:torch needs numpy for python3 (pip install numpy); it is not importable');
  if (importable(root, site, 'torch')) return;
  const wheels = existsSync(WHEEL_DIR) ? readdirSync(WHEEL_DIR).filter((f) => /^torch-.*\.whl$/.test(f)) : [];
  if (wheels.length === 0)
    throw new SetupError(
      `bench:torch needs PyTorch: not importable from ${site} and no ${WHEEL_DIR}/torch-*.whl to install ` +
        `(install a CPU wheel with: pip install --no-deps --target ${site} torch)`,
    );
  console.error(`installing ${wheels[0]} into ${site} (no deps, no index)`);
  const r = spawnSync(
    'python3',
    ['-m', 'pip', 'install', '--no-deps', '--no-index', '--target', site, path.join(WHEEL_DIR, wheels[0])],
    { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (r.status !== 0 || !importable(root, site, 'torch'))
    throw new SetupError(`bench:torch: installing ${WHEEL_DIR}/${wheels[0]} into ${site} failed (see above)`);
}

/** Makes sure the dynamo exporter imports (onnx, onnxscript, ...), installing them from the local mirror. */
export function ensureDynamoExporter(root: string, site: string): void {
  if (importable(root, site, 'onnxscript') && importable(root, site, 'filelock')) return;
  if (!existsSync(PYPI_MIRROR))
    throw new SetupError(
      `bench:torch --exporter dynamo needs onnx and onnxscript importable from ${site}, and there is no ` +
        `${PYPI_MIRROR} to install them from (pip install --no-deps --target ${site} ${DYNAMO_PACKAGES.join(' ')})`,
    );
  console.error(
    `installing the dynamo exporter's packages from ${PYPI_MIRROR} into ${site} (no deps, no index)`,
  );
  const r = spawnSync(
    'python3',
    [
      '-m',
      'pip',
      'install',
      '--no-deps',
      '--no-index',
      '--find-links',
      PYPI_MIRROR,
      '--target',
      site,
      ...DYNAMO_PACKAGES,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (r.status !== 0 || !importable(root, site, 'onnxscript'))
    throw new SetupError(
      `bench:torch: installing the dynamo exporter's packages into ${site} failed (see above)`,
    );
}

/**
 * Runs train.py into `zooDir`, printing its progress. The folder is removed first, unless `merge`: then
 * train.py keeps the other architectures' models of its manifest (retraining one architecture only).
 */
export function trainZoo(
  root: string,
  site: string,
  zooDir: string,
  extraArgs: string[] = [],
  merge = false,
): void {
  if (!merge) rmSync(zooDir, { recursive: true, force: true });
  const r = python(
    root,
    site,
    [path.join('bench', 'torch', 'train.py'), '--out', zooDir, ...extraArgs, ...(merge ? ['--merge'] : [])],
    true,
  );
  if (r.status !== 0)
    throw new SetupError(`bench:torch: bench/torch/train.py exited with ${r.status} (see above)`);
}
