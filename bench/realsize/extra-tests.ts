/**
 * detect.ts --extra-tests DIR: another zoo folder's test models (train.py --head frozen|anchored builds
 * backdoored models and a few clean controls there, no references) scored in place of a zoo's backdoored test
 * models, beside its clean ones and against its references.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SetupError } from '../torch/python.js';
import { readArchManifests, type RealsizeManifest, type RealsizeModel } from './manifest.js';

/**
 * The zoo with its backdoored test models replaced by the test models of another zoo folder (its
 * <arch>/manifest.json; files checked against their hashes and named by absolute path, so the scans and rows
 * find them there). That folder's clean test models join this zoo's clean ones.
 */
export function withExtraTests(m: RealsizeManifest, dir: string): RealsizeManifest {
  let models: Map<string, RealsizeModel>;
  try {
    models = readArchManifests(dir);
  } catch (e) {
    throw new SetupError(`bench:realsize: --extra-tests: ${(e as Error).message}`);
  }
  const extra = [...models.values()]
    .filter((e) => e.split === 'test')
    .map((e) => ({ ...e, file: path.resolve(dir, e.file) }));
  if (extra.length === 0) throw new SetupError(`bench:realsize: no test models in ${dir}`);
  for (const e of extra) {
    const sha = createHash('sha256').update(readFileSync(e.file)).digest('hex');
    if (sha !== e.sha256) throw new SetupError(`bench:realsize: ${e.file} does not match its manifest hash`);
  }
  const mine = m.models.filter((e) => !(e.split === 'test' && e.label === 'backdoor'));
  return { ...m, models: [...mine, ...extra] };
}
