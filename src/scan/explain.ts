/**
 * The per-model explanation: which channels drove the verdict, the nearest clean references (by path),
 * how small a p-value this baseline supports, and what reference-free trigger probing pointed at.
 */
import type { Explanation } from '../report/types.js';
import type { EnsembleVerdict } from '../score/ensemble.js';
import type { Fingerprint } from '../fingerprint/types.js';
import type { BaselineManifest } from '../baseline/store.js';

/** How many channels an explanation lists. */
export const EXPLANATION_DRIVERS = 5;

export function describeChannel(detector: string, representation: string): string {
  return `${detector.replace(/_/g, '-')} on ${representation}`;
}

export function selfCheckDetails(fp: Fingerprint): Pick<Explanation, 'suspectedTargetClass' | 'trigger'> {
  const out: Pick<Explanation, 'suspectedTargetClass' | 'trigger'> = {};
  const trig = fp.selfChecks['trigger'];
  if (trig?.trigger) out.trigger = trig.trigger;
  const pointing = trig?.targetClass ?? fp.selfChecks['weight-outlier']?.targetClass;
  if (pointing !== undefined) out.suspectedTargetClass = pointing;
  return out;
}

export function explain(v: EnsembleVerdict, fp: Fingerprint, manifest: BaselineManifest): Explanation {
  const pathOf = new Map(manifest.members.map((m) => [m.sha256, m.path]));
  const drivers = v.drivers.slice(0, EXPLANATION_DRIVERS).map((d) => ({
    channel: d.channel,
    detector: d.detector,
    representation: d.representation,
    score: d.score,
    pValue: d.pValue,
  }));
  const top = drivers[0];
  const strongestSignal = top ? describeChannel(top.detector, top.representation) : 'none';
  const summary =
    v.riskLevel === 'low'
      ? `Behaves like the ${manifest.members.length} clean references (ensemble p = ${v.pValue.toPrecision(2)}).`
      : `Differs from the ${manifest.members.length} clean references (ensemble p = ${v.pValue.toPrecision(2)}); strongest signal: ${strongestSignal} (p = ${top.pValue.toPrecision(2)}).`;
  return {
    summary,
    strongestSignal,
    drivers,
    nearestReferences: v.nearest.map((n) => ({
      member: pathOf.get(n.member) ?? n.member,
      distance: n.distance,
    })),
    minSupportedPValue: v.minRankPValue,
    ...selfCheckDetails(fp),
  };
}
