/**
 * How trigger screening fits its budget (screeningPlan, shared by the image and the token search), and the
 * fingerprint's time limit on trigger probing's model runs (withDeadline).
 */
import { screeningPlan } from '../../src/selfcheck/budgeted-runner.js';
import { withDeadline } from '../../src/fingerprint/trigger-deadline.js';
import { InputError } from '../../src/errors.js';

describe('screeningPlan', () => {
  it('screens every candidate on as many inputs as the budget affords, up to the cap', () => {
    expect(screeningPlan(100, 64, 10_000, 8, 32)).toEqual({ rows: 32, candidates: 100 });
    expect(screeningPlan(100, 64, 2_000, 8, 32)).toEqual({ rows: 20, candidates: 100 });
    expect(screeningPlan(100, 12, 10_000, 8, 32)).toEqual({ rows: 12, candidates: 100 });
  });

  it('when that is fewer than the minimum inputs: the minimum, and only the first candidates it affords', () => {
    // 3,000 candidates x 8 inputs would need 24,000 passes; 4,000 afford the first 500
    expect(screeningPlan(3000, 64, 4_000, 8, 32)).toEqual({ rows: 8, candidates: 500 });
    // fewer inputs than the minimum: all of them
    expect(screeningPlan(3000, 5, 4_000, 8, 32)).toEqual({ rows: 5, candidates: 800 });
  });

  it('keeps at least one candidate, however small the budget', () => {
    expect(screeningPlan(3000, 64, 3, 8, 32)).toEqual({ rows: 8, candidates: 1 });
    expect(screeningPlan(0, 64, 100, 8, 32).candidates).toBe(0);
  });
});

describe('withDeadline', () => {
  const logits = async (_x: Float32Array, count: number) => new Float32Array(count * 3).fill(1);

  it('passes runs through before the deadline', async () => {
    const run = withDeadline(logits, 'models/a.onnx', Date.now() + 60_000, 60_000);
    expect(Array.from(await run(new Float32Array(4), 2))).toEqual([1, 1, 1, 1, 1, 1]);
    const free = withDeadline(logits, 'models/a.onnx');
    expect((await free(new Float32Array(4), 1)).length).toBe(3);
  });

  it('stops with a timeout error that names the file and the limit once the deadline has passed', async () => {
    const run = withDeadline(logits, 'models/a.onnx', Date.now() - 1, 2500);
    const err = await run(new Float32Array(4), 1).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('timeout');
    expect((err as Error).message).toBe(
      'models/a.onnx: fingerprinting took longer than the 2.5 s limit (trigger probing); on a slow or busy machine raise the fixed allowance (--time-limit SECONDS, action input time-limit; default 120), or give a smaller --budget',
    );
  });
});
