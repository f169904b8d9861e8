/**
 * An ensemble of one combined channel (kNN on logits) and one separate max_z test on `block`, fitted on
 * synthetic reference fingerprints: what the separate-test explanation tests score candidates against.
 */
import type { BaselineManifest } from '../../src/baseline/store.js';
import { fitEnsemble, type EnsembleConfig, type EnsembleState } from '../../src/score/ensemble.js';

export function separateTestState(
  refs: Record<string, Float32Array>[],
  block: string,
  madFloor: number,
): EnsembleState {
  const config: EnsembleConfig = {
    channels: [
      { representation: 'logits', detector: 'knn', params: { k: 5 } },
      { representation: block, detector: 'max_z', params: { madFloor }, separate: true },
    ],
  };
  return fitEnsemble(
    refs,
    refs.map((_, i) => `r${i}`),
    config,
  );
}

/** A manifest without members (the explanation only reads member paths). */
export const EMPTY_MANIFEST = { members: [] } as unknown as BaselineManifest;
