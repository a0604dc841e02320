import { expect } from 'chai';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildAddon, NATIVE_SOURCES } from '../../../../deploy/nativeAddons.js';
import { loadNativeResample, type NativeResample } from '../../../../inference-runtime/vision/resample.js';
import type { Preprocessing } from '../../../../inference-runtime/config/types.js';
import { cropResize, cropsToBatchTensor, letterboxTensor, toBatchTensor } from '../../../../inference-runtime/vision/tensorize.js';
import type { RgbImage } from '../../../../inference-runtime/vision/decode.js';

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { data, width, height };
}

describe('model input tensors', function () {
  let dir: string;
  let native: NativeResample | null = null;

  before(function () {
    // CI installs a C compiler (.ci/run); the letterbox's native resampler is built here so it is the one tested.
    if (spawnSync(process.env.CC || 'cc', ['--version']).status !== 0) this.skip();
    dir = mkdtempSync(path.join(tmpdir(), 'mloffload-resample-'));
    const file = path.join(dir, 'resampleToTensor.node');
    buildAddon(path.join(NATIVE_SOURCES, 'resampleToTensor.c'), file);
    native = loadNativeResample(file);
    expect(native).to.be.a('function');
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('letterboxes without distortion: scaled to fit, padded black on the right and bottom', async () => {
    const boxed = await letterboxTensor(solid(200, 100, [255, 255, 255]), { width: 64, height: 64, colour: 'rgb' });
    expect(boxed.scale).to.equal(64 / 200);
    expect(boxed.tensor.shape).to.deep.equal([1, 64, 64, 3]);
    const data = boxed.tensor.data as Float32Array;
    const at = (x: number, y: number) => data[(y * 64 + x) * 3];
    // Float32 weights that sum to 1 within their rounding.
    expect(at(10, 10)).to.be.closeTo(255, 1e-3);
    expect(at(63, 31)).to.be.closeTo(255, 1e-3);
    expect(at(10, 33)).to.equal(0);
  });

  it('writes the letterbox padding as the value black maps to, on the right and below, in the model colour', async () => {
    // A tall image leaves padding on the right; a grey model takes one channel.
    const boxed = await letterboxTensor(solid(50, 100, [255, 255, 255]), { width: 32, height: 32, colour: 'grayscale', range: [-1, 1] });
    expect(boxed.tensor.shape).to.deep.equal([1, 32, 32, 1]);
    const data = boxed.tensor.data as Float32Array;
    expect(data[5 * 32 + 4]).to.be.closeTo(1, 1e-3);
    expect(data[5 * 32 + 20]).to.equal(-1);
    const wide = await letterboxTensor(solid(100, 40, [0, 0, 255]), { width: 20, height: 20, colour: 'bgr' });
    const w = wide.tensor.data as Float32Array;
    expect(Array.from(w.subarray((2 * 20 + 3) * 3, (2 * 20 + 3) * 3 + 3))).to.deep.equal([255, 0, 0]);
    expect(Array.from(w.subarray((15 * 20 + 3) * 3, (15 * 20 + 3) * 3 + 3))).to.deep.equal([0, 0, 0]);
  });

  it("letterboxes any image for any preprocessing as the crops' resampler and packing would, within its byte rounding; the native resampler and its twin agree bit for bit", async () => {
    const colours = ['rgb', 'bgr', 'grayscale'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 24 }),
        fc.constantFrom(...colours),
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 3, maxLength: 3 }),
        fc.integer({ min: 0, max: 1000 }),
        async (iw, ih, width, height, colour, mean, std, seed) => {
          const img = solid(iw, ih, [0, 0, 0]);
          for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 31 + seed) & 255;
          const channels = colour === 'grayscale' ? 1 : 3;
          const pre: Preprocessing = { width, height, colour, range: [-1, 1], mean: mean.slice(0, channels), std: std.slice(0, channels) };
          const boxed = await letterboxTensor(img, pre, native);
          expect(Array.from(boxed.tensor.data as Float32Array)).to.deep.equal(Array.from((await letterboxTensor(img, pre, null)).tensor.data as Float32Array));
          // The reference: the crops' resampler (rounded to bytes), padded into a black image, then packed.
          const scale = Math.min(width / iw, height / ih);
          const w = Math.max(1, Math.min(width, Math.round(iw * scale)));
          const h = Math.max(1, Math.min(height, Math.round(ih * scale)));
          const resized = cropResize(img, { x: 0, y: 0, width: iw, height: ih }, w, h);
          const padded = solid(width, height, [0, 0, 0]);
          for (let y = 0; y < h; y++) padded.data.set(resized.data.subarray(y * w * 3, (y + 1) * w * 3), y * width * 3);
          const reference = toBatchTensor([padded], pre).data as Float32Array;
          const values = boxed.tensor.data as Float32Array;
          expect(boxed.tensor.shape).to.deep.equal([1, height, width, channels]);
          for (let i = 0; i < values.length; i++) {
            // Half a byte of the source, in the model's units, plus float32 rounding.
            const halfByte = (0.5 * (2 / 255)) / std[i % channels];
            expect(Math.abs(values[i] - reference[i]), `value ${i}`).to.be.at.most(halfByte + 1e-4 * Math.max(1, Math.abs(reference[i])));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('crops a region (edge pixels repeated outside the image) and shrinks it with averaging', () => {
    const img = solid(100, 100, [0, 0, 0]);
    for (let y = 0; y < 100; y++) for (let x = 50; x < 100; x++) img.data.set([200, 100, 50], (y * 100 + x) * 3);
    const crop = cropResize(img, { x: 0, y: -20, width: 100, height: 100 }, 10, 10);
    expect(Array.from(crop.data.subarray(0, 3))).to.deep.equal([0, 0, 0]);
    expect(Array.from(crop.data.subarray(9 * 3, 9 * 3 + 3))).to.deep.equal([200, 100, 50]);
    // A stripe pattern finer than the output grid averages to grey instead of aliasing.
    const stripes = solid(64, 64, [0, 0, 0]);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x += 2) stripes.data.set([255, 255, 255], (y * 64 + x) * 3);
    const small = cropResize(stripes, { x: 0, y: 0, width: 64, height: 64 }, 8, 8);
    expect(small.data[0]).to.be.within(100, 155);
  });

  it('converts to grey with the model weights and maps 0..255 onto the range', () => {
    const pre: Preprocessing = { width: 2, height: 1, colour: 'grayscale', range: [-1, 1] };
    const img: RgbImage = { data: new Uint8Array([255, 255, 255, 255, 0, 0]), width: 2, height: 1 };
    const t = toBatchTensor([img, img], pre);
    expect(t.shape).to.deep.equal([2, 1, 2, 1]);
    const data = t.data as Float32Array;
    expect(data[0]).to.be.closeTo(1, 1e-3);
    expect(data[1]).to.be.closeTo(-1 + 2 * 0.2989, 1e-4);
    expect(data[2]).to.be.closeTo(1, 1e-3);
  });

  it('keeps RGB, swaps to BGR and applies mean/std when the model asks', () => {
    const img: RgbImage = { data: new Uint8Array([10, 20, 30]), width: 1, height: 1 };
    expect(Array.from(toBatchTensor([img], { width: 1, height: 1, colour: 'rgb' }).data as Float32Array)).to.deep.equal([10, 20, 30]);
    const bgr = toBatchTensor([img], { width: 1, height: 1, colour: 'bgr', mean: [30, 20, 10], std: [2, 2, 2] });
    expect(Array.from(bgr.data as Float32Array)).to.deep.equal([0, 0, 0]);
  });

  it('feeds a greyscale model the same crops from luma as from resampled RGB, for any image and region', () => {
    const pre: Preprocessing = { width: 8, height: 6, colour: 'grayscale', range: [-1, 1], grayscaleWeights: [0.3, 0.6, 0.1] };
    const image = fc
      .record({ width: fc.integer({ min: 1, max: 40 }), height: fc.integer({ min: 1, max: 40 }) })
      .chain(({ width, height }) =>
        fc.uint8Array({ minLength: width * height * 3, maxLength: width * height * 3 }).map((data): RgbImage => ({ data, width, height })),
      );
    // Regions may reach past every edge of the image, and be smaller or larger than the model's input.
    const region = fc.record({
      x: fc.double({ min: -30, max: 50, noNaN: true }),
      y: fc.double({ min: -30, max: 50, noNaN: true }),
      width: fc.double({ min: 1, max: 80, noNaN: true }),
      height: fc.double({ min: 1, max: 80, noNaN: true }),
    });
    fc.assert(
      fc.property(image, fc.array(region, { minLength: 1, maxLength: 3 }), (img, regions) => {
        const direct = cropsToBatchTensor(img, regions, pre);
        const viaRgb = toBatchTensor(regions.map((r) => cropResize(img, r, pre.width, pre.height)), pre);
        expect(direct.shape).to.deep.equal(viaRgb.shape);
        const a = direct.data as Float32Array;
        const b = viaRgb.data as Float32Array;
        // The RGB path rounds each channel to a byte before the grey conversion: at most half a grey level,
        // 1/255 of the [-1, 1] range.
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).to.be.at.most(1 / 255 + 1e-5);
      }),
      { numRuns: 300 },
    );
  });
});
