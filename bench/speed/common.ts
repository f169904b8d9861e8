/**
 * Shared helpers of the speed benchmark (bench/speed.ts): medians, timing, the process's peak resident
 * memory (Linux VmHWM, which the kernel keeps exactly, so no sampling gap can miss a short spike) and the
 * JSON line protocol between the orchestrator and the per-section child processes.
 */
import { readFileSync } from 'node:fs';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function timeIt<T>(f: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await f();
  return { ms: performance.now() - t, value };
}

/** Peak resident set of this process in MB (VmHWM; falls back to the current RSS off Linux). */
export function peakRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux: fall through
  }
  return process.memoryUsage().rss / 1024 / 1024;
}

/** Marker of the result line a section child prints last on stdout. */
export const RESULT_MARK = 'SPEED_RESULT ';

export function emitResult(value: unknown): void {
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(value)}\n`);
}

export function argValue(argv: string[], name: string, dflt: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Rounds of the gradient section (bench/speed/grad.ts): each a forward, a forward + backward, a forward. */
export const GRAD_ROUNDS = 31;
