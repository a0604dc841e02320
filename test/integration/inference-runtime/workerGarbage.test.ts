import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildAddon, NATIVE_SOURCES } from '../../../deploy/nativeAddons.js';

const here = (file: string): string => JSON.stringify(new URL(file, import.meta.url).href);

/**
 * Request tensors handed to an inference thread die there, and their malloc'd backing stores are freed only
 * when that thread's heap is collected, which its few JS allocations rarely trigger: the allocator trim
 * (main.ts) can return them only after the pool has its threads collect. In a process of its own, so that
 * its RSS is the runtime's alone.
 */
const FRAGMENT = `
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAllocatorTrim } from ${here('../../../inference-runtime/core/allocatorTrim.ts')};
import { createModelRegistry } from ${here('../../../inference-runtime/dataplane/modelRegistry.ts')};
import { identityModelName, writeDatatypeModels } from ${here('../../fixtures/models/datatypeModels.ts')};
const trim = loadAllocatorTrim(process.env.ADDON);
const dir = mkdtempSync(path.join(tmpdir(), 'mloffload-worker-gc-'));
const model = writeDatatypeModels(path.join(dir, 'models')).find((m) => m.name === identityModelName('FP32'));
const registry = createModelRegistry({ models: [model] }, { repository: { cacheDir: path.join(dir, 'cache') }, workers: 1, benchmark: false });
await registry.whenSettled();
const served = registry.resolve(model.name);
const rows = 2 ** 19; // 6 MiB of float32 per request
for (let i = 0; i < 5; i++) await served.infer({ x: { dtype: 'float32', shape: [rows, 3], data: new Float32Array(rows * 3).fill(i) } }, { transfer: true });
const rss = () => process.memoryUsage.rss() / 2 ** 20;
gc();
trim.release();
const trimmedAlone = rss();
await registry.executor.collectGarbage();
gc();
trim.release();
const trimmedAfterCollect = rss();
process.stdout.write(JSON.stringify({ available: trim.available, trimmedAlone, trimmedAfterCollect }));
await registry.close();
`;

describe('inference threads collect their garbage on request (memory release)', function () {
  let dir: string;
  let addon: string;

  before(function () {
    // The figure is the allocator trim's: without a C compiler the addon, and so the release, does not exist.
    if (process.platform !== 'linux' || spawnSync(process.env.CC || 'cc', ['--version']).status !== 0) this.skip();
    dir = mkdtempSync(path.join(tmpdir(), 'mloffload-trim-'));
    addon = path.join(dir, 'mallocTrim.node');
    buildAddon(path.join(NATIVE_SOURCES, 'mallocTrim.c'), addon);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('frees the request tensors an inference thread holds, so the trim returns them', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', FRAGMENT], {
      env: { ...process.env, ADDON: addon },
      timeout: 120_000,
    }).toString();
    const r = JSON.parse(out) as { available: boolean; trimmedAlone: number; trimmedAfterCollect: number };
    expect(r.available).to.equal(true);
    // Five 6 MiB inputs (30 MiB) were still held by the worker's heap after the main thread's collection.
    expect(r.trimmedAlone - r.trimmedAfterCollect, JSON.stringify(r)).to.be.greaterThan(18);
  });
});
