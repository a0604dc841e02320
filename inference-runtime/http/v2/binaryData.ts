import { InvalidInput } from '../../core/errors.js';
import { allocateData, type HostTensor } from '../../core/tensor.js';
import { V2_DATATYPES, type V2Datatype } from './datatypes.js';

/**
 * Tensor data in the binary tensor data extension: the raw little-endian elements in row-major order, or for
 * BYTES each element as a 4-byte little-endian length followed by that many bytes. The hosts this runtime
 * runs on (x86-64, arm64) are little-endian, so typed arrays read and write the wire order as is.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes one input's `bytes` (exactly its `binary_data_size`) into a tensor of `count` elements. */
export function tensorFromBinary(name: string, datatype: V2Datatype, shape: number[], count: number, bytes: Uint8Array): HostTensor {
  const rule = V2_DATATYPES[datatype];
  if (datatype === 'BYTES') return { dtype: rule.dtype, shape, data: bytesElements(name, count, bytes) };
  if (bytes.length !== count * rule.bytes) {
    throw new InvalidInput(
      `input '${name}': binary_data_size is ${bytes.length} bytes but shape [${shape.join(', ')}] of ${datatype} needs ${count * rule.bytes}`,
    );
  }
  // A copy into a fresh, aligned buffer of its own: the body's bytes may sit at any offset of a shared pool,
  // and a buffer of its own can move to an inference thread without another copy.
  const data = allocateData(rule.dtype, count) as Exclude<ReturnType<typeof allocateData>, string[]>;
  new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(bytes);
  if (datatype === 'BOOL') {
    const flags = data as Uint8Array;
    for (let i = 0; i < flags.length; i++) if (flags[i]! > 1) flags[i] = 1;
  }
  return { dtype: rule.dtype, shape, data };
}

function bytesElements(name: string, count: number, bytes: Uint8Array): string[] {
  // Every element takes at least its 4-byte length: a shape claiming more elements than that cannot fit.
  if (count * 4 > bytes.length) {
    throw new InvalidInput(`input '${name}': ${bytes.length} bytes of BYTES data cannot hold ${count} elements (4-byte length each)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<string>(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > bytes.length) throw new InvalidInput(`input '${name}': BYTES data ends inside the length of element ${i}`);
    const length = view.getUint32(offset, true);
    offset += 4;
    if (length > bytes.length - offset) {
      throw new InvalidInput(`input '${name}': BYTES element ${i} claims ${length} bytes but only ${bytes.length - offset} remain`);
    }
    try {
      out[i] = utf8.decode(bytes.subarray(offset, offset + length));
    } catch {
      throw new InvalidInput(`input '${name}': BYTES element ${i} is not UTF-8 text (the engines here take text elements)`);
    }
    offset += length;
  }
  if (offset !== bytes.length) {
    throw new InvalidInput(`input '${name}': ${bytes.length - offset} bytes remain after the ${count} BYTES elements its shape holds`);
  }
  return out;
}

/** A tensor's data as the extension writes it; numeric data is a view over the tensor's own buffer (no copy). */
export function binaryData(tensor: HostTensor): Uint8Array {
  const { data } = tensor;
  if (!Array.isArray(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const parts = data.map((s) => Buffer.from(s, 'utf8'));
  const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + 4 + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.writeUInt32LE(part.length, offset);
    part.copy(out, offset + 4);
    offset += 4 + part.length;
  }
  return out;
}
