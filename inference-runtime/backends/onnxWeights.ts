import type { EngineMemory } from '../core/backend.js';

/**
 * The weights (initializers) an ONNX model carries: how many, and their bytes. onnxruntime does not report
 * its memory, so the backend counts what it gave the engine, the way tfjs counts a model's weight tensors.
 *
 * Read from the protobuf wire format directly: ModelProto.graph (field 7) -> GraphProto.initializer (field 5)
 * -> TensorProto's data fields. A full decode would load a protobuf library into every inference thread and
 * copy every weight into the JS heap, which then stays grown for as long as the thread lives.
 */

const enum Wire {
  Varint = 0,
  Fixed64 = 1,
  Bytes = 2,
  Fixed32 = 5,
}

/** TensorProto data fields and the bytes one element takes (as onnxruntime holds it). */
const dataFields: Record<number, { elementBytes: number; varint: boolean }> = {
  4: { elementBytes: 4, varint: false }, // float_data (packed fixed32)
  5: { elementBytes: 4, varint: true }, // int32_data
  7: { elementBytes: 8, varint: true }, // int64_data
  10: { elementBytes: 8, varint: false }, // double_data (packed fixed64)
};
const RAW_DATA = 9;

class Reader {
  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const b = this.bytes[this.pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
      if (scale > 2 ** 63) throw new RangeError('varint too long');
    }
  }

  /** Skips a field's value; returns the [start, end) of a length-delimited one. */
  field(wire: number): [number, number] {
    switch (wire) {
      case Wire.Varint:
        this.varint();
        return [this.pos, this.pos];
      case Wire.Fixed64:
        this.pos += 8;
        break;
      case Wire.Fixed32:
        this.pos += 4;
        break;
      case Wire.Bytes: {
        const length = this.varint();
        const start = this.pos;
        this.pos += length;
        if (this.pos > this.end) throw new RangeError('truncated field');
        return [start, this.pos];
      }
      default:
        throw new RangeError(`unsupported wire type ${wire}`);
    }
    if (this.pos > this.end) throw new RangeError('truncated field');
    return [this.pos, this.pos];
  }
}

/** Counts the varints in a packed run: one per byte without the continuation bit. */
function packedVarints(bytes: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) if (bytes[i] < 0x80) n++;
  return n;
}

function tensorBytes(bytes: Uint8Array, start: number, end: number): number {
  const r = new Reader(bytes, start, end);
  let raw = 0;
  let total = 0;
  while (r.pos < end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    const [from, to] = r.field(wire);
    if (field === RAW_DATA && wire === Wire.Bytes) {
      raw += to - from;
      continue;
    }
    const data = dataFields[field];
    if (!data) continue;
    // Packed runs hold fixed-width values back to back, or varints; an unpacked element is one value.
    if (wire !== Wire.Bytes) total += data.elementBytes;
    else total += data.varint ? data.elementBytes * packedVarints(bytes, from, to) : to - from;
  }
  // A tensor holds its values either as raw bytes or in the typed fields.
  return raw > 0 ? raw : total;
}

export function countInitializers(bytes: Uint8Array): EngineMemory {
  let numTensors = 0;
  let numBytes = 0;
  const model = new Reader(bytes, 0, bytes.length);
  while (model.pos < bytes.length) {
    const tag = model.varint();
    const [from, to] = model.field(tag & 7);
    if (tag !== ((7 << 3) | Wire.Bytes)) continue;
    const graph = new Reader(bytes, from, to);
    while (graph.pos < to) {
      const graphTag = graph.varint();
      const [start, end] = graph.field(graphTag & 7);
      if (graphTag !== ((5 << 3) | Wire.Bytes)) continue;
      numTensors++;
      numBytes += tensorBytes(bytes, start, end);
    }
  }
  return { numTensors, numBytes };
}
