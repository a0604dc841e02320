/**
 * The state of one translation: the ONNX graph being built, the translated value of every TF tensor, and
 * what the compiler knows about each value (logical TF shape, physical layout, host constant, batch axis).
 */
import { CompileError } from './errors.js';
import { GraphBuilder } from './graphBuilder.js';
import { OnnxDataType } from './onnxProto.js';
import { type ConstTensor, parseTensorRef, type TfNodeDef } from './tfjsModel.js';

export type ValueDtype = 'float32' | 'int32' | 'int64' | 'bool';

/**
 * Physical order of a rank-4 value. `nhwc`: as in TF. `nchw`: the data is stored transposed by NCHW_PERM.
 * Values of other ranks are always `nhwc` (meaning: physical order = logical order).
 */
export type Layout = 'nhwc' | 'nchw';

export interface Value {
  /** ONNX value name; empty for a host constant not yet written as an initializer. */
  name: string;
  dtype: ValueDtype;
  /** Logical (TF) shape, with the batch dimension at the size traced (1). */
  shape: number[];
  layout: Layout;
  /** Host values in logical order, when the value is a compile-time constant. */
  constant?: ConstTensor;
  /** Logical axis holding the batch, or null for values that do not depend on it (weights, shapes). */
  batchAxis: number | null;
}

export type OpTranslator = (node: TfNodeDef, ctx: TranslationContext) => Value[];

export const ONNX_TYPE: Record<ValueDtype, OnnxDataType> = {
  float32: OnnxDataType.FLOAT,
  int32: OnnxDataType.INT32,
  int64: OnnxDataType.INT64,
  bool: OnnxDataType.BOOL,
};

export class TranslationContext {
  readonly builder = new GraphBuilder();
  /** Why the batch dimension cannot be left dynamic (empty when it can). */
  readonly batchLosses: string[] = [];
  /** Multiply-accumulates of convolutions and matmuls for one sample, for FLOP figures. */
  macs = 0;
  private readonly values = new Map<string, Value[]>();
  private readonly materialized = new Map<ConstTensor, Map<Layout, string>>();
  /** Cache of layout conversions keyed by source value name, so each tensor is transposed at most once. */
  readonly converted = new Map<string, Value>();

  constructor(
    private readonly consts: Map<string, ConstTensor>,
    /** Whether batch-dependent shapes are emitted symbolically (first attempt) or as traced (fallback). */
    readonly dynamicBatch: boolean,
  ) {}

  define(nodeName: string, outputs: Value[]): void {
    this.values.set(nodeName, outputs);
  }

  has(nodeName: string): boolean {
    return this.values.has(nodeName) || this.consts.has(nodeName);
  }

  /** The translated value a `node[:k]` reference names. Consts become host-constant values. */
  ref(ref: string): Value {
    const { node, index } = parseTensorRef(ref);
    const outputs = this.values.get(node);
    if (outputs) {
      const v = outputs[index];
      if (!v) throw new CompileError(`${ref}: node ${node} has no output ${index}`);
      return v;
    }
    const c = this.consts.get(node);
    if (c) {
      const v = constantValue(c);
      this.values.set(node, [v]);
      return v;
    }
    throw new CompileError(`${ref} is used before it is defined`);
  }

  /** Data inputs of a node (control inputs dropped). */
  inputs(node: TfNodeDef): Value[] {
    return (node.input ?? []).filter((r) => !r.startsWith('^')).map((r) => this.ref(r));
  }

  input(node: TfNodeDef, k: number): Value {
    const refs = (node.input ?? []).filter((r) => !r.startsWith('^'));
    if (k >= refs.length) throw new CompileError(`${node.op} ${node.name} needs input ${k}, has ${refs.length}`);
    return this.ref(refs[k]);
  }

  /** An input that must be known at compile time (shapes, axes, paddings). */
  constInput(node: TfNodeDef, k: number, what: string): ConstTensor {
    const v = this.input(node, k);
    if (!v.constant) {
      throw new CompileError(`${node.op} ${node.name}: ${what} must be a constant, it is computed at run time`);
    }
    return v.constant;
  }

  constInts(node: TfNodeDef, k: number, what: string): number[] {
    return Array.from(this.constInput(node, k, what).data, Number);
  }

  /** The ONNX name of a value, writing host constants as initializers on first use. */
  name(v: Value): string {
    if (v.name) return v.name;
    const c = v.constant;
    if (!c) throw new CompileError('internal: value without a name or constant');
    let perLayout = this.materialized.get(c);
    if (!perLayout) {
      perLayout = new Map();
      this.materialized.set(c, perLayout);
    }
    let name = perLayout.get(v.layout);
    if (!name) {
      const data = v.layout === 'nchw' ? permuteConst(c, [0, 3, 1, 2]) : c;
      name = this.builder.initializer('const', ONNX_TYPE[c.dtype], physicalShape(v), data.data);
      perLayout.set(v.layout, name);
    }
    return name;
  }

  /** Emits a one-output op and describes its result. */
  emit(opType: string, inputs: Value[] | string[], hint: string, result: Omit<Value, 'name'>, attributes = {}): Value {
    const names = inputs.map((i) => (typeof i === 'string' ? i : this.name(i)));
    return { ...result, name: this.builder.op(opType, names, hint, attributes) };
  }

  loseBatch(node: TfNodeDef, reason: string): void {
    this.batchLosses.push(`${node.op} ${node.name}: ${reason}`);
  }
}

export function constantValue(c: ConstTensor): Value {
  return { name: '', dtype: c.dtype, shape: c.shape, layout: 'nhwc', constant: c, batchAxis: null };
}

/** Shape as stored: logical shape permuted for NCHW values. */
export function physicalShape(v: Pick<Value, 'shape' | 'layout'>): number[] {
  return v.layout === 'nchw' ? [0, 3, 1, 2].map((a) => v.shape[a]) : v.shape;
}

/** Transposes host data: output axis i is input axis perm[i]. */
export function permuteConst(c: ConstTensor, perm: number[]): ConstTensor {
  const shape = perm.map((a) => c.shape[a]);
  const rank = shape.length;
  const inStrides = stridesOf(c.shape);
  const out = new (c.data.constructor as new (n: number) => typeof c.data)(c.data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += idx[i] * inStrides[perm[i]];
    out[o] = c.data[src];
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < shape[i]) break;
      idx[i] = 0;
    }
  }
  return { dtype: c.dtype, shape, data: out };
}

export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Description of a result with the same type, shape, layout and batch axis as `v` (and no constant). */
export function like(v: Value, changes: Partial<Omit<Value, 'name'>> = {}): Omit<Value, 'name'> {
  return { dtype: v.dtype, shape: v.shape, layout: v.layout, batchAxis: v.batchAxis, ...changes };
}
