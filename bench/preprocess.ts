/**
 * CPU per request of the work around the engines, stage by stage, on one core: image decode to the working
 * copy, the detector's letterbox, the expression crop and the tensor packing; and the TF Serving `:predict`
 * body of a 64x64 image read by the flat float reader against the general path (JSON.parse + tensor walk).
 * Each row also runs the way the runtime did it before (kept here as the reference), alternating in rounds,
 * so the ratios hold on a loaded machine. CPU time is the process's (all threads: libvips runs in the libuv pool).
 *
 *   taskset -c 1 npx tsx bench/preprocess.ts [--rounds 8]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { TensorSpec } from '../inference-runtime/core/tensor.js';
import { parseFlatPredict } from '../inference-runtime/http/tfserving/flatTensorJson.js';
import { parsePredictRequest } from '../inference-runtime/http/tfserving/jsonTensor.js';
import { parseTfServingJson } from '../inference-runtime/http/tfserving/jsonText.js';
import { decodeImage } from '../inference-runtime/vision/decode.js';
import { defaultVisionLimits } from '../inference-runtime/vision/limits.js';
import { cropResize, letterbox, toBatchTensor } from '../inference-runtime/vision/tensorize.js';
import { sample } from '../test/helpers/samplePhotos.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '8' } } });
const rounds = Number(values.rounds);
sharp.cache(false);

const face640 = await sharp(sample(1)).extract({ left: 1280, top: 100, width: 640, height: 480 }).jpeg({ quality: 90 }).toBuffer();
const group = sample(2);
const pre256 = { width: 256, height: 256, colour: 'rgb' as const, range: [-1, 1] as [number, number] };
const pre64 = { width: 64, height: 64, colour: 'grayscale' as const, range: [-1, 1] as [number, number] };

/** The decode as the runtime ran it before: header, then a full decode resampled (lanczos3) to at most 960 px. */
async function decodeBefore(bytes: Buffer): Promise<void> {
  const meta = await sharp(bytes).metadata();
  const scale = Math.max(1, Math.max(meta.width!, meta.height!) / 960);
  await sharp(bytes, { failOn: 'warning' })
    .rotate()
    .resize(Math.round(meta.width! / scale), Math.round(meta.height! / scale), { fit: 'fill', kernel: 'lanczos3' })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer();
}

/** The crop as the runtime ran it before: a grid of bilinear samples per output pixel, in JS. */
function cropBefore(img: { data: Uint8Array; width: number; height: number }, box: { x: number; y: number; width: number; height: number }, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  const sx = box.width / width;
  const sy = box.height / height;
  const nx = Math.min(8, Math.max(1, Math.ceil(sx)));
  const ny = Math.min(8, Math.max(1, Math.ceil(sy)));
  const acc = [0, 0, 0];
  for (let oy = 0; oy < height; oy++) {
    for (let ox = 0; ox < width; ox++) {
      acc[0] = acc[1] = acc[2] = 0;
      for (let j = 0; j < ny; j++) {
        const y = Math.min(img.height - 1, Math.max(0, box.y + (oy + (j + 0.5) / ny) * sy - 0.5));
        const y0 = Math.floor(y);
        const y1 = Math.min(img.height - 1, y0 + 1);
        for (let i = 0; i < nx; i++) {
          const x = Math.min(img.width - 1, Math.max(0, box.x + (ox + (i + 0.5) / nx) * sx - 0.5));
          const x0 = Math.floor(x);
          const x1 = Math.min(img.width - 1, x0 + 1);
          for (let c = 0; c < 3; c++) {
            const top = img.data[(y0 * img.width + x0) * 3 + c] + (img.data[(y0 * img.width + x1) * 3 + c] - img.data[(y0 * img.width + x0) * 3 + c]) * (x - x0);
            const bottom = img.data[(y1 * img.width + x0) * 3 + c] + (img.data[(y1 * img.width + x1) * 3 + c] - img.data[(y1 * img.width + x0) * 3 + c]) * (x - x0);
            acc[c] += top + (bottom - top) * (y - y0);
          }
        }
      }
      const o = (oy * width + ox) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = Math.round(acc[c] / (nx * ny));
    }
  }
  return out;
}

/** The letterbox and tensor packing as the runtime ran them before: libvips resize and extend, then a per-pixel loop. */
async function letterboxBefore(img: { data: Uint8Array; width: number; height: number }): Promise<Float32Array> {
  const scale = Math.min(256 / img.width, 256 / img.height);
  const w = Math.round(img.width * scale);
  const h = Math.round(img.height * scale);
  const src = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(w, h, { fit: 'fill', kernel: 'lanczos3' })
    .extend({ top: 0, left: 0, right: 256 - w, bottom: 256 - h, background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer();
  const out = new Float32Array(256 * 256 * 3);
  const mean = [0, 0, 0];
  const std = [1, 1, 1];
  for (let p = 0; p < 256 * 256; p++) {
    const [c0, c1, c2] = [src[p * 3], src[p * 3 + 1], src[p * 3 + 2]];
    out[p * 3] = (-1 + c0 * (2 / 255) - mean[0]) / std[0];
    out[p * 3 + 1] = (-1 + c1 * (2 / 255) - mean[1]) / std[1];
    out[p * 3 + 2] = (-1 + c2 * (2 / 255) - mean[2]) / std[2];
  }
  return out;
}

const values4096 = new Float32Array(4096);
let state = 12345;
for (let i = 0; i < values4096.length; i++) {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  values4096[i] = Math.fround((state / 2 ** 32) * 2 - 1);
}
const body = Buffer.from(JSON.stringify({ instances: [Array.from({ length: 64 }, (_, y) => Array.from({ length: 64 }, (_, x) => [values4096[y * 64 + x]]))] }));
const spec: TensorSpec[] = [{ name: 'input_1', dtype: 'float32', shape: [-1, 64, 64, 1] }];

const work640 = await decodeImage(face640, defaultVisionLimits);
const faceBox = { x: 200, y: 60, width: 210, height: 210 };

const rows: Record<string, { now: () => unknown; before?: () => unknown; repeat: number }> = {
  'decode 640x480 JPEG': { now: () => decodeImage(face640, defaultVisionLimits), before: () => decodeBefore(face640), repeat: 10 },
  'decode 1920x1367 JPEG (sample2)': { now: () => decodeImage(group, defaultVisionLimits), before: () => decodeBefore(group), repeat: 3 },
  'letterbox 640x480 -> 256 + pack': {
    now: async () => toBatchTensor([(await letterbox(work640.pixels, 256, 256)).pixels], pre256),
    before: () => letterboxBefore(work640.pixels),
    repeat: 10,
  },
  'face crop 210 px -> 64x64 + pack': {
    now: () => toBatchTensor([cropResize(work640.pixels, faceBox, 64, 64)], pre64),
    before: () => cropBefore(work640.pixels, faceBox, 64, 64),
    repeat: 20,
  },
  ':predict body, 4,096 floats (89 KB)': {
    now: () => parseFlatPredict(body, spec, 64),
    before: () => parsePredictRequest(parseTfServingJson(body.toString('utf8')), spec, body.length, 64),
    repeat: 20,
  },
};

async function cpuMs(fn: () => unknown, repeat: number): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < repeat; i++) await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / repeat;
}

const samples: Record<string, { now: number[]; before: number[] }> = {};
for (const [name, row] of Object.entries(rows)) {
  await cpuMs(row.now, 2);
  if (row.before) await cpuMs(row.before, 2);
  samples[name] = { now: [], before: [] };
}
const loadBefore = os.loadavg();
for (let r = 0; r < rounds; r++) {
  for (const [name, row] of Object.entries(rows)) {
    samples[name].now.push(await cpuMs(row.now, row.repeat));
    if (row.before) samples[name].before.push(await cpuMs(row.before, row.repeat));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const f = (v: number) => v.toFixed(2);
console.log(`Machine: nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model}, Node ${process.version}; load average ${loadBefore.map((v) => v.toFixed(1)).join(' / ')} -> ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')}`);
console.log(`Command: taskset -c 1 npx tsx bench/preprocess.ts --rounds ${rounds}`);
console.log('\n| stage | CPU ms now | CPU ms before | before / now |\n|---|---:|---:|---:|');
for (const [name, s] of Object.entries(samples)) {
  const now = median(s.now);
  const before = s.before.length ? median(s.before) : undefined;
  console.log(`| ${name} | ${f(now)} | ${before === undefined ? '-' : f(before)} | ${before === undefined ? '-' : `${(before / now).toFixed(2)}x`} |`);
}
