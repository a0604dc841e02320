/**
 * The image stages of this checkout against a baseline checkout's, in one process on one core: the decode
 * of the flagship's 640x480 JPEG and of a 1920 px group photo (decodeImage, header read included), the
 * detector's letterbox (letterboxTensor) and a 294 px face crop to the expression model's 64x64 grey input
 * (cropsToBatchTensor). Both checkouts' modules are loaded side by side (the baseline's sources through tsx,
 * with the same sharp) and every round runs each stage from each checkout back to back, in turns, so the paired
 * differences of the rounds hold on a shared machine where separate runs drift by 10-20%. CPU time is the
 * process's (all threads: libvips runs in the libuv pool).
 *
 *   taskset -c 1 npx tsx bench/preprocessPaired.ts --baseline <dir> [--rounds 10]
 */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Preprocessing } from '../inference-runtime/config/types.js';
import type * as Decode from '../inference-runtime/vision/decode.js';
import type * as Limits from '../inference-runtime/vision/limits.js';
import type * as Tensorize from '../inference-runtime/vision/tensorize.js';
import { sample, singleFace640x480 } from '../test/helpers/samplePhotos.js';
import { median } from './stats.js';

const { values } = parseArgs({ options: { baseline: { type: 'string' }, rounds: { type: 'string', default: '10' } } });
if (!values.baseline) throw new Error('--baseline <dir> is required: the checkout to compare with');
const rounds = Number(values.rounds);

interface Stages {
  decodeImage: typeof Decode.decodeImage;
  limits: typeof Limits.defaultVisionLimits;
  letterboxTensor: typeof Tensorize.letterboxTensor;
  cropsToBatchTensor: typeof Tensorize.cropsToBatchTensor;
}

async function stagesOf(root: string): Promise<Stages> {
  const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(path.join(root, 'inference-runtime', 'vision', file)).href)) as T;
  const decode = await load<typeof Decode>('decode.ts');
  const limits = await load<typeof Limits>('limits.ts');
  const tensorize = await load<typeof Tensorize>('tensorize.ts');
  return { decodeImage: decode.decodeImage, limits: limits.defaultVisionLimits, letterboxTensor: tensorize.letterboxTensor, cropsToBatchTensor: tensorize.cropsToBatchTensor };
}

const checkouts = [
  { label: 'this checkout', stages: await stagesOf(process.cwd()) },
  { label: 'baseline', stages: await stagesOf(path.resolve(values.baseline)) },
];
const face640 = await singleFace640x480();
const group = sample(2);
const pixels = (await checkouts[0]!.stages.decodeImage(face640, checkouts[0]!.stages.limits)).pixels;
const pre256: Preprocessing = { width: 256, height: 256, colour: 'rgb', range: [-1, 1] };
const pre64: Preprocessing = { width: 64, height: 64, colour: 'grayscale', range: [-1, 1] };
const face = { x: 180, y: 60, width: 294, height: 294 };

const stages: Array<{ name: string; repeat: number; run: (s: Stages) => Promise<unknown> | unknown }> = [
  { name: 'decode 640x480 JPEG', repeat: 100, run: (s) => s.decodeImage(face640, s.limits) },
  { name: 'decode 1920x1367 JPEG (sample2)', repeat: 20, run: (s) => s.decodeImage(group, s.limits) },
  { name: 'letterbox 640x480 -> 256 + pack', repeat: 100, run: (s) => s.letterboxTensor(pixels, pre256) },
  { name: 'face crop 294 px -> 64x64 grey tensor', repeat: 400, run: (s) => s.cropsToBatchTensor(pixels, [face], pre64) },
];

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** CPU ms per call of `run`, over `repeat` calls. */
async function measure(run: () => Promise<unknown> | unknown, repeat: number): Promise<number> {
  const before = cpuMs();
  for (let i = 0; i < repeat; i++) await run();
  return (cpuMs() - before) / repeat;
}

const load = os.loadavg();
const rows: string[] = [];
for (const stage of stages) {
  // Warm-up: both checkouts' code optimised before the first measured round.
  for (const c of checkouts) await measure(() => stage.run(c.stages), stage.repeat);
  const now: number[] = [];
  const before: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Who goes first alternates, so neither side always runs on the caches and clock the other left.
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) (i === 0 ? now : before).push(await measure(() => stage.run(checkouts[i]!.stages), stage.repeat));
  }
  const diffs = now.map((v, i) => v - before[i]!);
  rows.push(`| ${stage.name} | ${median(now).toFixed(3)} | ${median(before).toFixed(3)} | **${median(diffs).toFixed(3)}** | ${diffs.filter((d) => d < 0).length} of ${rounds} |`);
}
console.log(`Machine: nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; load ${load.map((l) => l.toFixed(1)).join(' / ')}`);
console.log(`Command: npx tsx bench/preprocessPaired.ts --baseline <dir> --rounds ${rounds}\n`);
console.log('| stage | CPU ms, this checkout (median) | baseline | paired difference (median) | lower in |');
console.log('|---|---:|---:|---:|---|');
for (const row of rows) console.log(row);
