/**
 * Reading a tfjs graph model: model.json (GraphDef topology, weights manifest, signature) and its weight
 * shards, with quantized weights dequantized to float32. The result is what both the compiler and the
 * verifier's tfjs run start from, so the two always see the same bytes.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelFormatError } from './errors.js';

export interface TfAttrValue {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  shape?: { dim?: { size?: string | number }[]; unknownRank?: boolean };
  list?: { s?: string[]; i?: (string | number)[]; f?: number[]; b?: boolean[]; type?: string[] };
}

export interface TfNodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttrValue>;
  device?: string;
}

export type WeightDtype = 'float32' | 'int32' | 'bool' | 'string' | 'complex64';

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: WeightDtype;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number; original_dtype?: string };
}

export interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}

interface SignatureTensorJson {
  name: string;
  dtype?: string;
  tensorShape?: { dim?: { size?: string | number }[] };
}

export interface SignatureJson {
  inputs?: Record<string, SignatureTensorJson>;
  outputs?: Record<string, SignatureTensorJson>;
}

export interface TfjsModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: { node: TfNodeDef[]; library?: { function?: unknown[] }; versions?: { producer?: number } };
  weightsManifest: WeightGroup[];
  signature?: SignatureJson;
  userDefinedMetadata?: { signature?: SignatureJson } & Record<string, unknown>;
}

export type ConstDtype = 'float32' | 'int32' | 'bool';

/** A constant with its values on the host. Booleans are stored as 0/1 bytes. */
export interface ConstTensor {
  dtype: ConstDtype;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

/** A tfjs graph model read from disk: its JSON, all shard bytes in manifest order, and a digest of both. */
export interface TfjsModelSource {
  modelJsonPath: string;
  json: TfjsModelJson;
  /** Concatenation of every group's shards in manifest order (what tfjs calls `weightData`). */
  weightData: Uint8Array;
  /** sha256 over model.json and every shard, in manifest order. */
  sourceDigest: string;
}

export async function readTfjsModel(modelJsonPath: string): Promise<TfjsModelSource> {
  const jsonBytes = await readFile(modelJsonPath);
  let json: TfjsModelJson;
  try {
    json = JSON.parse(jsonBytes.toString('utf8')) as TfjsModelJson;
  } catch (err) {
    throw new ModelFormatError(`${modelJsonPath} is not JSON: ${(err as Error).message}`);
  }
  if (!json.modelTopology || !Array.isArray(json.modelTopology.node)) {
    throw new ModelFormatError(`${modelJsonPath} has no graph topology (is it a tfjs layers model?)`);
  }
  const hash = createHash('sha256').update(jsonBytes);
  const shards: Uint8Array[] = [];
  const dir = path.dirname(modelJsonPath);
  for (const group of json.weightsManifest ?? []) {
    for (const p of group.paths) {
      const bytes = await readFile(path.join(dir, p));
      hash.update(bytes);
      shards.push(bytes);
    }
  }
  return { modelJsonPath, json, weightData: concatBytes(shards), sourceDigest: hash.digest('hex') };
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Decodes every weight of the manifest into host constants, dequantizing uint8/uint16/float16 to float32. */
export function decodeWeights(groups: WeightGroup[], weightData: Uint8Array): Map<string, ConstTensor> {
  const out = new Map<string, ConstTensor>();
  const view = new DataView(weightData.buffer, weightData.byteOffset, weightData.byteLength);
  let offset = 0;
  const need = (bytes: number, name: string): void => {
    if (offset + bytes > weightData.length) {
      throw new ModelFormatError(`weight ${name} runs past the end of the weight shards (${weightData.length} bytes)`);
    }
  };
  for (const spec of groups.flatMap((g) => g.weights)) {
    const n = elementCount(spec.shape);
    if (spec.dtype === 'string') {
      // Strings are length-prefixed; skip them (no translated op consumes string constants).
      for (let k = 0; k < n; k++) {
        need(4, spec.name);
        offset += 4 + view.getUint32(offset, true);
      }
      continue;
    }
    if (spec.dtype === 'complex64') throw new ModelFormatError(`weight ${spec.name}: complex64 is not supported`);
    const q = spec.quantization;
    if (q) {
      const width = q.dtype === 'uint8' ? 1 : 2;
      need(n * width, spec.name);
      const values = new Float32Array(n);
      if (q.dtype === 'float16') {
        for (let k = 0; k < n; k++) values[k] = float16ToFloat32(view.getUint16(offset + 2 * k, true));
      } else {
        const scale = q.scale ?? 1;
        const min = q.min ?? 0;
        for (let k = 0; k < n; k++) {
          const raw = q.dtype === 'uint8' ? view.getUint8(offset + k) : view.getUint16(offset + 2 * k, true);
          values[k] = raw * scale + min;
        }
      }
      offset += n * width;
      if (spec.dtype === 'int32') {
        out.set(spec.name, { dtype: 'int32', shape: spec.shape, data: Int32Array.from(values, Math.round) });
      } else if (spec.dtype === 'bool') {
        out.set(spec.name, { dtype: 'bool', shape: spec.shape, data: Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0)) });
      } else {
        out.set(spec.name, { dtype: 'float32', shape: spec.shape, data: values });
      }
      continue;
    }
    if (spec.dtype === 'bool') {
      need(n, spec.name);
      out.set(spec.name, { dtype: 'bool', shape: spec.shape, data: weightData.slice(offset, offset + n) });
      offset += n;
      continue;
    }
    need(4 * n, spec.name);
    const copy = weightData.slice(offset, offset + 4 * n).buffer;
    out.set(spec.name, {
      dtype: spec.dtype,
      shape: spec.shape,
      data: spec.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy),
    });
    offset += 4 * n;
  }
  return out;
}

/** `name:1` -> { node: 'name', index: 1 }; control inputs (`^name`) are returned with index -1. */
export function parseTensorRef(ref: string): { node: string; index: number } {
  if (ref.startsWith('^')) return { node: ref.slice(1), index: -1 };
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? { node: m[1], index: Number(m[2]) } : { node: ref, index: 0 };
}

export function signatureOf(json: TfjsModelJson): SignatureJson | undefined {
  return json.signature ?? json.userDefinedMetadata?.signature;
}

/** Static shape of a signature tensor or placeholder; -1 for unknown sizes. */
export function shapeOfSignature(t: SignatureTensorJson | undefined): number[] | undefined {
  return t?.tensorShape?.dim?.map((d) => Number(d.size ?? -1));
}
