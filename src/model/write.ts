/**
 * The project's own ONNX writer: builds valid ONNX ModelProto bytes (opset 13, IR 8) from a graph description
 * (GraphBuilder) or from a simple sequential layer list (writeSequentialModel). Test fixtures, the benchmark
 * zoo (tfjs-trained weights transposed into PyTorch layout) and odd-graph refusal tests all use it.
 *
 * Why hand-written: no maintained npm package writes ONNX graphs; onnx-proto only provides the protobuf
 * classes, which this module fills in.
 *
 * Weight layout is PyTorch's: dense weight [out, in] (Gemm transB=1), conv weight [out, in, kh, kw].
 * Tensor data is written little-endian into raw_data explicitly (DataView), so the bytes are identical on
 * every platform.
 */
import onnxProto from 'onnx-proto';
import type { onnx as pb } from 'onnx-proto';
import { elemTypeCode } from './dtypes.js';
import type { Dim, ElementType } from './types.js';

const { onnx } = onnxProto;

export const DEFAULT_OPSET = 13;
export const DEFAULT_IR_VERSION = 8;

/** An attribute value with its ONNX type made explicit (an integer-valued float is still a float). */
export type AttrValue =
  | { int: number }
  | { float: number }
  | { ints: number[] }
  | { floats: number[] }
  | { string: string }
  | { tensor: { dtype: ElementType; dims: number[]; data: ArrayLike<number> | ArrayLike<bigint> } };

/** Shorthands for attribute values: attr.int(1), attr.floats([0.5]), ... */
export const attr = {
  int: (v: number): AttrValue => ({ int: v }),
  float: (v: number): AttrValue => ({ float: v }),
  ints: (v: number[]): AttrValue => ({ ints: v }),
  floats: (v: number[]): AttrValue => ({ floats: v }),
  string: (v: string): AttrValue => ({ string: v }),
};

export interface ExternalDataRef {
  location: string;
  offset?: number;
  length?: number;
}

export interface GraphBuilderOptions {
  graphName?: string;
  opset?: number;
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Further operator sets, e.g. a custom domain. */
  extraOpsets?: { domain: string; version: number }[];
}

/** Encodes numbers as little-endian bytes of the given element type. */
export function encodeTensorData(
  dtype: ElementType,
  data: ArrayLike<number> | ArrayLike<bigint>,
): Uint8Array {
  const n = data.length;
  const size =
    dtype === 'float64' || dtype === 'int64' || dtype === 'uint64'
      ? 8
      : dtype === 'float32' || dtype === 'int32' || dtype === 'uint32'
        ? 4
        : dtype === 'int16' || dtype === 'uint16'
          ? 2
          : 1;
  const buf = new Uint8Array(n * size);
  const dv = new DataView(buf.buffer);
  for (let i = 0; i < n; i++) {
    const v = data[i];
    switch (dtype) {
      case 'float32':
        dv.setFloat32(i * 4, Number(v), true);
        break;
      case 'float64':
        dv.setFloat64(i * 8, Number(v), true);
        break;
      case 'int64':
        dv.setBigInt64(i * 8, BigInt(v), true);
        break;
      case 'uint64':
        dv.setBigUint64(i * 8, BigInt(v), true);
        break;
      case 'int32':
        dv.setInt32(i * 4, Number(v), true);
        break;
      case 'uint32':
        dv.setUint32(i * 4, Number(v), true);
        break;
      case 'int16':
        dv.setInt16(i * 2, Number(v), true);
        break;
      case 'uint16':
        dv.setUint16(i * 2, Number(v), true);
        break;
      case 'int8':
        dv.setInt8(i, Number(v));
        break;
      case 'uint8':
      case 'bool':
        dv.setUint8(i, Number(v));
        break;
      default:
        throw new Error(`encodeTensorData: unsupported element type ${dtype}`);
    }
  }
  return buf;
}

export function valueInfo(name: string, dtype: ElementType, shape?: Dim[]): pb.IValueInfoProto {
  const tensorType: pb.TypeProto.ITensor = { elemType: elemTypeCode(dtype) };
  if (shape) {
    tensorType.shape = {
      dim: shape.map((d) =>
        typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {},
      ),
    };
  }
  return { name, type: { tensorType } };
}

export function tensorProto(
  name: string,
  dtype: ElementType,
  dims: number[],
  data: ArrayLike<number> | ArrayLike<bigint> | null,
  external?: ExternalDataRef,
): pb.ITensorProto {
  const t: pb.ITensorProto = { name, dataType: elemTypeCode(dtype), dims };
  if (external) {
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = [{ key: 'location', value: external.location }];
    if (external.offset !== undefined) t.externalData.push({ key: 'offset', value: String(external.offset) });
    if (external.length !== undefined) t.externalData.push({ key: 'length', value: String(external.length) });
  } else if (data) {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new Error(
        `initializer ${name}: ${data.length} values for dims [${dims.join(',')}] (${expected})`,
      );
    }
    t.rawData = encodeTensorData(dtype, data);
  }
  return t;
}

export function attributeProto(name: string, v: AttrValue): pb.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in v) return { name, type: T.INT, i: v.int };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  if ('ints' in v) return { name, type: T.INTS, ints: v.ints };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  if ('string' in v) return { name, type: T.STRING, s: new TextEncoder().encode(v.string) };
  return { name, type: T.TENSOR, t: tensorProto('', v.tensor.dtype, v.tensor.dims, v.tensor.data) };
}

/**
 * A low-level ONNX graph builder. Nothing is validated beyond the encoding itself, on purpose: tests use it
 * to build invalid graphs (cycles, unknown domains, external data escaping the folder) too.
 */
export class GraphBuilder {
  private readonly opts: GraphBuilderOptions;
  private readonly inputs: pb.IValueInfoProto[] = [];
  private readonly outputs: pb.IValueInfoProto[] = [];
  private readonly initializers: pb.ITensorProto[] = [];
  private readonly nodes: pb.INodeProto[] = [];
  private readonly valueInfos: pb.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(opts: GraphBuilderOptions = {}) {
    this.opts = opts;
  }

  /** A tensor/node name not used yet, e.g. uniqueName('/fc1/Gemm_output') -> '/fc1/Gemm_output_0'. */
  uniqueName(prefix: string): string {
    for (;;) {
      const n = `${prefix}_${this.counter++}`;
      if (!this.used.has(n)) {
        this.used.add(n);
        return n;
      }
    }
  }

  addInput(name: string, dtype: ElementType, shape: Dim[]): this {
    this.used.add(name);
    this.inputs.push(valueInfo(name, dtype, shape));
    return this;
  }

  /** A graph output; shape optional (ORT infers it). */
  addOutput(name: string, dtype: ElementType = 'float32', shape?: Dim[]): this {
    this.outputs.push(valueInfo(name, dtype, shape));
    return this;
  }

  /** An intermediate value_info entry (shape annotation), as exporters write them. */
  addValueInfo(name: string, dtype: ElementType, shape?: Dim[]): this {
    this.valueInfos.push(valueInfo(name, dtype, shape));
    return this;
  }

  /**
   * A constant tensor. `data` is row-major; with `external`, no data is embedded and the tensor points at
   * an external file instead (the caller writes that file).
   */
  addInitializer(
    name: string,
    dtype: ElementType,
    dims: number[],
    data: ArrayLike<number> | ArrayLike<bigint> | null,
    external?: ExternalDataRef,
  ): this {
    this.used.add(name);
    this.initializers.push(tensorProto(name, dtype, dims, data, external));
    return this;
  }

  addNode(
    opType: string,
    inputs: string[],
    outputs: string[],
    attrs: Record<string, AttrValue> = {},
    opts: { name?: string; domain?: string; docString?: string } = {},
  ): this {
    for (const o of outputs) this.used.add(o);
    this.nodes.push({
      opType,
      input: inputs,
      output: outputs,
      name: opts.name ?? '',
      domain: opts.domain ?? '',
      docString: opts.docString ?? '',
      attribute: Object.entries(attrs).map(([k, v]) => attributeProto(k, v)),
    });
    return this;
  }

  toProto(): pb.ModelProto {
    const opsetImport = [
      { domain: '', version: this.opts.opset ?? DEFAULT_OPSET },
      ...(this.opts.extraOpsets ?? []),
    ];
    return onnx.ModelProto.create({
      irVersion: this.opts.irVersion ?? DEFAULT_IR_VERSION,
      opsetImport,
      producerName: this.opts.producerName ?? 'model-fingerprint',
      producerVersion: this.opts.producerVersion ?? '',
      docString: this.opts.docString ?? '',
      graph: {
        name: this.opts.graphName ?? 'main_graph',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
        valueInfo: this.valueInfos,
      },
    });
  }

  toBytes(): Uint8Array {
    return onnx.ModelProto.encode(this.toProto()).finish();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Sequential models

export type LayerSpec =
  | { kind: 'dense'; weight: Float32Array; inFeatures: number; outFeatures: number; bias?: Float32Array }
  | {
      kind: 'conv';
      weight: Float32Array;
      inChannels: number;
      outChannels: number;
      kernel: number;
      stride?: number;
      pad?: number;
      bias?: Float32Array;
    }
  | { kind: 'relu' }
  | { kind: 'sigmoid' }
  | { kind: 'tanh' }
  | { kind: 'maxpool'; kernel: number; stride?: number }
  | { kind: 'avgpool'; kernel: number; stride?: number }
  | { kind: 'globalavgpool' }
  | { kind: 'flatten' }
  | {
      kind: 'batchnorm';
      scale: Float32Array;
      bias: Float32Array;
      mean: Float32Array;
      var: Float32Array;
      epsilon?: number;
    }
  | { kind: 'softmax' }
  /** out = x + body(x): a ResNet-style block (body must keep the shape). */
  | { kind: 'residual'; body: LayerSpec[] };

export interface SequentialModelSpec {
  inputName?: string;
  /** e.g. ['N', 1, 14, 14]: a string is a symbolic dim. */
  inputShape: Dim[];
  layers: LayerSpec[];
  outputName?: string;
  opset?: number;
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
}

function check(cond: boolean, msg: string): void {
  if (!cond) throw new Error(`writeSequentialModel: ${msg}`);
}

function pooledSize(d: Dim, k: number, s: number, p = 0): Dim {
  return typeof d === 'number' ? Math.floor((d + 2 * p - k) / s) + 1 : null;
}

/** Emits the layers into `g`, returning the final tensor name and its (best-effort) shape. */
function emitLayers(
  g: GraphBuilder,
  layers: LayerSpec[],
  input: string,
  shape: Dim[],
  prefix: string,
  lastOutput: string | null,
): { name: string; shape: Dim[] } {
  let cur = input;
  let sh = shape;
  layers.forEach((layer, i) => {
    const scope = `${prefix}/layers.${i}`;
    const out = (op: string) =>
      i === layers.length - 1 && lastOutput ? lastOutput : `${scope}/${op}_output_0`;
    const param = (n: string) => `${prefix ? prefix.slice(1) + '.' : ''}layers.${i}.${n}`;
    switch (layer.kind) {
      case 'dense': {
        check(layer.weight.length === layer.inFeatures * layer.outFeatures, `dense ${i}: weight size`);
        const inputs = [cur, param('weight')];
        g.addInitializer(param('weight'), 'float32', [layer.outFeatures, layer.inFeatures], layer.weight);
        if (layer.bias) {
          check(layer.bias.length === layer.outFeatures, `dense ${i}: bias size`);
          g.addInitializer(param('bias'), 'float32', [layer.outFeatures], layer.bias);
          inputs.push(param('bias'));
        }
        const o = out('Gemm');
        g.addNode(
          'Gemm',
          inputs,
          [o],
          { alpha: attr.float(1), beta: attr.float(1), transB: attr.int(1) },
          {
            name: `${scope}/Gemm`,
          },
        );
        cur = o;
        sh = [sh[0], layer.outFeatures];
        break;
      }
      case 'conv': {
        const k = layer.kernel;
        const stride = layer.stride ?? 1;
        const pad = layer.pad ?? 0;
        check(layer.weight.length === layer.outChannels * layer.inChannels * k * k, `conv ${i}: weight size`);
        const inputs = [cur, param('weight')];
        g.addInitializer(
          param('weight'),
          'float32',
          [layer.outChannels, layer.inChannels, k, k],
          layer.weight,
        );
        if (layer.bias) {
          check(layer.bias.length === layer.outChannels, `conv ${i}: bias size`);
          g.addInitializer(param('bias'), 'float32', [layer.outChannels], layer.bias);
          inputs.push(param('bias'));
        }
        const o = out('Conv');
        g.addNode(
          'Conv',
          inputs,
          [o],
          {
            dilations: attr.ints([1, 1]),
            group: attr.int(1),
            kernel_shape: attr.ints([k, k]),
            pads: attr.ints([pad, pad, pad, pad]),
            strides: attr.ints([stride, stride]),
          },
          { name: `${scope}/Conv` },
        );
        cur = o;
        sh = [sh[0], layer.outChannels, pooledSize(sh[2], k, stride, pad), pooledSize(sh[3], k, stride, pad)];
        break;
      }
      case 'relu':
      case 'sigmoid':
      case 'tanh': {
        const op = layer.kind === 'relu' ? 'Relu' : layer.kind === 'sigmoid' ? 'Sigmoid' : 'Tanh';
        const o = out(op);
        g.addNode(op, [cur], [o], {}, { name: `${scope}/${op}` });
        cur = o;
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        const op = layer.kind === 'maxpool' ? 'MaxPool' : 'AveragePool';
        const stride = layer.stride ?? layer.kernel;
        const o = out(op);
        g.addNode(
          op,
          [cur],
          [o],
          {
            kernel_shape: attr.ints([layer.kernel, layer.kernel]),
            pads: attr.ints([0, 0, 0, 0]),
            strides: attr.ints([stride, stride]),
          },
          { name: `${scope}/${op}` },
        );
        cur = o;
        sh = [sh[0], sh[1], pooledSize(sh[2], layer.kernel, stride), pooledSize(sh[3], layer.kernel, stride)];
        break;
      }
      case 'globalavgpool': {
        const o = out('GlobalAveragePool');
        g.addNode('GlobalAveragePool', [cur], [o], {}, { name: `${scope}/GlobalAveragePool` });
        cur = o;
        sh = [sh[0], sh[1], 1, 1];
        break;
      }
      case 'flatten': {
        const o = out('Flatten');
        g.addNode('Flatten', [cur], [o], { axis: attr.int(1) }, { name: `${scope}/Flatten` });
        cur = o;
        const rest = sh.slice(1);
        sh = [
          sh[0],
          rest.every((d) => typeof d === 'number') ? (rest as number[]).reduce((a, b) => a * b, 1) : null,
        ];
        break;
      }
      case 'batchnorm': {
        const c = layer.scale.length;
        check(
          layer.bias.length === c && layer.mean.length === c && layer.var.length === c,
          `batchnorm ${i}: parameter sizes`,
        );
        g.addInitializer(param('weight'), 'float32', [c], layer.scale);
        g.addInitializer(param('bias'), 'float32', [c], layer.bias);
        g.addInitializer(param('running_mean'), 'float32', [c], layer.mean);
        g.addInitializer(param('running_var'), 'float32', [c], layer.var);
        const o = out('BatchNormalization');
        g.addNode(
          'BatchNormalization',
          [cur, param('weight'), param('bias'), param('running_mean'), param('running_var')],
          [o],
          { epsilon: attr.float(layer.epsilon ?? 1e-5), momentum: attr.float(0.9) },
          { name: `${scope}/BatchNormalization` },
        );
        cur = o;
        break;
      }
      case 'softmax': {
        const o = out('Softmax');
        g.addNode('Softmax', [cur], [o], { axis: attr.int(-1) }, { name: `${scope}/Softmax` });
        cur = o;
        break;
      }
      case 'residual': {
        const body = emitLayers(g, layer.body, cur, sh, `${scope}`, null);
        const o = out('Add');
        g.addNode('Add', [cur, body.name], [o], {}, { name: `${scope}/Add` });
        cur = o;
        break;
      }
    }
  });
  return { name: cur, shape: sh };
}

/**
 * Writes a sequential float32 model: input -> layers -> output. Tensor names follow PyTorch's exporter
 * ("/layers.0/Conv_output_0", initializers "layers.0.weight"); the last layer's output is `outputName`.
 */
export function writeSequentialModel(spec: SequentialModelSpec): Uint8Array {
  check(spec.layers.length > 0, 'no layers');
  const inputName = spec.inputName ?? 'input';
  const outputName = spec.outputName ?? 'logits';
  const g = new GraphBuilder({
    opset: spec.opset,
    irVersion: spec.irVersion,
    producerName: spec.producerName,
    producerVersion: spec.producerVersion,
    docString: spec.docString,
  });
  g.addInput(inputName, 'float32', spec.inputShape);
  const last = emitLayers(g, spec.layers, inputName, spec.inputShape, '', outputName);
  g.addOutput(outputName, 'float32', last.shape);
  return g.toBytes();
}
