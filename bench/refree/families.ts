/**
 * The families zoo (helper "families", issue 20 items 1-2: new attack families, Fashion-MNIST and GTSRB,
 * residual / VGG-style / DeepID-style nets), read from its manifest.json, or while it is being built from
 * the per-architecture parts it rewrites after every model (parts/<arch>.json). Read-only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchModel } from './zoos.js';

interface FamilyModel {
  id: string;
  file: string;
  domain: string;
  arch: string;
  label: 'clean' | 'backdoored';
  family: string | null;
  targetClass: number | string | null;
}

interface RunInfo {
  domains?: Record<string, { samples?: { dir: string } }>;
}

export function familiesZoo(dir: string): BenchModel[] {
  const manifest = path.join(dir, 'manifest.json');
  let models: FamilyModel[] = [];
  if (existsSync(manifest)) {
    models = (JSON.parse(readFileSync(manifest, 'utf8')) as { models: FamilyModel[] }).models;
  } else if (existsSync(path.join(dir, 'parts'))) {
    for (const f of readdirSync(path.join(dir, 'parts')).sort())
      if (f.endsWith('.json'))
        models.push(
          ...(JSON.parse(readFileSync(path.join(dir, 'parts', f), 'utf8')) as { models: FamilyModel[] })
            .models,
        );
  }
  const run = existsSync(path.join(dir, 'run.json'))
    ? (JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunInfo)
    : {};
  return models
    .filter((m) => existsSync(path.join(dir, m.file)))
    .map((m) => {
      const samples = run.domains?.[m.domain]?.samples?.dir ?? path.join('samples', m.domain);
      const single = typeof m.targetClass === 'number';
      return {
        zoo: 'families',
        domain: `${m.domain}-torch`,
        arch: m.arch,
        id: m.id,
        file: path.join(dir, m.file),
        label: m.label === 'clean' ? 'clean' : 'backdoor',
        attack: m.family,
        target: single ? (m.targetClass as number) : null,
        multiTarget: m.label !== 'clean' && !single,
        samplesDir: path.join(dir, samples),
      };
    });
}
