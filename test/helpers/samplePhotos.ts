import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import path from 'node:path';
import { findPackageDir } from '../../inference-runtime/core/npmPackage.js';

/** face-api's demo photos `sample1.jpg` ... `sample6.jpg` (1920 px wide group photos), a devDependency. */
export function samplePath(n: number): string {
  const dir = findPackageDir('@vladmandic/face-api');
  if (!dir) throw new Error('@vladmandic/face-api is not installed (npm install)');
  return path.join(dir, 'demo', `sample${n}.jpg`);
}

export function sample(n: number): Buffer {
  return readFileSync(samplePath(n));
}

/**
 * The flagship's photo: a 640x480 JPEG with one face (the laughing woman of sample1, cut out with nobody else
 * in frame), as the benchmarks and tests send it.
 */
export function singleFace640x480(): Promise<Buffer<ArrayBuffer>> {
  return sharp(sample(1)).extract({ left: 1280, top: 100, width: 640, height: 480 }).jpeg({ quality: 90 }).toBuffer();
}
