/**
 * The one message a model's time limit produces, whichever stage ran out of it (probing, trigger probing, the
 * weight statistics): the file, the limit in seconds written one way everywhere, the stage, and the fix.
 */
import { InputError } from './errors.js';
import { TIME_LIMIT_FIX } from './limits.js';

/** Where the time ran out; the stage names the extra fix that stage has (fewer probes, a smaller budget). */
export type TimeLimitStage = 'probing' | 'trigger probing' | 'weight statistics';

const STAGE_FIX: Record<TimeLimitStage, string> = {
  probing: ', or use fewer probes',
  'trigger probing': ', or give a smaller --budget',
  'weight statistics': '',
};

/** Seconds as a person reads them: whole above 10 s ("120"), one decimal below ("2.5"), no trailing ".0". */
export function formatLimitSeconds(limitMs: number): string {
  const s = limitMs / 1000;
  return s >= 10 ? String(Math.round(s)) : s.toFixed(1).replace(/\.0$/, '');
}

export function timeLimitError(file: string, stage: TimeLimitStage, limitMs = 0): InputError {
  return new InputError(
    'timeout',
    `${file}: fingerprinting took longer than the ${formatLimitSeconds(limitMs)} s limit (${stage}); ${TIME_LIMIT_FIX}${STAGE_FIX[stage]}`,
    file,
  );
}
