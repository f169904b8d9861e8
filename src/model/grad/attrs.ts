/** Typed reads of a node's attributes (onnx-proto decodes int64 as Long objects; this flattens them). */
import type { onnx as pb } from 'onnx-proto';
import { toNum, type Int64Like } from '../dtypes.js';

export class Attrs {
  private readonly byName: Map<string, pb.IAttributeProto>;
  constructor(node: pb.INodeProto) {
    this.byName = new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  int(name: string, dflt: number): number {
    const a = this.byName.get(name);
    return a && a.i != null ? toNum(a.i as Int64Like) : dflt;
  }

  ints(name: string): number[] | undefined {
    const a = this.byName.get(name);
    return a?.ints && (a.ints.length > 0 || a.type === 7)
      ? a.ints.map((v) => toNum(v as Int64Like))
      : undefined;
  }

  float(name: string, dflt: number): number {
    const a = this.byName.get(name);
    return a && a.f != null ? a.f : dflt;
  }

  floats(name: string): number[] | undefined {
    const a = this.byName.get(name);
    return a?.floats && a.floats.length > 0 ? [...a.floats] : undefined;
  }

  string(name: string, dflt: string): string {
    const a = this.byName.get(name);
    return a?.s && a.s.length > 0 ? new TextDecoder().decode(a.s) : dflt;
  }

  tensor(name: string): pb.ITensorProto | undefined {
    return this.byName.get(name)?.t ?? undefined;
  }

  /** Every attribute name (for rules that refuse attributes they do not know). */
  names(): string[] {
    return [...this.byName.keys()];
  }
}
