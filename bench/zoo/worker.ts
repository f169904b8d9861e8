/**
 * A zoo training worker (one per core): receives model specs from the parent over IPC, trains and exports
 * each, writes the ONNX file, and reports the measures back. Started by bench/zoo/pool.ts with fork().
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { initTf } from './backend.js';
import { buildModel } from './build-model.js';
import { loadMnist14 } from './data.js';
import type { JobMessage, ResultMessage } from './pool.js';

const backend = await initTf();
const data = loadMnist14();

process.on('message', (msg: JobMessage) => {
  let reply: ResultMessage;
  try {
    const built = buildModel(msg.spec, data);
    mkdirSync(path.dirname(msg.outPath), { recursive: true });
    writeFileSync(msg.outPath, built.bytes);
    const { bytes: _bytes, ...measures } = built;
    reply = { id: msg.spec.id, ok: true, backend, measures };
  } catch (e) {
    reply = {
      id: msg.spec.id,
      ok: false,
      backend,
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
    };
  }
  process.send?.(reply);
});
process.send?.({ ready: true, backend });
