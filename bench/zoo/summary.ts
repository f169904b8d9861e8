/**
 * A text summary of a zoo manifest: clean accuracy distribution per architecture and split, and per attack
 * the kept backdoors' accuracy and ASR, and the rejected attempts. main.ts prints it at the end of a run;
 * `npx tsx bench/zoo/summary.ts [DIR]` prints it for an existing zoo.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, readManifest, type ModelRecord, type ZooManifest } from './manifest.js';

function stats(xs: number[]): string {
  if (!xs.length) return 'none';
  const s = [...xs].sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(3);
  return `n=${s.length} min ${f(s[0])} median ${f(median(s))} max ${f(s[s.length - 1])}`;
}

export function summarize(m: ZooManifest): string {
  const lines: string[] = [];
  const archs = [...new Set(m.models.map((r) => r.arch))].sort();
  for (const arch of archs) {
    const of = (pred: (r: ModelRecord) => boolean) => m.models.filter((r) => r.arch === arch && pred(r));
    lines.push(`${arch}: clean median accuracy ${m.cleanMedianAccuracy[arch]?.toFixed(4) ?? '?'}`);
    lines.push(
      `  reference clean  acc ${stats(of((r) => r.split === 'reference').map((r) => r.cleanAccuracy))}`,
    );
    lines.push(
      `  test clean       acc ${stats(of((r) => r.split === 'test' && r.label === 'clean').map((r) => r.cleanAccuracy))}`,
    );
    const attacks = [...new Set(of((r) => r.label === 'backdoor').map((r) => r.attack ?? ''))].sort();
    for (const attack of attacks) {
      const kept = of((r) => r.attack === attack);
      const rej = m.rejected.filter((r) => r.arch === arch && r.attack === attack);
      lines.push(
        `  ${attack.padEnd(15)}  kept ${kept.length} (rates ${kept.map((r) => r.poisonRate).join(',')}), rejected ${rej.length}; ` +
          `acc ${stats(kept.map((r) => r.cleanAccuracy))}; asr ${stats(kept.map((r) => r.asr ?? 0))}`,
      );
    }
  }
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = path.resolve(process.argv[2] ?? 'bench/.cache/zoo');
  const m = readManifest(dir);
  if (!m) {
    console.error(`bench/zoo/summary: no zoo manifest in ${dir}; build one with npm run bench:zoo`);
    process.exit(2);
  }
  console.log(summarize(m));
}
