import { crc32 } from 'node:zlib';

/** The pixel format a header-only PNG claims. */
export interface PngHeaderFormat {
  /** Bits per sample (default 8). */
  bitDepth?: 8 | 16;
  /** PNG colour type: 0 grey, 2 RGB (default), 4 grey + alpha, 6 RGBA. */
  colourType?: 0 | 2 | 4 | 6;
  /** Adam7 interlacing (default none). */
  interlaced?: boolean;
}

/** A PNG that is only a header claiming `width` x `height` pixels: what a decompression bomb looks like to a reader. */
export function pngHeaderOnly(width: number, height: number, format: PngHeaderFormat = {}): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = format.bitDepth ?? 8;
  ihdr[9] = format.colourType ?? 2;
  ihdr[12] = format.interlaced ? 1 : 0;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])), chunk('IEND', Buffer.alloc(0))]);
}

/** The error `p` rejects with; fails the test when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
