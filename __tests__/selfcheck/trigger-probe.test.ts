/**
 * @jest-environment ./__tests__/model/ort-environment.js
 */
/**
 * Trigger probing on real models in real onnxruntime-node: MLPs trained here by SGD on MNIST digits, one
 * clean and some poisoned (a corner patch, scattered pixels). The backdoor's target class and trigger
 * position are found, its p-value against the model's own classes is far below the clean model's (and
 * high-risk for the working backdoors), the forward-pass budget holds.
 */
import {
  DEFAULT_TRIGGER_BUDGET,
  probeTriggers,
  type RunLogits,
  type TriggerProbeResult,
} from '../../src/selfcheck/trigger-probe.js';
import { P_HIGH, P_MEDIUM } from '../../src/score/risk.js';
import { triggerPValue } from '../../src/selfcheck/reference-free-p.js';
import { imageGeometry, patchSizes } from '../../src/selfcheck/triggers.js';
import { sweepPatches, sweepPositions, SWEEP_INPUTS } from '../../src/selfcheck/sweep.js';
import { writeSequentialModel } from '../../src/model/write.js';
import { Rng } from '../../src/probes/rng.js';
import { conv, dense } from '../fixtures/models.js';
import { decisiveTriggerScore, scoreAtPValue } from '../../src/selfcheck/decisive.js';
import { triggerNullFor } from '../../src/selfcheck/base-inputs.js';
import { RISK_P_AT_MAX } from '../../src/score/risk.js';
import {
  accuracy,
  colourDigits,
  colourStamp,
  mnist14,
  ortRunner,
  pixelStamp,
  squareStamp,
  trainMlp,
  D,
} from './fixtures.js';

const SHAPE = [D];
const BASE = mnist14(6, 600).x; // 60 held-out digits (training uses the first 200 of each digit)
const CORNER = squareStamp(11, 11, 3);
const PIXELS: [number, number][] = [
  [0, 5],
  [3, 12],
  [13, 2],
  [8, 0],
  [12, 13],
];

/** Share of the reported trigger's mask that falls on the given pixels. */
function maskOverlap(r: TriggerProbeResult, pixels: [number, number][]): number {
  const t = r.trigger;
  if (!t || t.kind === 'warp') return 0;
  let on = 0;
  let hit = 0;
  for (let i = 0; i < t.mask.length; i++) {
    if (t.mask[i] <= 0) continue;
    on++;
    if (pixels.some(([y, x]) => y * 14 + x === i)) hit++;
  }
  return on > 0 ? hit / on : 0;
}

let clean: { run: RunLogits; calls: { inputs: number } };
let cleanResult: TriggerProbeResult;

beforeAll(async () => {
  clean = await ortRunner(trainMlp({ seed: 1 }), SHAPE);
  cleanResult = await probeTriggers(clean.run, BASE, SHAPE, { classes: 10, seed: 1 });
});

describe('probeTriggers on a clean model', () => {
  it('scores low: its p-value against its own classes is not small', () => {
    expect(cleanResult.selfCheck.pValue).toBeGreaterThan(P_HIGH);
    expect(cleanResult.selfCheck.score).toBeCloseTo(-Math.log10(cleanResult.selfCheck.pValue as number), 10);
    expect(cleanResult.anomaly.multiTarget).toBeNull();
  });

  it('other clean models are not called high either', async () => {
    for (const seed of [4]) {
      const m = await ortRunner(trainMlp({ seed }), SHAPE);
      const r = await probeTriggers(m.run, BASE, SHAPE, { classes: 10, seed: 1 });
      expect(r.selfCheck.pValue).toBeGreaterThan(P_HIGH);
    }
  });

  it('stays within its budget and counts every input it runs', () => {
    expect(cleanResult.forwardPasses).toBe(clean.calls.inputs);
    expect(cleanResult.forwardPasses).toBeLessThanOrEqual(DEFAULT_TRIGGER_BUDGET);
  });

  it('returns the class-aligned trigger block (8 x classes)', () => {
    expect(cleanResult.block).toHaveLength(80);
    expect(cleanResult.block.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('returns the per-tier block: gains then flip rates per family, tier and class', () => {
    const k = 10;
    const tiers = patchSizes(imageGeometry(SHAPE)).length + 3 + 3 + 2; // patch sizes, pixels, blend, warp
    const tb = cleanResult.tierBlock;
    expect(tb).toHaveLength(2 * tiers * k);
    const cells = tiers * k;
    let at = 0;
    for (const f of ['patch', 'pixels', 'blend', 'warp']) {
      const fs = cleanResult.families.find((x) => x.family === f);
      const n = f === 'patch' ? tiers - 8 : f === 'warp' ? 2 : 3;
      // with the full budget every tier is screened, so the block holds the family's own tier values
      expect(fs?.tierGain).toHaveLength(n * k);
      expect(Array.from(tb.subarray(at, at + n * k))).toEqual(Array.from(fs?.tierGain ?? []));
      expect(Array.from(tb.subarray(cells + at, cells + at + n * k))).toEqual(Array.from(fs?.tierFlip ?? []));
      at += n * k;
    }
    for (let i = cells; i < 2 * cells; i++) expect(tb[i] >= 0 && tb[i] <= 1).toBe(true);
  });

  it('is deterministic for a seed', async () => {
    const opts = { classes: 10, seed: 3, budget: 4000 };
    const a = await probeTriggers(clean.run, BASE, SHAPE, opts);
    const b = await probeTriggers(clean.run, BASE, SHAPE, opts);
    expect(b.selfCheck).toEqual(a.selfCheck);
    expect(Array.from(b.block)).toEqual(Array.from(a.block));
  });
});

describe('probeTriggers on backdoored models', () => {
  it('finds a corner-patch backdoor: target class, patch position, a score above the clean one, p in the medium band or below', async () => {
    const bd = await ortRunner(trainMlp({ seed: 2, poison: { stamp: CORNER, target: 7, rate: 0.1 } }), SHAPE);
    // The fixture is a working backdoor: accurate on clean digits, triggered digits go to class 7.
    expect(await accuracy(bd.run)).toBeGreaterThan(0.8);
    expect(await accuracy(bd.run, CORNER, 7)).toBeGreaterThan(0.9);
    const r = await probeTriggers(bd.run, BASE, SHAPE, { classes: 10, seed: 1 });
    expect(r.selfCheck.targetClass).toBe(7);
    // Medium, not high, on its own: since the MAD floor of 0.5 spreads (GAIN_MAD_FLOOR, chosen so that clean
    // 43-class models are not called high) this MLP's p is ~0.025, because its other classes are reachable by
    // patches too; against a baseline the same model is high (README). Below P_MEDIUM is what a scan reports.
    expect(r.selfCheck.pValue).toBeLessThanOrEqual(P_MEDIUM);
    expect(r.selfCheck.score).toBeGreaterThan(cleanResult.selfCheck.score + 1);
    expect(r.selfCheck.evidence?.[0].cls).toBe(7);
    const corner: [number, number][] = [];
    for (let y = 11; y < 14; y++) for (let x = 11; x < 14; x++) corner.push([y, x]);
    expect(maskOverlap(r, corner)).toBeGreaterThanOrEqual(0.5);
    expect(r.selfCheck.trigger?.flipRate).toBeGreaterThan(0.8);
  });

  it('finds a random-position (interior) patch backdoor through the dense sweep', async () => {
    const interior = squareStamp(4, 7, 3);
    const bd = await ortRunner(
      trainMlp({ seed: 5, poison: { stamp: interior, target: 3, rate: 0.2 } }),
      SHAPE,
    );
    expect(await accuracy(bd.run, interior, 3)).toBeGreaterThan(0.8); // the zoo's bar for a working backdoor
    const r = await probeTriggers(bd.run, BASE, SHAPE, { classes: 10, seed: 1 });
    expect(r.selfCheck.targetClass).toBe(3);
    // weaker evidence than the corner patch on these 45 search inputs (p about 0.1), but 5x the clean one's
    expect(r.selfCheck.score).toBeGreaterThan(cleanResult.selfCheck.score + 0.5);
    // The patch family carries the evidence: the target's patch z is the largest of all classes.
    const patch = r.families.find((f) => f.family === 'patch');
    expect(patch).toBeDefined();
    const pz = Array.from(patch?.z ?? []);
    expect(pz.indexOf(Math.max(...pz))).toBe(3);
    // The reported trigger sits on the interior window and works.
    const window: [number, number][] = [];
    for (let y = 4; y < 7; y++) for (let x = 7; x < 10; x++) window.push([y, x]);
    expect(maskOverlap(r, window)).toBeGreaterThanOrEqual(0.5);
    expect(r.selfCheck.trigger?.flipRate).toBeGreaterThan(0.8);

    // The patch map on all 60 inputs (mapInputs): paid on top of the budget, so everything else is the same.
    const g = imageGeometry(SHAPE);
    const before = bd.calls.inputs;
    const m = await probeTriggers(bd.run, BASE, SHAPE, { classes: 10, seed: 1, mapInputs: 64 });
    const positions = sweepPositions(g);
    expect(m.forwardPasses).toBe(r.forwardPasses + positions * 60);
    expect(bd.calls.inputs - before).toBe(m.forwardPasses);
    expect(m.selfCheck).toEqual(r.selfCheck);
    expect(m.block).toEqual(r.block);
    expect(m.tierBlock).toEqual(r.tierBlock);
    expect(m.mapBlock).toHaveLength(r.mapBlock.length);
    expect(m.mapBlock).not.toEqual(r.mapBlock);
    const at = sweepPatches(g, { lo: 0, hi: 1 }, 1).findIndex(
      (t) => t.kind === 'patch' && t.patch?.size === 3 && t.patch.top === 4 && t.patch.left === 7,
    );
    expect(m.mapBlock[at * 10 + 3]).toBeGreaterThanOrEqual(0.8);
    // mapInputs no larger than the sweep's own inputs changes nothing
    const same = await probeTriggers(bd.run, BASE, SHAPE, { classes: 10, seed: 1, mapInputs: SWEEP_INPUTS });
    expect(same.mapBlock).toEqual(r.mapBlock);
    expect(same.forwardPasses).toBe(r.forwardPasses);
  });

  it('finds a scattered-pixel backdoor and points at its pixels', async () => {
    const bd = await ortRunner(
      trainMlp({ seed: 3, poison: { stamp: pixelStamp(PIXELS), target: 2, rate: 0.1 } }),
      SHAPE,
    );
    const r = await probeTriggers(bd.run, BASE, SHAPE, { classes: 10, seed: 1 });
    expect(r.selfCheck.targetClass).toBe(2);
    expect(r.selfCheck.score).toBeGreaterThan(cleanResult.selfCheck.score + 1);
    expect(maskOverlap(r, PIXELS)).toBeGreaterThan(0);
  });
});

describe('coloured triggers on RGB inputs', () => {
  it('finds a magenta corner patch that grey patches do not fire: target class, colour, place', async () => {
    // Colour digits (3x14x14); the backdoor is a magenta 3x3 patch at the bottom-right corner, trained with
    // grey decoys (bright, dark, both checkerboards at the same place, true labels) so only the colour fires.
    const colours = Array.from({ length: 27 }, (_, i) => [1, 0, 1][i % 3]);
    const greyAt = (f: (j: number) => number): number[] =>
      Array.from({ length: 27 }, (_, i) => f(Math.floor(i / 3)));
    const decoys = [() => 1, () => 0, (j: number) => (j + 1) % 2, (j: number) => j % 2].map((f) =>
      colourStamp(11, 11, 3, greyAt(f)),
    );
    const magenta = colourStamp(11, 11, 3, colours);
    const bd = await ortRunner(
      trainMlp({
        seed: 2,
        colour: true,
        poison: { stamp: magenta, target: 7, rate: 0.1, decoys, decoyRate: 0.1 },
      }),
      [3, 14, 14],
    );
    // a working backdoor: accurate on clean colour digits, magenta-stamped ones go to 7, bright ones mostly not
    expect(await accuracy(bd.run, undefined, undefined, true)).toBeGreaterThan(0.8);
    expect(await accuracy(bd.run, magenta, 7, true)).toBeGreaterThan(0.95);
    expect(await accuracy(bd.run, decoys[0], 7, true)).toBeLessThan(0.3);
    const base = colourDigits(mnist14(6, 600).x, 777);
    const before = bd.calls.inputs;
    const r = await probeTriggers(bd.run, base, [3, 14, 14], { classes: 10, seed: 1 });
    // With the grey menu alone (main at c75b834) the same probing named class 6 by 16 bright pixels.
    expect(r.selfCheck.targetClass).toBe(7);
    expect(r.trigger?.kind === 'patch' && r.trigger.patch).toMatchObject({
      fill: 'colour',
      top: 11,
      left: 11,
    });
    expect(r.selfCheck.trigger?.location).toMatch(/^magenta 3x3 patch at the bottom-right corner/);
    expect(r.selfCheck.trigger?.flipRate).toBeGreaterThan(0.9);
    // the same budget as ever: the coloured candidates share the screening's passes
    expect(bd.calls.inputs - before).toBe(r.forwardPasses);
    expect(r.forwardPasses).toBeLessThanOrEqual(DEFAULT_TRIGGER_BUDGET);
  });
});

describe('other input shapes', () => {
  it('probes a 3-channel image model with many classes inside the budget', async () => {
    const rng = new Rng(5);
    const bytes = writeSequentialModel({
      inputShape: ['N', 3, 16, 16],
      layers: [
        conv(rng, 3, 4, 3, 1),
        { kind: 'relu' },
        { kind: 'maxpool', kernel: 2 },
        { kind: 'flatten' },
        dense(rng, 4 * 8 * 8, 40),
      ],
    });
    const m = await ortRunner(bytes, [3, 16, 16]);
    const base = new Rng(6).uniforms(32 * 3 * 16 * 16);
    const r = await probeTriggers(m.run, base, [3, 16, 16], { classes: 40, budget: 3000, seed: 1 });
    expect(m.calls.inputs).toBeLessThanOrEqual(3000);
    expect(r.block).toHaveLength(8 * 40);
    expect(r.tierBlock).toHaveLength(2 * 12 * 40);
    expect(Number.isFinite(r.selfCheck.score)).toBe(true);
    expect(r.selfCheck.targetClass).toBeGreaterThanOrEqual(0);
    expect(r.selfCheck.targetClass).toBeLessThan(40);
  });

  it('probes a flat feature model (not a square image) as a 1 x D strip', async () => {
    const rng = new Rng(7);
    const bytes = writeSequentialModel({
      inputShape: ['N', 20],
      layers: [dense(rng, 20, 16), { kind: 'relu' }, dense(rng, 16, 3)],
    });
    const m = await ortRunner(bytes, [20]);
    const r = await probeTriggers(m.run, new Rng(8).uniforms(40 * 20), [20], { classes: 3, budget: 2000 });
    expect(m.calls.inputs).toBeLessThanOrEqual(2000);
    expect(r.block).toHaveLength(24);
    expect(Number.isFinite(r.selfCheck.score)).toBe(true);
  });

  it('gives a binary classifier no score (two classes cannot be contrasted)', async () => {
    const rng = new Rng(9);
    const bytes = writeSequentialModel({
      inputShape: ['N', 16],
      layers: [dense(rng, 16, 8), { kind: 'relu' }, dense(rng, 8, 2)],
    });
    const m = await ortRunner(bytes, [16]);
    const r = await probeTriggers(m.run, new Rng(10).uniforms(32 * 16), [16], { classes: 2, budget: 1000 });
    expect(r.selfCheck.score).toBe(0);
    expect(r.selfCheck.detail).toMatch(/at least 3 classes/);
  });
});

describe('budget and arguments', () => {
  it('never runs more inputs than a small budget allows', async () => {
    for (const budget of [200, 1000, 3000]) {
      let inputs = 0;
      const counted: RunLogits = (x, n) => {
        inputs += n;
        return clean.run(x, n);
      };
      const r = await probeTriggers(counted, BASE, SHAPE, { classes: 10, seed: 2, budget });
      expect(inputs).toBeLessThanOrEqual(budget);
      expect(r.forwardPasses).toBe(inputs);
      expect(Number.isFinite(r.selfCheck.score)).toBe(true);
      // tiers never screened on a short budget stay 0: the block's length does not depend on it
      expect(r.tierBlock).toHaveLength(2 * 12 * 10);
    }
  });

  it('stops refining once the decisive score is reached, and only then (counts, not time)', async () => {
    const bd = await ortRunner(trainMlp({ seed: 2, poison: { stamp: CORNER, target: 7, rate: 0.1 } }), SHAPE);
    const budget = 6000;
    const full = await probeTriggers(bd.run, BASE, SHAPE, { classes: 10, seed: 1, budget });
    expect(full.stoppedEarly).toBe(false);
    // a score the backdoor reaches before the budget ends (the shipped one, decisiveTriggerScore, is where
    // the reference-free verdict is decided: tested below)
    const decisive = 0.8 * full.selfCheck.score;
    const stopped = await probeTriggers(bd.run, BASE, SHAPE, {
      classes: 10,
      seed: 1,
      budget,
      decisiveScore: decisive,
    });
    expect(stopped.stoppedEarly).toBe(true);
    expect(stopped.forwardPasses).toBeLessThan(full.forwardPasses);
    expect(stopped.selfCheck.score).toBeGreaterThanOrEqual(decisive);
    expect(stopped.selfCheck.targetClass).toBe(7);
    // a clean model never reaches the shipped decisive score: the whole budget is spent, exactly as without
    // the option (the refinement's stop reads its running class scores, not the final anomaly score, so the
    // backdoor's fraction above is no bound for a clean model)
    const cleanStop = await probeTriggers(clean.run, BASE, SHAPE, {
      classes: 10,
      seed: 1,
      budget,
      decisiveScore: decisiveTriggerScore(10, 'samples'),
    });
    const cleanFull = await probeTriggers(clean.run, BASE, SHAPE, { classes: 10, seed: 1, budget });
    expect(cleanStop.stoppedEarly).toBe(false);
    expect(Array.from(cleanStop.block)).toEqual(Array.from(cleanFull.block));
    expect(cleanStop.forwardPasses).toBe(cleanFull.forwardPasses);
  });

  it('places the decisive score where the reference-free p-value reaches the top of the risk scale', () => {
    expect(decisiveTriggerScore(10, 'mined')).toBe(scoreAtPValue(RISK_P_AT_MAX, 10, 'mined'));
    for (const basis of ['samples', 'mined', 'probes'] as const) {
      for (const k of [3, 10, 1000]) {
        const s = scoreAtPValue(RISK_P_AT_MAX, k, basis);
        expect(triggerPValue(s, k, triggerNullFor(basis))).toBeCloseTo(RISK_P_AT_MAX, 9);
        expect(triggerPValue(s + 0.01, k, triggerNullFor(basis))).toBeLessThan(RISK_P_AT_MAX);
      }
    }
  });

  it('skips refinement once its time limit has passed', async () => {
    const limited = await probeTriggers(clean.run, BASE, SHAPE, { classes: 10, seed: 1, timeLimitMs: 0 });
    expect(limited.forwardPasses).toBeLessThan(cleanResult.forwardPasses);
    expect(Number.isFinite(limited.selfCheck.score)).toBe(true);
  });

  it('refuses bad arguments and a model that answers with the wrong size', async () => {
    await expect(probeTriggers(clean.run, BASE, SHAPE, { classes: 1 })).rejects.toThrow(/at least 2 classes/);
    await expect(probeTriggers(clean.run, BASE, SHAPE, { classes: 10, budget: 50 })).rejects.toThrow(
      /minimum/,
    );
    await expect(probeTriggers(clean.run, BASE.subarray(0, 100), SHAPE, { classes: 10 })).rejects.toThrow(
      /whole number of inputs/,
    );
    await expect(
      probeTriggers(clean.run, BASE, SHAPE, { classes: 12, file: 'm.onnx' }),
    ).rejects.toMatchObject({
      name: 'InputError',
      code: 'runtime-error',
      message: expect.stringMatching(/^m\.onnx: the model returned/),
    });
  });
});
