/**
 * Elementwise activation operators: the layers the fingerprint's 'auto' rule captures (src/fingerprint/
 * extract.ts) and operators whose output keeps its input's shape (src/model/macs.ts).
 */
export const ACTIVATION_OPS: ReadonlySet<string> = new Set([
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Elu',
  'Selu',
  'Celu',
  'Gelu',
  'Sigmoid',
  'HardSigmoid',
  'HardSwish',
  'Tanh',
  'Softplus',
  'Mish',
  'Clip',
]);
