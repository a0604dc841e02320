/** The recogniser's framing: a 4-byte big-endian length, then that many bytes. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export function frame(body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** Collects stdout chunks into whole frames, whatever the chunk boundaries. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.buffered.length >= 4) {
      const n = this.buffered.readUInt32BE(0);
      if (n > MAX_FRAME_BYTES) throw new Error(`a frame of ${n} bytes exceeds ${MAX_FRAME_BYTES}`);
      if (this.buffered.length < 4 + n) break;
      out.push(this.buffered.subarray(4, 4 + n));
      this.buffered = this.buffered.subarray(4 + n);
    }
    return out;
  }
}
