/**
 * Imported first by main.ts: on a platform dist/ has no ONNX Runtime for, print one line and exit 2 (an
 * error, as the CLI's exit codes say) before anything loads onnxruntime-node. ES modules evaluate in import
 * order, so exiting here stops the imports after it.
 */
import { writeSync } from 'node:fs';
import { unsupportedPlatformMessage } from '../platform.js';
import { TOOL_NAME } from '../version.js';

const message = unsupportedPlatformMessage(process.platform, process.arch);
if (message !== undefined) {
  // Synchronous: process.exit does not wait for asynchronous stderr writes (pipes on macOS).
  writeSync(2, `${TOOL_NAME}: error: ${message}\n`);
  process.exit(2);
}
