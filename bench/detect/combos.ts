/**
 * An ensemble as the project computes it, rebuilt from per-channel p-values (bench/detect/channels.ts):
 * combine each reference's leave-one-out channel p-values into T (src/score/combine.ts), calibrate T over
 * the references (conformal ranks + exponential tail, src/score/calibrate.ts), and give each test model the
 * calibrated p-value of its own T. Identical to fitEnsemble/scoreEnsemble for the same channels and rule.
 */
import { fitCalibration, pValue, rankFloor } from '../../src/score/calibrate.js';
import { combinePValues, type CombineSpec } from '../../src/score/combine.js';
import type { ChannelRun } from './channels.js';

export interface ComboRun {
  /** Final calibrated p-value of each test model. */
  testP: Float64Array;
  /** The combined statistic of each test model. */
  testT: Float64Array;
  rankFloor: number;
}

export function runCombo(channels: ChannelRun[], rule: CombineSpec): ComboRun {
  if (channels.length === 0) throw new Error('runCombo: no channels');
  const nRef = channels[0].refP.length;
  const nTest = channels[0].testP.length;
  const ps = new Float64Array(channels.length);
  const refT = new Float64Array(nRef);
  for (let i = 0; i < nRef; i++) {
    channels.forEach((c, j) => (ps[j] = c.refP[i]));
    refT[i] = combinePValues(ps, rule);
  }
  const cal = fitCalibration(refT);
  const testT = new Float64Array(nTest);
  const testP = new Float64Array(nTest);
  for (let i = 0; i < nTest; i++) {
    channels.forEach((c, j) => (ps[j] = c.testP[i]));
    testT[i] = combinePValues(ps, rule);
    testP[i] = pValue(cal, testT[i]);
  }
  return { testP, testT, rankFloor: rankFloor(cal) };
}
