/** Builds small tfjs graph models (model.json contents + weight bytes) in memory for compiler tests. */
import type { TfAttrValue, TfjsModelJson, TfNodeDef, WeightSpec } from '../../../../inference-runtime/compiler/tfjsModel.js';

export const a = {
  s: (v: string): TfAttrValue => ({ s: Buffer.from(v).toString('base64') }),
  strs: (v: string[]): TfAttrValue => ({ list: { s: v.map((x) => Buffer.from(x).toString('base64')) } }),
  i: (v: number): TfAttrValue => ({ i: String(v) }),
  ints: (v: number[]): TfAttrValue => ({ list: { i: v.map(String) } }),
  f: (v: number): TfAttrValue => ({ f: v }),
  b: (v: boolean): TfAttrValue => ({ b: v }),
  type: (v: string): TfAttrValue => ({ type: v }),
};

export type Quantization = 'uint8' | 'uint16' | 'float16';

function toFloat16(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign | Math.round((mant | 0x800000) / 2 ** (14 - exp)); // subnormal
  if (exp >= 31) return sign | 0x7c00;
  const rounded = Math.round(mant / 8192);
  return rounded === 1024 ? sign | ((exp + 1) << 10) : sign | (exp << 10) | rounded;
}

/** Deterministic pseudo-random values in [-scale, scale). */
export function values(n: number, seed: number, scale = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

export class GraphFixture {
  private nodes: TfNodeDef[] = [];
  private weights: WeightSpec[] = [];
  private chunks: Uint8Array[] = [];
  private signatureInputs: Record<string, { name: string; dtype: string; tensorShape: { dim: { size: string }[] } }> = {};

  input(name: string, shape: number[], dtype = 'DT_FLOAT'): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: a.type(dtype), shape: { shape: { dim: shape.map((d) => ({ size: String(d) })) } } } });
    this.signatureInputs[`${name}:0`] = { name: `${name}:0`, dtype, tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } };
    return name;
  }

  const(name: string, shape: number[], data: number[], dtype: 'float32' | 'int32' = 'float32', quantization?: Quantization): string {
    this.nodes.push({ name, op: 'Const', attr: { dtype: a.type(dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT') } });
    if (!quantization) {
      const bytes = dtype === 'int32' ? new Uint8Array(Int32Array.from(data).buffer) : new Uint8Array(Float32Array.from(data).buffer);
      this.weights.push({ name, shape, dtype });
      this.chunks.push(bytes);
      return name;
    }
    if (quantization === 'float16') {
      this.weights.push({ name, shape, dtype, quantization: { dtype: 'float16' } });
      this.chunks.push(new Uint8Array(Uint16Array.from(data, toFloat16).buffer));
      return name;
    }
    const levels = quantization === 'uint8' ? 255 : 65535;
    const min = Math.min(...data);
    const scale = (Math.max(...data) - min) / levels || 1;
    const q = data.map((v) => Math.round((v - min) / scale));
    this.weights.push({ name, shape, dtype, quantization: { dtype: quantization, scale, min } });
    this.chunks.push(quantization === 'uint8' ? Uint8Array.from(q) : new Uint8Array(Uint16Array.from(q).buffer));
    return name;
  }

  /** A float constant of random values. */
  weight(name: string, shape: number[], seed: number, quantization?: Quantization): string {
    return this.const(name, shape, values(shape.reduce((n, d) => n * d, 1), seed, 0.5), 'float32', quantization);
  }

  ints(name: string, data: number[], shape: number[] = [data.length]): string {
    return this.const(name, shape, data, 'int32');
  }

  node(name: string, op: string, input: string[], attr: Record<string, TfAttrValue> = {}): string {
    this.nodes.push({ name, op, input, attr: { T: a.type('DT_FLOAT'), ...attr } });
    return name;
  }

  build(outputs?: string[]): { json: TfjsModelJson; weightData: Uint8Array } {
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const weightData = new Uint8Array(total);
    let offset = 0;
    for (const c of this.chunks) {
      weightData.set(c, offset);
      offset += c.length;
    }
    const json: TfjsModelJson = {
      format: 'graph-model',
      modelTopology: { node: this.nodes, library: {}, versions: {} },
      weightsManifest: [{ paths: ['weights.bin'], weights: this.weights }],
      ...(outputs
        ? {
            signature: {
              inputs: this.signatureInputs,
              outputs: Object.fromEntries(outputs.map((o) => [o, { name: o.includes(':') ? o : `${o}:0` }])),
            },
          }
        : {}),
    };
    return { json, weightData };
  }
}
