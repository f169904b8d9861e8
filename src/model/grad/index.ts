/**
 * Gradients of a model's outputs through ONNX Runtime (docs/gradients.md): build a graph that computes an
 * objective and its gradient (buildGradientGraph), run it as one session (GradientSession). Callers above
 * src/model/ import from here only.
 */
export { buildGradientGraph, onnxOpset } from './build.js';
export { GradientSession, openGradientSession, type GradientSessionOptions } from './session.js';
export { embeddingOutputs } from './embeddings.js';
export { supportedOps } from './rules/index.js';
export * from './types.js';
