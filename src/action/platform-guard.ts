/**
 * Imported by main.ts right after ort-env.js, before anything that loads onnxruntime-node: on a runner dist/
 * has no ONNX Runtime for, fail the step with one line (onnxruntime-node's loader would otherwise die with a
 * module-not-found stack trace). ES modules evaluate in import order, so exiting here stops the imports after it.
 */
import { writeSync } from 'node:fs';
import { unsupportedPlatformMessage } from '../platform.js';

const message = unsupportedPlatformMessage(process.platform, process.arch);
if (message !== undefined) {
  // The workflow command core.setFailed writes (the message holds no %, CR or LF to escape), written
  // synchronously: process.exit does not wait for asynchronous stdout writes (pipes on macOS).
  writeSync(1, `::error::${message}\n`);
  process.exit(1);
}
