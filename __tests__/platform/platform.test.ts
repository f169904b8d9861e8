/**
 * The platform check the entry points run before ONNX Runtime loads (src/platform.ts), with the platform
 * injected, and what dist/ ships for each supported platform: the binding and exactly the ONNX Runtime
 * library its own load commands name (read from the ELF / Mach-O headers, not from the bundle script's
 * heuristic). The dist/ checks fail until dist/ is rebuilt (npm run build).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { SUPPORTED_PLATFORMS, platformName, unsupportedPlatformMessage } from '../../src/platform.js';
import { linkedLibraries } from '../helpers/linked-libraries.js';

const ROOT = process.cwd();
const BUNDLE_ROOT = resolve(process.env.MF_BUNDLE_ROOT ?? ROOT);
const SUPPORTED = ['linux-x64', 'linux-arm64', 'darwin-arm64'];
const BINDING = 'onnxruntime_binding.node';

describe('unsupportedPlatformMessage', () => {
  test('says nothing on the platforms dist/ carries ONNX Runtime for', () => {
    expect(SUPPORTED_PLATFORMS.map(platformName)).toEqual(SUPPORTED);
    for (const p of SUPPORTED_PLATFORMS) expect(unsupportedPlatformMessage(p.os, p.arch)).toBeUndefined();
  });

  test.each([
    ['win32', 'x64'],
    ['win32', 'arm64'],
    ['darwin', 'x64'],
    ['linux', 'ia32'],
    ['linux', 's390x'],
    ['freebsd', 'x64'],
  ])('refuses %s-%s in one line naming it, the supported ones and the runners to use', (os, arch) => {
    const message = unsupportedPlatformMessage(os, arch);
    expect(message).toBeDefined();
    expect(message).not.toMatch(/[\r\n%]/); // one line, and nothing a workflow command would need escaped
    expect(message).toContain(`unsupported platform ${os}-${arch}:`);
    expect(message).toContain('linux-x64, linux-arm64 and darwin-arm64 only');
    expect(message).toContain('ubuntu-24.04-arm');
  });
});

describe('dist/ ships ONNX Runtime for exactly the supported platforms', () => {
  const binDir = join(BUNDLE_ROOT, 'dist', 'bin', 'napi-v6');

  test('one folder per supported platform, no other', () => {
    const shipped = readdirSync(binDir).flatMap((os) =>
      readdirSync(join(binDir, os)).map((a) => `${os}-${a}`),
    );
    expect(shipped.sort()).toEqual([...SUPPORTED].sort());
  });

  test.each(SUPPORTED_PLATFORMS.map((p) => [platformName(p), p.os, p.arch]))(
    '%s: the binding and the ONNX Runtime library it links, nothing else',
    (_name, os, arch) => {
      const dir = join(binDir, os, arch);
      const pkgDir = join(ROOT, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', os, arch);
      // Libraries the binding links that come with onnxruntime-node (the rest are the system's: libc, libc++).
      const bundled = linkedLibraries(readFileSync(join(dir, BINDING)))
        .map((l) => basename(l))
        .filter((l) => existsSync(join(pkgDir, l)));
      expect(bundled.length).toBeGreaterThan(0);
      expect(readdirSync(dir).sort()).toEqual([BINDING, ...bundled].sort());
      // The same bytes as the package's, so the binding and library belong together.
      for (const f of [BINDING, ...bundled])
        expect(readFileSync(join(dir, f)).equals(readFileSync(join(pkgDir, f)))).toBe(true);
    },
  );
});
