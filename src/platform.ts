/**
 * The platforms dist/ carries ONNX Runtime's native binaries for, and the one-line refusal everywhere else.
 * Pure (no I/O, platform and arch passed in) so it is testable anywhere: the entry points' guards
 * (src/action/platform-guard.ts, src/cli/platform-guard.ts) call it with process.platform/process.arch before
 * onnxruntime-node loads, and scripts/bundle.mjs copies the binaries for exactly this list.
 *
 * Chosen from onnxruntime-node's package: linux-x64 (ubuntu-latest), linux-arm64 (ubuntu-24.04-arm) and
 * darwin-arm64 (macos-latest, Apple silicon). darwin-x64 is not in the package; win32-x64 is (onnxruntime.dll,
 * 29 MB) but nothing here tests the action on Windows (paths, globs, the runner's shell), so it is not claimed.
 */
export interface Platform {
  readonly os: string;
  readonly arch: string;
}

export const SUPPORTED_PLATFORMS: readonly Platform[] = [
  { os: 'linux', arch: 'x64' },
  { os: 'linux', arch: 'arm64' },
  { os: 'darwin', arch: 'arm64' },
];

/** GitHub-hosted runner labels that run on the supported platforms, named in the refusal as the fix. */
const RUNNER_HINT = 'ubuntu-latest, ubuntu-24.04-arm or macos-latest';

export function platformName(p: Platform): string {
  return `${p.os}-${p.arch}`;
}

function listNames(names: readonly string[]): string {
  return names.length < 2
    ? names.join('')
    : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** undefined when dist/ carries ONNX Runtime for this platform; otherwise the one line that says so. */
export function unsupportedPlatformMessage(os: string, arch: string): string | undefined {
  if (SUPPORTED_PLATFORMS.some((p) => p.os === os && p.arch === arch)) return undefined;
  const supported = listNames(SUPPORTED_PLATFORMS.map(platformName));
  return (
    `unsupported platform ${platformName({ os, arch })}: model-fingerprint ships ONNX Runtime for ` +
    `${supported} only (GitHub runners ${RUNNER_HINT})`
  );
}
