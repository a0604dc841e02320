import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildAddon, NATIVE_SOURCES } from '../../../../deploy/nativeAddons.js';
import { loadAllocatorTrim } from '../../../../inference-runtime/core/allocatorTrim.js';

/**
 * What the runtime's loads and benchmarks do to the allocator, in a process of its own: an inference-like
 * thread allocates large transient buffers between small lasting ones and frees the transient ones. glibc
 * keeps that memory (it sits below live blocks in the thread's arena) until the addon's trim, called from
 * the main thread as main.ts does, returns it.
 */
const FRAGMENT = `
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { loadAllocatorTrim } from ${JSON.stringify(new URL('../../../../inference-runtime/core/allocatorTrim.ts', import.meta.url).href)};
const trim = loadAllocatorTrim(process.env.ADDON);
const rss = () => process.memoryUsage.rss() / 2 ** 20;
const worker = new Worker(\`
import { parentPort } from 'node:worker_threads';
// A freed 4 MiB block raises glibc's mmap threshold, as the first large free of a model load does: from
// then on 1 MiB blocks come from the thread's arena.
let first = Buffer.allocUnsafeSlow(4 << 20).fill(1);
first = null;
gc();
const lasting = [];
let transient = [];
for (let i = 0; i < 128; i++) {
  transient.push(Buffer.allocUnsafeSlow(1 << 20).fill(1));
  lasting.push(Buffer.allocUnsafeSlow(16384).fill(2));
}
parentPort.once('message', () => { transient = null; gc(); gc(); parentPort.postMessage(lasting.length); });
\`, { eval: true });
const start = rss();
worker.postMessage('free');
await once(worker, 'message');
const freed = rss();
const released = trim.release();
const trimmed = rss();
process.stdout.write(JSON.stringify({ available: trim.available, start, freed, released, trimmed }));
await worker.terminate();
`;

/**
 * What a spell of requests leaves in an inference thread: its buffers freed onto its arena's top, which
 * glibc's free() keeps below the trim threshold (64 MiB once the runtime's first release has set glibc's
 * thresholds) and malloc_trim(0) does not return for a thread's arena; nor does the main thread's collection
 * free a worker's dead buffers. The worker's own release, collecting inside it, returns them.
 */
const TOP = `
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { loadAllocatorTrim } from ${JSON.stringify(new URL('../../../../inference-runtime/core/allocatorTrim.ts', import.meta.url).href)};
const trim = loadAllocatorTrim(process.env.ADDON);
const rss = () => process.memoryUsage.rss() / 2 ** 20;
// The runtime's first release (at models_available) sets glibc's thresholds.
trim.release();
const worker = new Worker(\`
import { parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';
// The addon as the inference worker's loadAllocatorTrim has it (tsx's hooks do not reach an eval worker).
const addon = createRequire(process.env.ADDON)(process.env.ADDON);
let transient = [];
for (let i = 0; i < 40; i++) transient.push(Buffer.allocUnsafeSlow(1 << 20).fill(1));
// A collection now, while the buffers live, ends any marking their allocation started: none is left to finish
// on its own after 'free' and take the buffers before the main thread's release is measured.
gc();
parentPort.on('message', (what) => {
  // 'free' drops the buffers; 'release' is what the inference worker runs: its own collection inside the trim.
  if (what === 'free') transient = null;
  else addon.trim(() => {
    gc();
    gc();
  });
  parentPort.postMessage(what);
});
\`, { eval: true });
await once(worker, 'online');
const ask = async (what) => { worker.postMessage(what); await once(worker, 'message'); };
await ask('free');
const freed = rss();
trim.release(() => {
  gc();
  gc();
});
const trimmed = rss();
await ask('release');
const released = rss();
process.stdout.write(JSON.stringify({ freed, trimmed, released }));
await worker.terminate();
`;

function compilerMissing(): boolean {
  return spawnSync(process.env.CC || 'cc', ['--version']).status !== 0;
}

describe('allocator trim (glibc malloc_trim addon)', function () {
  let dir: string;
  let addon: string;

  before(function () {
    if (process.platform !== 'linux' || compilerMissing()) this.skip();
    dir = mkdtempSync(path.join(tmpdir(), 'mloffload-trim-'));
    addon = path.join(dir, 'mallocTrim.node');
    buildAddon(path.join(NATIVE_SOURCES, 'mallocTrim.c'), addon);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('returns to the system what a worker thread freed below its live blocks', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', FRAGMENT], {
      env: { ...process.env, ADDON: addon },
      timeout: 60_000,
    }).toString();
    const r = JSON.parse(out) as { available: boolean; start: number; freed: number; released: boolean; trimmed: number };
    expect(r.available).to.equal(true);
    // glibc alone keeps a good part of the 128 MiB freed...
    expect(r.freed - r.trimmed, JSON.stringify(r)).to.be.greaterThan(40);
    expect(r.released).to.equal(true);
    // ...and the trim takes the process back near where it was before the transient buffers.
    expect(r.trimmed - r.start, JSON.stringify(r)).to.be.lessThan(24);
  });

  it("returns an inference thread's dead buffers and arena top, which the main thread's release leaves, from that thread", () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', TOP], {
      env: { ...process.env, ADDON: addon },
      timeout: 60_000,
    }).toString();
    const r = JSON.parse(out) as { freed: number; trimmed: number; released: number };
    // The 40 MiB the worker dropped stay after the main thread's release, which returns only the main
    // thread's own garbage (module loading's; up to 10.6 MiB seen in a CI run)...
    expect(r.freed - r.trimmed, JSON.stringify(r)).to.be.lessThan(20);
    // ...and go back when the worker collects them and releases its own arena.
    expect(r.trimmed - r.released, JSON.stringify(r)).to.be.greaterThan(30);
  });

  it("has each libuv pool thread return its arena's top, one job per thread", () => {
    const script = `
import { loadAllocatorTrim } from ${JSON.stringify(new URL('../../../../inference-runtime/core/allocatorTrim.ts', import.meta.url).href)};
process.stdout.write(String(await loadAllocatorTrim(process.env.ADDON).releasePoolArenas()));
`;
    for (const size of ['3', '6']) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, ADDON: addon, UV_THREADPOOL_SIZE: size },
        timeout: 60_000,
      }).toString();
      expect(out).to.equal(size);
    }
  });

  it('is a no-op, with the reason, where the addon was not built', async () => {
    const trim = loadAllocatorTrim(path.join(tmpdir(), 'no-such-dir', 'mallocTrim.node'));
    expect(trim.available).to.equal(false);
    expect(trim.reason).to.match(/not built/);
    expect(trim.release()).to.equal(false);
    expect(await trim.releasePoolArenas()).to.equal(0);
  });
});
