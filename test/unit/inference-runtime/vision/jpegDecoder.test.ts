import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { buildAddon, NATIVE_SOURCES } from '../../../../deploy/nativeAddons.js';
import { DomainError } from '../../../../inference-runtime/core/errors.js';
import { decodeImage, type DecodedImage } from '../../../../inference-runtime/vision/decode.js';
import { loadJpegDecoder, type JpegDecoder } from '../../../../inference-runtime/vision/jpegDecoder.js';
import { defaultVisionLimits } from '../../../../inference-runtime/vision/limits.js';
import { sample, singleFace640x480 } from '../../../helpers/samplePhotos.js';
import { jpegFixtures } from './imageFixtures.js';

/** libvips' reading of a JPEG as stored: sRGB, no profile applied, no rotation, failing on any warning. */
async function libvipsPixels(bytes: Uint8Array): Promise<Buffer> {
  return sharp(bytes, { failOn: 'warning', ignoreIcc: true }).toColourspace('srgb').removeAlpha().raw().toBuffer();
}

/** Textured JPEGs (a camera photo's crop) of the kinds encoders write: subsamplings, odd sizes, progressive, greyscale. */
async function texturedJpegs(): Promise<Array<[string, Buffer]>> {
  const photo = sample(1);
  const crop = (width: number, height: number) => sharp(photo).extract({ left: 1200, top: 80, width, height });
  const list: Array<[string, Buffer]> = [['the flagship photo (640x480, 4:2:0, quality 90)', await singleFace640x480()]];
  for (const chromaSubsampling of ['4:4:4', '4:2:0']) {
    for (const [width, height] of [[1, 1], [17, 13], [255, 129], [640, 480]] as const) {
      list.push([`${width}x${height} ${chromaSubsampling}`, await crop(width, height).jpeg({ quality: 75, chromaSubsampling }).toBuffer()]);
      list.push([`${width}x${height} ${chromaSubsampling} progressive`, await crop(width, height).jpeg({ quality: 95, chromaSubsampling, progressive: true }).toBuffer()]);
    }
  }
  list.push(['greyscale 301x199', await crop(301, 199).toColourspace('b-w').jpeg().toBuffer()]);
  list.push(['greyscale progressive 64x64', await crop(64, 64).toColourspace('b-w').jpeg({ progressive: true }).toBuffer()]);
  list.push(['libjpeg defaults without trellis quantisation', await crop(200, 150).jpeg({ mozjpeg: false, trellisQuantisation: false, optimiseCoding: false }).toBuffer()]);
  return list;
}

function compilerMissing(): boolean {
  return spawnSync(process.env.CC || 'cc', ['--version']).status !== 0;
}

/** Counts what decodeImage hands the decoder. */
function counting(decoder: JpegDecoder): JpegDecoder & { calls: number } {
  const counted = { ...decoder, calls: 0, decode: (...args: Parameters<JpegDecoder['decode']>) => (counted.calls++, decoder.decode(...args)) };
  return counted;
}

describe('JPEG decode by libjpeg-turbo (jpegDecode addon)', function () {
  let dir: string;
  let native: JpegDecoder;
  const libvipsOnly = loadJpegDecoder(path.join(tmpdir(), 'no-such-dir', 'jpegDecode.node'));

  before(function () {
    // CI installs a C compiler and libjpeg62-turbo-dev (.ci/run); a build failure fails the suite.
    if (compilerMissing()) this.skip();
    dir = mkdtempSync(path.join(tmpdir(), 'mloffload-jpeg-'));
    const file = path.join(dir, 'jpegDecode.node');
    buildAddon(path.join(NATIVE_SOURCES, 'jpegDecode.c'), file);
    native = loadJpegDecoder(file);
    expect(native.reason).to.equal(undefined);
    expect(native.available).to.equal(true);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("decodes baseline, progressive and greyscale JPEGs of every subsampling and size to libvips' pixels, bit for bit", async () => {
    const small = (await jpegFixtures()).filter(([name]) => name !== 'CMYK');
    for (const [name, bytes] of [...(await texturedJpegs()), ...small]) {
      const { width, height } = await sharp(bytes).metadata();
      const pixels = await native.decode(bytes, width!, height!);
      expect(pixels, name).to.be.instanceOf(Uint8Array);
      expect(Buffer.compare(Buffer.from(pixels as Uint8Array), await libvipsPixels(bytes)), name).to.equal(0);
    }
  });

  it('leaves CMYK, 12-bit and arithmetic-coded frames, and any size but the one given, to libvips', async () => {
    const plain = await sharp(sample(1)).extract({ left: 0, top: 0, width: 32, height: 24 }).jpeg().toBuffer();
    const sof = plain.indexOf(Buffer.from([0xff, 0xc0]));
    const twelveBit = Buffer.from(plain);
    twelveBit[sof + 4] = 12;
    const cmyk = await sharp(plain).toColourspace('cmyk').jpeg().toBuffer();
    expect(await native.decode(cmyk, 32, 24)).to.equal('unsupported');
    expect(await native.decode(twelveBit, 32, 24)).to.not.be.instanceOf(Uint8Array);
    expect(await native.decode(plain, 33, 24)).to.equal('unsupported');
    expect(await native.decode(plain, 32, 23)).to.equal('unsupported');
    expect(await libvipsOnly.decode(plain, 32, 24)).to.equal('unsupported');
    expect(libvipsOnly.available).to.equal(false);
    expect(libvipsOnly.reason).to.match(/not built/);
  });

  it('is what decodeImage uses for upright JPEGs within the working size, to the same pixels; oriented, CMYK, larger and PNG images go to libvips', async () => {
    const counted = counting(native);
    const decode = (bytes: Buffer, decoder: JpegDecoder): Promise<DecodedImage> => decodeImage(bytes, defaultVisionLimits, undefined, decoder);
    const flagship = await singleFace640x480();
    const ours = await decode(flagship, counted);
    expect(counted.calls).to.equal(1);
    const theirs = await decode(flagship, libvipsOnly);
    expect(Buffer.compare(Buffer.from(ours.pixels.data), Buffer.from(theirs.pixels.data))).to.equal(0);
    expect([ours.width, ours.height, ours.scaleX, ours.scaleY, ours.format]).to.deep.equal([theirs.width, theirs.height, theirs.scaleX, theirs.scaleY, theirs.format]);

    const others = [
      await sharp(flagship).withMetadata({ orientation: 6 }).jpeg().toBuffer(),
      await sharp(flagship).toColourspace('cmyk').jpeg().toBuffer(),
      sample(2),
      await sharp(flagship).png().toBuffer(),
    ];
    for (const bytes of others) await decode(bytes, counted);
    expect(counted.calls).to.equal(1);
  });

  it("answers damaged and truncated JPEGs with libvips' pixels or a 4xx; 400 too for damage libvips lets through", async () => {
    const files = [
      await sharp(sample(1)).extract({ left: 1200, top: 80, width: 48, height: 40 }).jpeg({ quality: 80 }).toBuffer(),
      await sharp(sample(1)).extract({ left: 1200, top: 80, width: 48, height: 40 }).jpeg({ quality: 80, progressive: true }).toBuffer(),
      await sharp(sample(1)).extract({ left: 1200, top: 80, width: 33, height: 17 }).toColourspace('b-w').jpeg().toBuffer(),
    ];
    const edit = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });
    const outcome = async (bytes: Buffer, decoder: JpegDecoder): Promise<Buffer | 'refused'> => {
      try {
        return Buffer.from((await decodeImage(bytes, defaultVisionLimits, undefined, decoder)).pixels.data);
      } catch (error) {
        // 400, or 413 when the damage is in the frame header's size and makes the image too large to decode.
        expect(error).to.be.instanceOf(DomainError);
        expect([400, 413]).to.include((error as DomainError).status);
        return 'refused';
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: files.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 4 }), fc.option(fc.nat()), async (which, edits, cut) => {
        const file = Buffer.from(files[which]);
        // Anywhere in the file, the entropy-coded scans included.
        for (const { at, value } of edits) file[at % file.length] = value;
        const bytes = cut === null ? file : file.subarray(0, cut % file.length);
        const ours = await outcome(bytes, native);
        // libjpeg-turbo warns of some damage (a bad Huffman code in the last rows) that libvips' decode,
        // failing on warnings too, lets through: refused here, decoded there (8 of 4,000 runs).
        if (ours !== 'refused') expect(ours).to.deep.equal(await outcome(bytes, libvipsOnly));
      }),
      { numRuns: 800 },
    );
  });
});
