import { Tensor } from 'onnxruntime-node';
import { binding, initOrt } from 'onnxruntime-node/dist/binding.js';
import { GraphBuilder, attr } from '../../src/model/write.js';
import { Rng } from '../../src/probes/rng.js';
const n=1000,d=16384; const X=new Rng(1).normals(n*d);
const g = new GraphBuilder({ graphName: 'gram' });
g.addInput('A', 'float32', ['n', 'd']); g.addInput('B', 'float32', ['m', 'd']);
g.addNode('Gemm', ['A', 'B'], ['G'], { transB: attr.int(1) }); g.addOutput('G', 'float32', ['n', 'm']);
const bytes=g.toBytes(); initOrt();
for (const [th, spin] of [[1,'1'],[2,'1'],[2,'0']] as const) {
const s=new binding.InferenceSession();
s.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {intraOpNumThreads:th, interOpNumThreads:1, graphOptimizationLevel:'all', extra: { session: { intra_op: { allow_spinning: spin } } }} as never);
const t0=new Tensor('float32',X,[n,d]);
const ts=[];for (let r=0;r<3;r++){ const t=performance.now(); s.run({A:t0,B:t0},{G:null},{}); ts.push((performance.now()-t).toFixed(0)); } console.log(th, spin, ts.join(' '));
}
