import { parseModel } from '../../src/model/read.js';
import { runProbes } from '../../src/model/session.js';
import { generateProbes } from '../../src/probes/generate.js';
import { autoLayers } from '../../src/fingerprint/extract.js';
import { layerWeightStats, finalWeightStats } from '../../src/fingerprint/weights.js';
import { gramBlock, sortedBlock, softmaxStats } from '../../src/fingerprint/representations.js';
import { findFinalLinear } from '../../src/fingerprint/final-layer.js';
import { resnetBytes } from './resnet.js';
const { bytes } = resnetBytes();
let t = performance.now();
const model = parseModel(bytes, 'x.onnx'); console.log('parse', performance.now() - t);
const probes = generateProbes(model.inputs, { count: 64 }, {});
const layers = autoLayers(model); console.log(layers);
t = performance.now(); const run = await runProbes(model, probes, { layers }); console.log('runProbes', performance.now() - t);
for (const l of layers) { const x = run.tensors.get(l)!; const f = x.data.length/64;
 t = performance.now(); gramBlock(x.data, 64, f); console.log('gram', f, performance.now() - t);
 t = performance.now(); sortedBlock(x.data, 64, f); console.log('sorted', performance.now() - t); }
t = performance.now(); const fl = findFinalLinear(model); if (fl) finalWeightStats(fl); console.log('final', performance.now() - t);
t = performance.now(); layerWeightStats(model, { deadline: Date.now() + 1e6, limitMs: 1e6 }); console.log('layerW', performance.now() - t);
