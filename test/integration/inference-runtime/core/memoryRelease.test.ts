import { expect } from 'chai';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildAddon, NATIVE_SOURCES } from '../../../../deploy/nativeAddons.js';
import { loadAllocatorTrim } from '../../../../inference-runtime/core/allocatorTrim.js';
import { fullGarbageCollector } from '../../../../inference-runtime/core/garbageCollector.js';
import { memoryRelease, type MemoryReleased } from '../../../../inference-runtime/core/memoryRelease.js';
import type { NamedTensors } from '../../../../inference-runtime/core/tensor.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../../inference-runtime/dataplane/modelRegistry.js';
import { identityModelName, writeDatatypeModels } from '../../../fixtures/models/datatypeModels.js';
import { eventually } from '../../../helpers/eventually.js';

const MiB = 2 ** 20;

/**
 * The memory release as main.ts runs it, over a real worker pool running a real onnxruntime model: request
 * tensors handed to an inference thread (`transfer: true`, as every task and protocol route sends them) die
 * in that thread's heap, whose few JS allocations seldom collect it, so their memory stays allocated whatever
 * the main thread collects or the allocator trims. The release has the inference threads collect first.
 *
 * The observable is the ArrayBuffer memory this process has allocated and not yet freed
 * (`process.memoryUsage().arrayBuffers`): a buffer built here and handed to a worker is counted here until the
 * worker's heap frees it. Exact byte counts, no RSS margin: the figures do not depend on the machine's load.
 */
describe('memory release: the inference threads collect the request tensors they hold', function () {
  this.timeout(240_000);
  let dir: string;
  let registry: PoolModelRegistry;
  let model: string;
  let release: () => Promise<MemoryReleased>;
  const collectHere = fullGarbageCollector({ reduceMemory: true });
  const arrayBuffers = (): number => process.memoryUsage().arrayBuffers;

  before(async function () {
    // The release runs only with the allocator trim: without a C compiler the addon does not exist.
    if (process.platform !== 'linux' || spawnSync(process.env.CC || 'cc', ['--version']).status !== 0) this.skip();
    dir = mkdtempSync(path.join(tmpdir(), 'mloffload-release-'));
    const addon = path.join(dir, 'mallocTrim.node');
    buildAddon(path.join(NATIVE_SOURCES, 'mallocTrim.c'), addon);
    const allocator = loadAllocatorTrim(addon);
    expect(allocator.available, allocator.reason).to.equal(true);
    const entry = writeDatatypeModels(path.join(dir, 'models')).find((m) => m.name === identityModelName('FP32'))!;
    model = entry.name;
    registry = createModelRegistry({ models: [entry] }, { repository: { cacheDir: path.join(dir, 'cache') }, workers: 1, benchmark: false });
    await registry.whenSettled();
    const executor = registry.executor;
    expect(executor.collectGarbage, 'a worker pool collects its threads').to.be.a('function');
    release = memoryRelease({ allocator, collectGarbage: collectHere, collectInferenceThreads: () => executor.collectGarbage!() });
  });

  after(async () => {
    await registry?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** One request of `mib` MiB of float32, its buffer handed over to the worker; checks the model's answer. */
  async function request(mib: number, value: number): Promise<void> {
    const rows = Math.floor((mib * MiB) / 12);
    const inputs: NamedTensors = { x: { dtype: 'float32', shape: [rows, 3], data: new Float32Array(rows * 3).fill(value) } };
    const out = await registry.resolve(model).infer(inputs, { transfer: true });
    const y = out.y.data as Float32Array;
    expect(y.length).to.equal(rows * 3);
    expect(y[rows * 3 - 1]).to.equal(value);
  }

  it('frees every request tensor the inference threads hold', async () => {
    let heldUntilTheRelease = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 8 }), async (sizes) => {
        // What this thread holds dead is gone before the count starts: what stays is the worker's.
        collectHere();
        const baseline = arrayBuffers();
        for (const [i, mib] of sizes.entries()) await request(mib, i + 1);
        const sent = sizes.reduce((a, b) => a + b, 0) * MiB;
        // Still held, unless the worker's heap happened to collect on its own (at most 32 MiB are sent, under
        // V8's external memory limit, so it seldom does).
        const held = arrayBuffers() - baseline;
        if (held >= 0.9 * sent) heldUntilTheRelease++;
        const released = await release();
        const story = (): string =>
          `sent ${sizes.join('+')} MiB; held ${(held / MiB).toFixed(2)} MiB before the release, ${((arrayBuffers() - baseline) / MiB).toFixed(2)} after; ${JSON.stringify(released)}`;
        expect(released.rssMiB).to.be.a('number');
        // The worker's heap frees the backing stores as its collection sweeps them, on a thread of V8's own:
        // done by the time the release ends, in practice; the deadline only absorbs a loaded machine.
        await eventually(() => expect(arrayBuffers() - baseline, story()).to.be.below(0.5 * MiB), { timeout: 3000, interval: 20 });
      }),
      { numRuns: 8 },
    );
    // Not vacuous: the worker did hold the tensors until the release.
    expect(heldUntilTheRelease).to.be.greaterThan(0);
  });

  it('shares one release between callers that ask at once', async () => {
    const [a, b] = await Promise.all([release(), release()]);
    expect(a).to.equal(b);
  });
});
