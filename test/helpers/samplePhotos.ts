import { readFileSync } from 'node:fs';
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
