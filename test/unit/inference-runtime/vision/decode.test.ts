import { expect } from 'chai';
import fc from 'fast-check';
import sharp, { type Sharp } from 'sharp';
import { InvalidInput, PayloadTooLarge, UnsupportedMediaType } from '../../../../inference-runtime/core/errors.js';
import { decodeImage, workingSize } from '../../../../inference-runtime/vision/decode.js';
import { defaultVisionLimits } from '../../../../inference-runtime/vision/limits.js';
import { pngHeaderOnly, rejection } from './imageFixtures.js';

const limits = defaultVisionLimits;

/** A 60x40 image: left half red, right half blue. */
async function halves(): Promise<Sharp> {
  const w = 60;
  const h = 40;
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(x < w / 2 ? [255, 0, 0] : [0, 0, 255], (y * w + x) * 3);
  return sharp(data, { raw: { width: w, height: h, channels: 3 } });
}

function pixel(img: { data: Uint8Array; width: number }, x: number, y: number): number[] {
  const o = (y * img.width + x) * 3;
  return [img.data[o], img.data[o + 1], img.data[o + 2]];
}

describe('image decoding', () => {
  it('decodes JPEG, PNG and WebP into upright sRGB pixels of the same size', async () => {
    for (const format of ['jpeg', 'png', 'webp'] as const) {
      const bytes = await (await halves()).toFormat(format).toBuffer();
      const img = await decodeImage(bytes, limits);
      expect(img.format).to.equal(format);
      expect([img.width, img.height, img.pixels.width, img.pixels.height]).to.deep.equal([60, 40, 60, 40]);
      expect(pixel(img.pixels, 5, 20)[0]).to.be.greaterThan(200);
      expect(pixel(img.pixels, 55, 20)[2]).to.be.greaterThan(200);
    }
  });

  it('honours EXIF orientation: pixels stored sideways with orientation 6 come back upright', async () => {
    // Rotate the stored pixels a quarter turn anticlockwise; orientation 6 tells viewers to turn them clockwise.
    const stored = await (await halves()).rotate(-90).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const meta = await sharp(stored).metadata();
    expect([meta.width, meta.height, meta.orientation]).to.deep.equal([40, 60, 6]);
    const img = await decodeImage(stored, limits);
    expect([img.width, img.height]).to.deep.equal([60, 40]);
    expect(pixel(img.pixels, 5, 20)[0]).to.be.greaterThan(200);
    expect(pixel(img.pixels, 55, 20)[2]).to.be.greaterThan(200);
  });

  it('turns greyscale, alpha and CMYK inputs into 3-channel sRGB (alpha flattened onto white)', async () => {
    const grey = await (await halves()).toColourspace('b-w').png().toBuffer();
    expect((await sharp(grey).metadata()).channels).to.equal(1);
    const g = await decodeImage(grey, limits);
    expect(g.pixels.data.length).to.equal(60 * 40 * 3);
    const [r, gg, b] = pixel(g.pixels, 5, 20);
    expect(r).to.equal(gg).and.equal(b);

    const transparent = await sharp({ create: { width: 32, height: 32, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    expect(pixel((await decodeImage(transparent, limits)).pixels, 16, 16)).to.deep.equal([255, 255, 255]);

    const cmyk = await (await halves()).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).to.equal('cmyk');
    const c = await decodeImage(cmyk, limits);
    expect(pixel(c.pixels, 5, 20)[0]).to.be.greaterThan(180);
    expect(pixel(c.pixels, 5, 20)[2]).to.be.lessThan(90);
  });

  it('reads RGB pixels as stored, like the models\' reference decoders: an embedded ICC profile is not applied', async () => {
    // Stored as Display P3: a colour-managed decode would turn the values back towards sRGB.
    const source = Buffer.alloc(64 * 64 * 3);
    for (let i = 0; i < source.length; i += 3) source.set([200, 60, 40], i);
    const p3 = await sharp(source, { raw: { width: 64, height: 64, channels: 3 } }).withIccProfile('p3').jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(p3).metadata()).icc).to.be.instanceOf(Buffer);
    const stored = pixel({ data: await sharp(p3, { ignoreIcc: true }).raw().toBuffer(), width: 64 }, 32, 32);
    const managed = pixel({ data: await sharp(p3).raw().toBuffer(), width: 64 }, 32, 32);
    expect(Math.max(...stored.map((v, i) => Math.abs(v - managed[i])))).to.be.greaterThan(5);
    const decoded = pixel((await decodeImage(p3, limits)).pixels, 32, 32);
    decoded.forEach((v, i) => expect(v).to.be.closeTo(stored[i], 1));
  });

  it('shrinks large images to the working size and reports the scale back to image pixels', async () => {
    const big = await sharp({ create: { width: 3000, height: 1500, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    const img = await decodeImage(big, limits);
    expect([img.width, img.height]).to.deep.equal([3000, 1500]);
    expect(Math.max(img.pixels.width, img.pixels.height)).to.equal(limits.workingMaxSide);
    expect(img.pixels.width * img.scaleX).to.be.closeTo(3000, 1e-6);
    expect(img.pixels.height * img.scaleY).to.be.closeTo(1500, 1e-6);
  });

  it('sizes the working copy within the limit, aspect kept, and JPEGs where libjpeg can scale the DCT', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20000 }), fc.integer({ min: 1, max: 20000 }), fc.constantFrom('jpeg', 'png', 'webp'), (w, h, format) => {
        const max = limits.workingMaxSide;
        const [tw, th] = workingSize(w, h, format, max);
        const long = Math.max(w, h);
        if (long <= max) {
          expect([tw, th]).to.deep.equal([w, h]);
          return;
        }
        expect(Math.max(tw, th)).to.be.at.most(max);
        // Never below 2/3 of the limit (a 2x JPEG shrunk 3x), so faces keep their pixels.
        expect(Math.max(tw, th)).to.be.at.least(Math.floor((2 / 3) * max) - 1);
        // Each side rounds down by less than a pixel.
        if (Math.min(tw, th) >= 8) expect(tw / th).to.be.closeTo(w / h, (w / h) * (2 / Math.min(tw, th)));
        if (format === 'jpeg') {
          // sharp asks libjpeg for 1/d scale when both axes shrink by at least d + 1 (d = 2, 4, 8); a side
          // already narrower than the shrink stays 1 px and cannot.
          const shrink = Math.min(w / tw, h / th);
          if (shrink >= 2 && Math.min(tw, th) > 1) expect([2, 4, 8].some((d) => shrink >= d + 1)).to.equal(true);
        }
      }),
    );
  });

  it('decodes a 1920 px group photo to 640 px through libjpeg scaling, the scale back to image pixels exact', async () => {
    const photo = await sharp({ create: { width: 1920, height: 1367, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    const img = await decodeImage(photo, limits);
    expect([img.pixels.width, img.pixels.height]).to.deep.equal([640, 455]);
    expect(img.pixels.width * img.scaleX).to.be.closeTo(1920, 1e-6);
    expect(img.pixels.height * img.scaleY).to.be.closeTo(1367, 1e-6);
    const png = await sharp({ create: { width: 1920, height: 1367, channels: 3, background: '#808080' } }).png().toBuffer();
    expect((await decodeImage(png, limits)).pixels.width).to.equal(960);
  });

  it('refuses a decompression bomb from its header with 413, before decoding', async () => {
    const error = await rejection(decodeImage(pngHeaderOnly(20000, 20000), limits));
    expect(error).to.be.instanceOf(PayloadTooLarge);
    expect(error.message).to.match(/20000x20000/);
  });

  it('answers 400 for truncated, random, text and empty inputs, and for images below the minimum size', async () => {
    const jpeg = await (await halves()).resize(600, 400).jpeg().toBuffer();
    const cases: [string, Buffer, RegExp][] = [
      ['truncated JPEG', jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), /not a decodable image: the JPEG data is corrupt or truncated/],
      ['random bytes', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251)), /not a decodable image/],
      ['text', Buffer.from('hello, this is not a picture\n'), /not a decodable image/],
      ['empty', Buffer.alloc(0), /empty body/],
      ['1x1 PNG', await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } }).png().toBuffer(), /1x1 pixels; the smallest accepted is 16x16/],
    ];
    for (const [name, bytes, message] of cases) {
      const error = await rejection(decodeImage(bytes, limits));
      expect(error, name).to.be.instanceOf(InvalidInput);
      expect(error.message, name).to.match(message);
    }
  });

  it('answers 415 for decodable formats outside JPEG, PNG and WebP', async () => {
    const gif = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#fff' } }).gif().toBuffer();
    expect(await rejection(decodeImage(gif, limits))).to.be.instanceOf(UnsupportedMediaType);
  });
});
