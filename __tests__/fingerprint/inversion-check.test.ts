/**
 * The fingerprint-side glue of trigger inversion (src/fingerprint/inversion-check.ts) and the opt-in
 * `model-fingerprint invert` command, on the example models through real ONNX Runtime.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  inversionStepsFor,
  maskBox,
  MIN_INVERSION_STEPS_PER_CLASS,
} from '../../src/fingerprint/inversion-check.js';
import {
  INVERSION_BACKWARD_FACTOR,
  INVERSION_BATCH,
  INVERSION_MAC_BUDGET,
  INVERSION_STEPS_PER_CLASS,
} from '../../src/limits.js';
import { cli, EXAMPLE_CANDIDATES, tempDir } from '../cli/helpers.js';

describe('inversionStepsFor', () => {
  test('a small model gets the default steps; the MAC budget cuts a big one; a huge one is not run', () => {
    expect(inversionStepsFor(50_000, 10)).toBe(INVERSION_STEPS_PER_CLASS);
    const perStep = INVERSION_BATCH * (1 + INVERSION_BACKWARD_FACTOR);
    const macs = INVERSION_MAC_BUDGET / (perStep * 10 * 10); // affords 10 steps per class
    expect(inversionStepsFor(macs, 10)).toBe(10);
    // the total it affords stays inside the budget
    expect(10 * 10 * macs * perStep).toBeLessThanOrEqual(INVERSION_MAC_BUDGET * 1.000001);
    expect(inversionStepsFor(macs * 10, 10)).toBeNull();
    expect(MIN_INVERSION_STEPS_PER_CLASS).toBeGreaterThan(1);
  });
});

describe('maskBox', () => {
  test('the box of the pixels at half the maximum or more', () => {
    const m = new Float32Array(16);
    m[2 * 4 + 1] = 0.9;
    m[3 * 4 + 3] = 0.5;
    m[0] = 0.1;
    expect(maskBox(m, 4, 4)).toBe('rows 2-3, cols 1-3');
    expect(maskBox(new Float32Array(16), 4, 4)).toBe('nowhere');
  });
});

describe('model-fingerprint invert', () => {
  test('on the backdoored example with its samples: class 7 at the bottom-right trigger, exit 0', async () => {
    const r = await cli(
      'invert',
      path.join(EXAMPLE_CANDIDATES, 'backdoored.onnx'),
      '--probe-samples',
      'examples/probe-samples',
      '--json',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { assessed: boolean; targetClass: number; basis: string; detail: string };
    expect(j.assessed).toBe(true);
    expect(j.targetClass).toBe(7);
    expect(j.basis).toBe('samples');
    // the trigger is the 3x3 square at rows/cols 11-13
    expect(j.detail).toMatch(/rows 1[1-3]-13, cols \d+-13/);
  }, 60_000);

  test('a file that is no model: exit 2 with a one-line error naming it', async () => {
    const dir = tempDir();
    const bad = path.join(dir, 'bad.onnx');
    writeFileSync(bad, 'not a model');
    const r = await cli('invert', bad);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.onnx/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  test('no MODEL: a usage error', async () => {
    const r = await cli('invert');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/invert: expected one MODEL/);
  });
});
