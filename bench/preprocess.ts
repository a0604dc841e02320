/**
 * CPU per request of the work around the engines, stage by stage, on one core: image decode to the working
 * copy, the detector's letterbox, the expression crop and the tensor packing; and the TF Serving `:predict`
 * body of a 64x64 image read by the flat float reader against the general path (JSON.parse + tensor walk).
 * Each row also runs the way the runtime did it before (kept here as the reference), alternating in rounds,
 * so the ratios hold on a loaded machine: the decode as the first release did it (full decode, lanczos3, the
 * embedded ICC profile applied), today's decode against the same with the profile applied, the
 * letterbox with libvips' lanczos3 kernel padded into a copy and then packed (now: linear kernel, rows
 * written straight into the tensor), the expression crops resampled in RGB and then packed as grey (now:
 * resampled from luma into the tensor). CPU time is the process's (all threads: libvips runs in the libuv pool).
 *
 *   taskset -c 1 npx tsx bench/preprocess.ts [--rounds 8]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { median } from './stats.js';
import sharp from 'sharp';
import type { TensorSpec } from '../inference-runtime/core/tensor.js';
import { parseFlatPredict } from '../inference-runtime/http/tfserving/flatTensorJson.js';
import { parsePredictRequest } from '../inference-runtime/http/tfserving/jsonTensor.js';
import { parseTfServingJson } from '../inference-runtime/http/tfserving/jsonText.js';
import { decodeImage, workingSize } from '../inference-runtime/vision/decode.js';
import { defaultVisionLimits } from '../inference-runtime/vision/limits.js';
import type { RgbImage } from '../inference-runtime/vision/decode.js';
import { cropResize, cropsToBatchTensor, letterboxTensor, toBatchTensor } from '../inference-runtime/vision/tensorize.js';
import { sample, singleFace640x480 } from '../test/helpers/samplePhotos.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '8' } } });
const rounds = Number(values.rounds);
sharp.cache(false);

const face640 = await singleFace640x480();
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

/** Today's decode with the embedded ICC profile applied, as the runtime did before it left RGB profiles alone. */
async function decodeColourManaged(bytes: Buffer): Promise<void> {
  const meta = await sharp(bytes).metadata();
  const [width, height] = workingSize(meta.width!, meta.height!, meta.format!, defaultVisionLimits.workingMaxSide);
  await sharp(bytes, { failOn: 'warning' })
    .rotate()
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer();
}

/** The letterbox as the runtime ran it before: libvips lanczos3 resize, padded in JS, then packed. */
async function letterboxBefore(img: RgbImage): Promise<unknown> {
  const scale = Math.min(256 / img.width, 256 / img.height);
  const w = Math.round(img.width * scale);
  const h = Math.round(img.height * scale);
  const resized = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(w, h, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  const data = new Uint8Array(256 * 256 * 3);
  for (let y = 0; y < h; y++) data.set(resized.subarray(y * w * 3, (y + 1) * w * 3), y * 256 * 3);
  return toBatchTensor([{ data, width: 256, height: 256 }], pre256);
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
// The detector's 210 px box grown by the expression crop margin (1.4), and five faces of a group photo.
const faceRegion = { x: 160, y: 20, width: 294, height: 294 };
const workGroup = await decodeImage(group, defaultVisionLimits);
const groupRegions = [0, 1, 2, 3, 4].map((i) => ({ x: 40 + i * 110, y: 120, width: 60, height: 60 }));

const rows: Record<string, { now: () => unknown; before?: () => unknown; repeat: number }> = {
  'decode 640x480 JPEG': { now: () => decodeImage(face640, defaultVisionLimits), before: () => decodeBefore(face640), repeat: 10 },
  'decode 1920x1367 JPEG (sample2)': { now: () => decodeImage(group, defaultVisionLimits), before: () => decodeBefore(group), repeat: 3 },
  'decode 1920x1367 JPEG (sample2) with its sRGB ICC profile: left as stored (now) / applied (before)': {
    now: () => decodeImage(group, defaultVisionLimits),
    before: () => decodeColourManaged(group),
    repeat: 3,
  },
  'letterbox 640x480 -> 256 + pack': {
    now: () => letterboxTensor(work640.pixels, pre256),
    before: () => letterboxBefore(work640.pixels),
    repeat: 10,
  },
  'face crop 294 px -> 64x64 grey tensor': {
    now: () => cropsToBatchTensor(work640.pixels, [faceRegion], pre64),
    before: () => toBatchTensor([cropResize(work640.pixels, faceRegion, 64, 64)], pre64),
    repeat: 20,
  },
  'five face crops 60 px -> 64x64 grey tensor (group photo)': {
    now: () => cropsToBatchTensor(workGroup.pixels, groupRegions, pre64),
    before: () => toBatchTensor(groupRegions.map((r) => cropResize(workGroup.pixels, r, 64, 64)), pre64),
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
const f = (v: number) => v.toFixed(2);
console.log(`Machine: nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model}, Node ${process.version}; load average ${loadBefore.map((v) => v.toFixed(1)).join(' / ')} -> ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')}`);
console.log(`Command: taskset -c 1 npx tsx bench/preprocess.ts --rounds ${rounds}`);
console.log('\n| stage | CPU ms now | CPU ms before | before / now |\n|---|---:|---:|---:|');
for (const [name, s] of Object.entries(samples)) {
  const now = median(s.now);
  const before = s.before.length ? median(s.before) : undefined;
  console.log(`| ${name} | ${f(now)} | ${before === undefined ? '-' : f(before)} | ${before === undefined ? '-' : `${(before / now).toFixed(2)}x`} |`);
}
