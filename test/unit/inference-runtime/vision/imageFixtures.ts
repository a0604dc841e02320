import { crc32 } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { sample } from '../../../helpers/samplePhotos.js';

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

/** An Exif APP1 segment holding one IFD with `entries` (tag, type, count, value), in either byte order. */
export function exifSegment(entries: Array<[number, number, number, number]>, little: boolean): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 * entries.length + 4);
  const u16 = (v: number, at: number): number => (little ? tiff.writeUInt16LE(v, at) : tiff.writeUInt16BE(v, at));
  const u32 = (v: number, at: number): number => (little ? tiff.writeUInt32LE(v, at) : tiff.writeUInt32BE(v, at));
  tiff.write(little ? 'II' : 'MM', 0, 'latin1');
  u16(42, 2);
  u32(8, 4);
  u16(entries.length, 8);
  entries.forEach(([tag, type, count, value], i) => {
    u16(tag, 10 + 12 * i);
    u16(type, 12 + 12 * i);
    u32(count, 14 + 12 * i);
    u16(value, 18 + 12 * i);
  });
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(payload.length + 2);
  return Buffer.concat([Buffer.from([0xff, 0xe1]), length, payload]);
}

/** `jpeg` with `segment` inserted right after its SOI marker. */
export function withSegment(jpeg: Buffer, segment: Buffer): Buffer {
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

/** Small JPEGs of every kind the header reader meets (flat colour), and face-api's six camera photos. */
export async function jpegFixtures(): Promise<Array<[string, Buffer]>> {
  const base = (): Sharp => sharp({ create: { width: 40, height: 30, channels: 3, background: '#c08040' } });
  const plain = await base().jpeg().toBuffer();
  const list: Array<[string, Buffer]> = [
    ['baseline', plain],
    ['progressive', await base().jpeg({ progressive: true }).toBuffer()],
    ['greyscale', await base().toColourspace('b-w').jpeg().toBuffer()],
    ['CMYK', await base().toColourspace('cmyk').jpeg().toBuffer()],
    ['Exif without orientation, big-endian', withSegment(plain, exifSegment([[0x010f, 2, 1, 0]], false))],
    ['Exif orientation 8, big-endian', withSegment(plain, exifSegment([[0x0112, 3, 1, 8]], false))],
    ['Exif orientation 5 among other entries', withSegment(plain, exifSegment([[0x010f, 2, 1, 0], [0x0112, 3, 1, 5], [0x011a, 5, 1, 0]], true))],
  ];
  for (let o = 1; o <= 8; o++) list.push([`orientation ${o}`, await base().jpeg().withMetadata({ orientation: o }).toBuffer()]);
  for (let i = 1; i <= 6; i++) list.push([`face-api sample${i}.jpg`, sample(i)]);
  return list;
}
