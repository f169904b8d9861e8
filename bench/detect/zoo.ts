/**
 * The zoo models the detection bench evaluates: read from the zoo's manifest.json (bench/zoo/manifest.ts),
 * or, while the zoo is still being trained and has no manifest yet, from the file names it writes
 * (`<arch>-<split>-clean-<i>` / `<arch>-test-backdoor-<attack>-r<rate%>-a<attempt>`), so a partial zoo can
 * be benchmarked too. Only models whose file exists are returned.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readManifest } from '../zoo/manifest.js';

export interface ZooModel {
  id: string;
  /** Absolute path of the ONNX file. */
  file: string;
  arch: string;
  split: 'reference' | 'test';
  label: 'clean' | 'backdoor';
  attack: string | null;
  poisonRate: number | null;
  targetClass: number | null;
  /** Trigger kind from the manifest (patch, blend, pixels, warp), null when unknown or clean. */
  triggerKind: string | null;
  asr: number | null;
  cleanAccuracy: number | null;
}

export interface Zoo {
  dir: string;
  fromManifest: boolean;
  models: ZooModel[];
}

const NAME_RE = /^(\w+)-(reference|test)-(clean-\d+|backdoor-([a-z-]+)-r(\d+)-a\d+)\.onnx$/;

function fromFileNames(dir: string): ZooModel[] {
  const out: ZooModel[] = [];
  for (const arch of readdirSync(dir)) {
    for (const split of ['reference', 'test'] as const) {
      const sub = path.join(dir, arch, split);
      if (!existsSync(sub)) continue;
      for (const f of readdirSync(sub).sort()) {
        const m = NAME_RE.exec(f);
        if (!m || m[1] !== arch) continue;
        const backdoor = m[3].startsWith('backdoor');
        out.push({
          id: f.replace(/\.onnx$/, ''),
          file: path.resolve(sub, f),
          arch,
          split,
          label: backdoor ? 'backdoor' : 'clean',
          attack: backdoor ? m[4] : null,
          poisonRate: backdoor ? Number(m[5]) / 100 : null,
          targetClass: null,
          triggerKind: null,
          asr: null,
          cleanAccuracy: null,
        });
      }
    }
  }
  return out;
}

export function loadZoo(dir: string): Zoo {
  const manifest = readManifest(dir);
  if (!manifest) return { dir, fromManifest: false, models: existsSync(dir) ? fromFileNames(dir) : [] };
  const models = manifest.models
    .filter((r) => r.file && existsSync(path.join(dir, r.file)))
    .map((r): ZooModel => ({
      id: r.id,
      file: path.resolve(dir, r.file),
      arch: r.arch,
      split: r.split,
      label: r.label,
      attack: r.attack,
      poisonRate: r.poisonRate,
      targetClass: r.targetClass,
      triggerKind: r.trigger?.kind ?? null,
      asr: r.asr,
      cleanAccuracy: r.cleanAccuracy,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
  // A zoo still training its backdoors has a manifest of the clean models only: add the backdoor files
  // written since (some of them may yet be rejected as not stealthy). Once the manifest lists backdoored
  // models it is final, and files it does not list (attempts being judged) are left out.
  if (!models.some((m) => m.label === 'backdoor')) {
    const known = new Set(models.map((m) => m.file));
    for (const m of fromFileNames(dir)) if (!known.has(m.file)) models.push(m);
  }
  return { dir, fromManifest: true, models };
}
