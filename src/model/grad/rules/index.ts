/**
 * The rule table: operator -> vector-Jacobian rule (one file per family), and the operators whose outputs
 * carry no gradient at all (shape and index computations, comparisons, constants, and the piecewise-
 * constant roundings whose derivative is zero wherever it exists, as in PyTorch). Adding an operator is one
 * entry here and its rule in its family's file (docs/gradients.md).
 */
import { ACTIVATION_RULES } from './activations.js';
import { CONV_RULES } from './conv.js';
import { ELEMENTWISE_RULES } from './elementwise.js';
import { LAYOUT_RULES } from './layout.js';
import { LINEAR_RULES } from './linear.js';
import { NORMALIZATION_RULES } from './normalization.js';
import { POOL_RULES } from './pool.js';
import type { Rule } from './rule.js';

export const RULES: Readonly<Record<string, Rule>> = Object.freeze({
  ...ELEMENTWISE_RULES,
  ...ACTIVATION_RULES,
  ...LINEAR_RULES,
  ...CONV_RULES,
  ...POOL_RULES,
  ...NORMALIZATION_RULES,
  ...LAYOUT_RULES,
});

export const NO_GRADIENT_OPS: ReadonlySet<string> = new Set([
  'Shape',
  'Size',
  'Constant',
  'ConstantOfShape',
  'Range',
  'OneHot',
  'EyeLike',
  'NonZero',
  'ArgMax',
  'ArgMin',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'And',
  'Or',
  'Xor',
  'Not',
  'IsNaN',
  'IsInf',
  'Sign',
  'Floor',
  'Ceil',
  'Round',
  'RandomNormal',
  'RandomUniform',
  'RandomNormalLike',
  'RandomUniformLike',
]);

/** Inputs that lend only their type or shape, never a value: no gradient flows through them. */
export const VALUELESS_INPUTS: Readonly<Record<string, readonly number[]>> = Object.freeze({ CastLike: [1] });

/** Whether input `i` of an `op` node can carry a gradient. */
export function carriesGradient(op: string, i: number): boolean {
  return !NO_GRADIENT_OPS.has(op) && !(VALUELESS_INPUTS[op] ?? []).includes(i);
}

/** The operators with a rule, sorted (for docs and messages). */
export function supportedOps(): string[] {
  return Object.keys(RULES).sort();
}
