/**
 * Jest test environment for tests that run real onnxruntime-node: the native addon creates its output
 * typed arrays in Node's main realm, while jest's default node environment gives each test file its own
 * realm, so onnxruntime-common's `data instanceof Float32Array` check fails ("A float32 tensor's data must be
 * type of function Float32Array()"). Sharing the main realm's typed-array constructors fixes that.
 * Use with the docblock `@jest-environment ./__tests__/model/ort-environment.js` (or set it in jest.config.js).
 */
import { TestEnvironment } from 'jest-environment-node';

const SHARED = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'Float16Array',
];

export default class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) {
      if (name in globalThis) this.global[name] = globalThis[name];
    }
  }
}
