/**
 * detect.ts --extra-tests DIR: another zoo folder's test models (train.py --head frozen|anchored builds
 * backdoored models and a few clean controls there, no references) scored in place of a zoo's backdoored test
 * models, beside its clean ones and against its references. Several folders (--extra-tests A,B) add up; with
 * --keep-tests the zoo's own backdoored test models stay too (a zoo extended by more test models of the same
 * base and rule, train.py --first-cell: every test model of the architecture in one row).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SetupError } from '../torch/python.js';
import { readArchManifests, type RealsizeManifest, type RealsizeModel } from './manifest.js';

/**
 * The zoo with its backdoored test models replaced by (keepOwn: joined by) the test models of other zoo
 * folders (each one's <arch>/manifest.json; files checked against their hashes and named by absolute path, so
 * the scans and rows find them there). Their clean test models join this zoo's clean ones. An id met twice is
 * an error (two folders made with the same seeds would count one model twice).
 */
export function withExtraTests(
  m: RealsizeManifest,
  dirs: string | string[],
  keepOwn = false,
): RealsizeManifest {
  const extra = (Array.isArray(dirs) ? dirs : [dirs]).flatMap(extraTestsOf);
  const ids = new Set(m.models.map((e) => e.id));
  const dup = extra.find((e) => ids.has(e.id) || extra.filter((x) => x.id === e.id).length > 1);
  if (dup) throw new SetupError(`bench:realsize: --extra-tests: model id ${dup.id} appears twice`);
  const mine = keepOwn ? m.models : m.models.filter((e) => !(e.split === 'test' && e.label === 'backdoor'));
  return { ...m, models: [...mine, ...extra] };
}

/** One folder's test models, their files checked against their hashes and named by absolute path. */
function extraTestsOf(dir: string): RealsizeModel[] {
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
  return extra;
}
