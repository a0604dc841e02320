/**
 * Accumulates ONNX nodes and initializers with unique value names. Small int64/float constants
 * (axes, shapes, pads) are shared by content so a graph with a hundred convolutions has one `[0,3,1,2]`.
 */
import { type OnnxAttributeValue, OnnxDataType, type OnnxNode, type OnnxTensor } from './onnxProto.js';

export type Attrs = Record<string, OnnxAttributeValue>;

export const attr = {
  int: (value: number): OnnxAttributeValue => ({ kind: 'int', value }),
  ints: (value: number[]): OnnxAttributeValue => ({ kind: 'ints', value }),
  float: (value: number): OnnxAttributeValue => ({ kind: 'float', value }),
  string: (value: string): OnnxAttributeValue => ({ kind: 'string', value }),
};

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly names = new Set<string>();
  private readonly shared = new Map<string, string>();

  /** Reserves a value name; a suffix keeps it unique. */
  unique(base: string): string {
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}__${k}`;
    this.names.add(name);
    return name;
  }

  node(opType: string, inputs: string[], hint: string, attributes: Attrs = {}, outputCount = 1): string[] {
    const outputs = Array.from({ length: outputCount }, (_, k) => this.unique(k === 0 ? hint : `${hint}:${k}`));
    this.nodes.push({ opType, name: this.unique(`${hint}/${opType}`), inputs, outputs, attributes });
    return outputs;
  }

  /** A node writing to a name reserved beforehand with `unique` (graph outputs keep their TF names). */
  nodeTo(opType: string, inputs: string[], output: string, attributes: Attrs = {}): void {
    this.nodes.push({ opType, name: this.unique(`${output}/${opType}`), inputs, outputs: [output], attributes });
  }

  /** One-output node. */
  op(opType: string, inputs: string[], hint: string, attributes: Attrs = {}): string {
    return this.node(opType, inputs, hint, attributes)[0];
  }

  initializer(hint: string, dataType: OnnxDataType, dims: number[], data: ArrayBufferView): string {
    const name = this.unique(hint);
    // Copy: the caller's buffer may be a view into a larger weight file that it keeps mutating.
    this.initializers.push({ name, dataType, dims: [...dims], raw: bytesOf(data).slice() });
    return name;
  }

  int64(values: number[], dims: number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    let name = this.shared.get(key);
    if (!name) {
      name = this.initializer(`const_i64_${values.join('_').slice(0, 40) || 'scalar'}`, OnnxDataType.INT64, dims, BigInt64Array.from(values, (v) => BigInt(v)));
      this.shared.set(key, name);
    }
    return name;
  }

  float(values: number[], dims: number[] = [values.length]): string {
    const key = `f32:${dims.join('x')}:${values.join(',')}`;
    let name = this.shared.get(key);
    if (!name) {
      name = this.initializer(`const_f32_${values.join('_').slice(0, 40) || 'scalar'}`, OnnxDataType.FLOAT, dims, Float32Array.from(values));
      this.shared.set(key, name);
    }
    return name;
  }
}
