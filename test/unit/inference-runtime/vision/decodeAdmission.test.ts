import { expect } from 'chai';
import fc from 'fast-check';
import sharp from 'sharp';
import { InvalidInput, Overloaded, PayloadTooLarge } from '../../../../inference-runtime/core/errors.js';
import { MemoryBudget } from '../../../../inference-runtime/core/memoryBudget.js';
import { decodeImage } from '../../../../inference-runtime/vision/decode.js';
import { DecodeAdmission } from '../../../../inference-runtime/vision/decodeAdmission.js';
import { decodeBytes, frameBytes, type ImageHeader } from '../../../../inference-runtime/vision/decodeCost.js';
import { defaultVisionLimits as limits } from '../../../../inference-runtime/vision/limits.js';
import { pngHeaderOnly, rejection } from './imageFixtures.js';

const photo = () => sharp({ create: { width: 320, height: 240, channels: 3, background: '#8a6' } }).jpeg().toBuffer();

describe('decode admission', () => {
  describe('by the bytes a decode needs', () => {
    it('refuses (413) a 16-bit RGBA interlaced PNG whose pixel count passes the pixel cap', async () => {
      const side = 6300;
      expect(side * side).to.be.below(limits.maxPixels);
      const error = await rejection(decodeImage(pngHeaderOnly(side, side, { bitDepth: 16, colourType: 6, interlaced: true }), limits));
      expect(error).to.be.instanceOf(PayloadTooLarge);
      expect(error.message).to.match(/6300x6300 pixels, 4 channels of 16 bits, interlaced: decoding it needs about 3\d\d MiB; at most 1\d\d MiB/);
    });

    it('lets an 8-bit image of the same size through to the decoder (refused there only because the fixture has no pixels)', async () => {
      const error = await rejection(decodeImage(pngHeaderOnly(6300, 6300), limits));
      expect(error).to.be.instanceOf(InvalidInput);
      expect(error.message).to.match(/corrupt or truncated/);
    });

    it('counts bit depth, channels and interlacing: never less than the frame when interlaced, never more than when streamed', () => {
      const header = fc.record({
        format: fc.constantFrom('jpeg' as const, 'png' as const, 'webp' as const),
        width: fc.integer({ min: 16, max: 20_000 }),
        height: fc.integer({ min: 16, max: 20_000 }),
        channels: fc.integer({ min: 1, max: 4 }),
        bytesPerSample: fc.constantFrom(1, 2, 4),
        interlaced: fc.boolean(),
      });
      fc.assert(
        fc.property(header, fc.integer({ min: 1, max: 960 }), fc.integer({ min: 1, max: 960 }), (h: ImageHeader, w, ht) => {
          const needs = decodeBytes(h, w, ht);
          if (h.interlaced || h.format === 'webp') expect(needs).to.be.at.least(frameBytes(h));
          expect(needs).to.be.at.most(decodeBytes({ ...h, interlaced: true }, w, ht));
          expect(needs).to.be.at.most(decodeBytes({ ...h, bytesPerSample: h.bytesPerSample * 2 }, w, ht));
          if (h.channels < 4) expect(needs).to.be.at.most(decodeBytes({ ...h, channels: h.channels + 1 }, w, ht));
        }),
      );
    });
  });

  describe('by turns and by the memory budget', () => {
    it('refuses a decode with 503 + Retry-After when every turn is taken and no one may wait, and decodes once one is free', async () => {
      const gate = new DecodeAdmission({ maxConcurrentDecodes: 1, maxWaitingDecodes: 0 });
      let finish!: () => void;
      const holding = gate.run(0, undefined, () => new Promise<void>((resolve) => (finish = resolve)));
      const error = await rejection(decodeImage(await photo(), limits, { gate }));
      expect(error).to.be.instanceOf(Overloaded);
      expect((error as Overloaded).retryAfterSeconds).to.be.greaterThan(0);
      expect(error.message).to.match(/too many image decodes at once \(1 running, 0 waiting\)/);
      finish();
      await holding;
      const image = await decodeImage(await photo(), limits, { gate });
      expect([image.width, image.height]).to.deep.equal([320, 240]);
      expect([gate.running, gate.waiting]).to.deep.equal([0, 0]);
    });

    it('refuses a decode with 503 when its bytes do not fit the memory budget, and holds the claim only while decoding', async () => {
      // The 320x240 JPEG needs well under 1 MiB; a process 100 KiB short of its 2 MiB budget has no room for it.
      let rss = 2 * 2 ** 20 - 100 * 2 ** 10;
      const budget = new MemoryBudget({ limitBytes: 2 * 2 ** 20, rss: () => rss });
      const gate = new DecodeAdmission({ maxConcurrentDecodes: 2, maxWaitingDecodes: 2 }, budget);
      const error = await rejection(decodeImage(await photo(), limits, { gate }));
      expect(error).to.be.instanceOf(Overloaded);
      expect(error.message).to.match(/not enough memory for decoding the image/);
      rss = 0;
      expect((await decodeImage(await photo(), limits, { gate })).width).to.equal(320);
      expect(budget.snapshot().reservedBytes).to.equal(0);
    });
  });
});
