import * as ort from 'onnxruntime-node';
test('ort loads', () => { expect(ort.env.versions.node).toBe('1.30.0'); });
