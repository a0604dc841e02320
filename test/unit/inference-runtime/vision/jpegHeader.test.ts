import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { InvalidInput } from '../../../../inference-runtime/core/errors.js';
import { decodeImage } from '../../../../inference-runtime/vision/decode.js';
import { readJpegHeader } from '../../../../inference-runtime/vision/jpegHeader.js';
import { defaultVisionLimits } from '../../../../inference-runtime/vision/limits.js';
import { rejection } from './imageFixtures.js';

/** What the decode's checks read of a header, orientation 1 and none being the same. */
interface Seen {
  format: string | undefined;
  width: number | undefined;
  height: number | undefined;
  channels: number | undefined;
  isProgressive: boolean | undefined;
  space: string | undefined;
  orientation: number;
}

async function libvips(bytes: Uint8Array): Promise<Seen | undefined> {
  try {
    const m = await sharp(bytes, { limitInputPixels: false }).metadata();
    return { format: m.format, width: m.width, height: m.height, channels: m.channels, isProgressive: m.isProgressive, space: m.space, orientation: m.orientation ?? 1 };
  } catch {
    return undefined;
  }
}

function ours(bytes: Uint8Array): Seen | undefined {
  const h = readJpegHeader(bytes);
  return h && { format: h.format, width: h.width, height: h.height, channels: h.channels, isProgressive: h.isProgressive, space: h.space, orientation: h.orientation ?? 1 };
}

/** An Exif APP1 segment holding one IFD with `entries` (tag, type, count, value), in either byte order. */
function exifSegment(entries: Array<[number, number, number, number]>, little: boolean): Buffer {
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
function withSegment(jpeg: Buffer, segment: Buffer): Buffer {
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

const facePhotos = path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');

async function fixtures(): Promise<Array<[string, Buffer]>> {
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
  for (let i = 1; i <= 6; i++) list.push([`face-api sample${i}.jpg`, readFileSync(path.join(facePhotos, `sample${i}.jpg`))]);
  return list;
}

describe('JPEG header', () => {
  it('reads what libvips reads of baseline, progressive, greyscale, CMYK, oriented and camera JPEGs', async () => {
    for (const [name, bytes] of await fixtures()) {
      const read = ours(bytes);
      expect(read, name).to.not.equal(undefined);
      expect(read, name).to.deep.equal(await libvips(bytes));
    }
  });

  it('leaves to libvips what it is not sure of: other formats, a second Exif block, an orientation out of range, 12-bit and lossless frames, a header of thousands of segments or of fill bytes', async () => {
    const plain = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).jpeg().toBuffer();
    const sof = plain.indexOf(Buffer.from([0xff, 0xc0]));
    const twelveBit = Buffer.from(plain);
    twelveBit[sof + 4] = 12;
    const lossless = Buffer.from(plain);
    lossless[sof + 1] = 0xc3;
    for (const bytes of [
      await sharp(plain).png().toBuffer(),
      await sharp(plain).webp().toBuffer(),
      withSegment(withSegment(plain, exifSegment([[0x0112, 3, 1, 6]], true)), exifSegment([[0x0112, 3, 1, 1]], true)),
      withSegment(plain, exifSegment([[0x0112, 3, 1, 9]], true)),
      withSegment(plain, exifSegment([[0x0112, 4, 1, 6]], true)),
      twelveBit,
      lossless,
      withSegment(plain, Buffer.concat(Array.from({ length: 5000 }, () => Buffer.from([0xff, 0xfe, 0x00, 0x02])))),
      withSegment(plain, Buffer.alloc(100_000, 0xff)),
      plain.subarray(0, sof + 5),
    ]) {
      expect(readJpegHeader(bytes)).to.equal(undefined);
    }
  });

  it('agrees with libvips on damaged and truncated headers, or leaves them to it; where libvips refuses a header it reads, the decode answers 400', async () => {
    const files = (await fixtures()).map(([, bytes]) => bytes);
    const edit = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: files.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 4 }), fc.option(fc.nat()), async (which, edits, cut) => {
        const file = Buffer.from(files[which]);
        // Damage lands in the header (everything before the first scan), where the reader works.
        const header = file.indexOf(Buffer.from([0xff, 0xda])) + 4;
        for (const { at, value } of edits) file[at % header] = value;
        const bytes = cut === null ? file : file.subarray(0, cut % (header + 64));
        const read = ours(bytes);
        if (read === undefined) return;
        const seen = await libvips(bytes);
        // libvips' header read also checks the tables (Huffman, quantisation) this reader skips; the decode
        // meets the same damage.
        if (seen === undefined) expect(await rejection(decodeImage(bytes, defaultVisionLimits))).to.be.instanceOf(InvalidInput);
        else expect(read).to.deep.equal(seen);
      }),
      { numRuns: 600 },
    );
  });

  it('never throws on random bytes after a JPEG signature', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (tail) => {
        readJpegHeader(Buffer.concat([Buffer.from([0xff, 0xd8]), tail]));
      }),
      { numRuns: 2000 },
    );
  });
});
