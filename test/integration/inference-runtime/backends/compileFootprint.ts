/**
 * Run by compileFootprint.test.ts in a process of its own: compiles the expression model on an empty cache,
 * then looks it up again as a restart would, and reports whether tfjs was ever loaded into this (the main)
 * thread. tfjs-core registers its engine as the global `_tfengine` when it is imported.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compileVerified } from '../../../../inference-runtime/backends/compiledArtifact.js';
import { findPackageDir } from '../../../../inference-runtime/core/npmPackage.js';

const models = path.join(findPackageDir('@vladmandic/human')!, 'models');
const workDir = await mkdtemp(path.join(os.tmpdir(), 'compile-footprint-'));
try {
  const files = { entryPath: path.join(models, 'emotion.json'), sha256: '', files: {}, dir: models, workDir, origin: 'cache' as const };
  const cold = await compileVerified(files);
  const warm = await compileVerified(files);
  process.stdout.write(
    `${JSON.stringify({ coldVerified: cold.verified, coldFromCache: cold.fromCache, warmVerified: warm.verified, warmFromCache: warm.fromCache, tfjsInMainThread: '_tfengine' in globalThis })}\n`,
  );
} finally {
  await rm(workDir, { recursive: true, force: true });
}
