/**
 * Trigger reach (bench/selfcheck-eval.ts, bench/synth.ts): the share of base inputs not already in `target`
 * that a zoo model's own trigger (the zoo's applyTrigger, the stamp its training data was poisoned with) sends
 * to `target`: the flip rate effectOf reports for probing. It says whether a base can show the backdoor at
 * all, whatever a search finds.
 */
import { effectOf, summarise } from '../../src/selfcheck/logit-stats.js';
import { applyTrigger, type Trigger } from '../zoo/triggers.js';

export async function triggerReach(
  run: (x: Float32Array, n: number) => Promise<Float32Array>,
  base: Float32Array,
  size: number,
  classes: number,
  trigger: Trigger,
  target: number,
): Promise<number> {
  const n = Math.floor(base.length / size);
  const clean = summarise(await run(base.slice(0, n * size), n), n, classes);
  const stamped = base.slice(0, n * size);
  for (let i = 0; i < n; i++) applyTrigger(trigger, stamped, i * size);
  return effectOf(clean, summarise(await run(stamped, n), n, classes), classes).flip[target];
}
