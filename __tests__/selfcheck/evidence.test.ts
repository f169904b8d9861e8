/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * The evidence trigger probing keeps for the report's pictures is what the scan found: on a real MLP with a
 * corner-patch backdoor (trained here, run by onnxruntime-node) the kept trigger is the reported one, the
 * stamped inputs are the clean ones with that trigger stamped, the classes before and after are the ones
 * the model gives them (checked by running the model again here, in the test), and the patch map is the
 * returned map with one position per row. And the choice of examples never looks at the outcome.
 */
import { pickExamples, EVIDENCE_EXAMPLES } from '../../src/selfcheck/evidence.js';
import { mapPositions } from '../../src/selfcheck/sweep.js';
import { probeTriggers } from '../../src/selfcheck/trigger-probe.js';
import { imageGeometry, stampTrigger } from '../../src/selfcheck/triggers.js';
import { D, mnist14, ortRunner, squareStamp, trainMlp } from './fixtures.js';

const SHAPE = [D];

function argmax(logits: Float32Array, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < logits.length / k; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (logits[i * k + c] > logits[i * k + best]) best = c;
    out.push(best);
  }
  return out;
}

test('the kept evidence is the reported trigger, the stamped inputs and the classes the model gave them', async () => {
  const bd = await ortRunner(
    trainMlp({ seed: 2, poison: { stamp: squareStamp(11, 11, 3), target: 7, rate: 0.1 } }),
    SHAPE,
  );
  const base = mnist14(6, 600).x;
  const r = await probeTriggers(bd.run, base, SHAPE, { classes: 10, seed: 1, mapInputs: 48 });
  const e = r.evidence;
  expect(e).not.toBeNull();
  if (!e) return;
  expect(e.targetClass).toBe(r.selfCheck.targetClass);
  expect(e.targetClass).toBe(7);
  expect(e.trigger).toBe(r.trigger);
  expect(e.flipRate).toBe(r.selfCheck.trigger?.flipRate);
  expect(e.examplesFrom).toBe('held-out');
  expect(e.geometry).toEqual(imageGeometry(SHAPE));
  expect(e.examples).toHaveLength(EVIDENCE_EXAMPLES);

  for (const ex of e.examples) {
    expect(Array.from(ex.clean)).toEqual(Array.from(base.subarray(ex.row * D, (ex.row + 1) * D)));
    expect(Array.from(ex.stamped)).toEqual(Array.from(stampTrigger(e.trigger, e.geometry, ex.clean, 1)));
    expect(ex.before).not.toBe(7); // only inputs that can flip are shown
  }
  // what the model says about them, asked again here: the kept classes are the model's
  const n = e.examples.length;
  const clean = new Float32Array(n * D);
  const stamped = new Float32Array(n * D);
  e.examples.forEach((ex, i) => {
    clean.set(ex.clean, i * D);
    stamped.set(ex.stamped, i * D);
  });
  expect(argmax(await bd.run(clean, n), 10)).toEqual(e.examples.map((x) => x.before));
  expect(argmax(await bd.run(stamped, n), 10)).toEqual(e.examples.map((x) => x.after));
  expect(e.examples.filter((x) => x.after === 7).length).toBeGreaterThanOrEqual(n - 1);

  expect(e.map).not.toBeNull();
  expect(e.map?.values).toBe(r.mapBlock);
  expect(e.map?.inputs).toBe(48);
  expect(e.map?.positions).toEqual(mapPositions(e.geometry));
  expect((e.map?.positions.length ?? 0) * 10).toBe(r.mapBlock.length);
});

test('pickExamples: inputs not already in the target, one per class first, in the given order, outcome-blind', () => {
  //            0  1  2  3  4  5  6  7  8
  const before = [7, 1, 1, 2, 7, 3, 1, 4, 2];
  expect(pickExamples(before, 7, 4)).toEqual([1, 3, 5, 7]);
  expect(pickExamples(before, 7, 6)).toEqual([1, 2, 3, 5, 6, 7]);
  expect(pickExamples(before, 7, 20)).toEqual([1, 2, 3, 5, 6, 7, 8]);
  expect(pickExamples([7, 7], 7)).toEqual([]);
});
