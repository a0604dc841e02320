import { expect } from 'chai';
import fc from 'fast-check';
import sharp from 'sharp';
import { DomainError } from '../../../../inference-runtime/core/errors.js';
import { decodeImage } from '../../../../inference-runtime/vision/decode.js';
import { readJpegHeader } from '../../../../inference-runtime/vision/jpegHeader.js';
import { defaultVisionLimits } from '../../../../inference-runtime/vision/limits.js';
import { exifSegment, jpegFixtures as fixtures, rejection, withSegment } from './imageFixtures.js';

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
        // meets the same damage (or, when the damaged frame declares an image too large to decode, is refused
        // before it: 413).
        if (seen === undefined) {
          const error = await rejection(decodeImage(bytes, defaultVisionLimits));
          expect(error).to.be.instanceOf(DomainError);
          expect([400, 413]).to.include((error as DomainError).status);
        } else expect(read).to.deep.equal(seen);
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
