/**
 * The reference sets a baseline condition is measured with: an architecture's clean references grouped by the
 * recipe that made them (train.py's RECIPES). A zoo may hold references of two recipes (the first zoo's cheap
 * fine-tunes and ones made like the test models); a baseline of both at once would measure neither, so
 * bench:realsize builds one baseline per recipe and reports a cell for each.
 */
import type { RealsizeModel } from './manifest.js';

export interface ReferenceSet {
  /** The recipe that made every member ("cheap" for zoos built before recipes). */
  recipe: string;
  refs: RealsizeModel[];
}

/** `arch`'s references per recipe, in the order the recipes first appear in the manifest. */
export function referenceSets(models: RealsizeModel[], arch: string): ReferenceSet[] {
  const sets = new Map<string, RealsizeModel[]>();
  for (const m of models.filter((x) => x.arch === arch && x.split === 'reference')) {
    const r = m.recipe ?? 'cheap';
    sets.set(r, [...(sets.get(r) ?? []), m]);
  }
  return [...sets].map(([recipe, refs]) => ({ recipe, refs }));
}

/** What a cell's condition is called in the tables: the condition, and for a baseline whose references. */
export function conditionLabel(
  condition: string,
  refs: { recipe: string; n: number } | null | undefined,
): string {
  return refs ? `${condition} (${refs.n} ${refs.recipe}-recipe refs)` : condition;
}
