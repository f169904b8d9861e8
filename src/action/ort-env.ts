/**
 * Imported first by main.ts, before anything loads onnxruntime-node: ES modules evaluate in import order,
 * so this is how an entry point sets ONNX Runtime's environment before the runtime reads it.
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';
