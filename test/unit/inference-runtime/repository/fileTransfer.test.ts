import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { expect } from 'chai';
import { findPackageDir } from '../../../../inference-runtime/core/npmPackage.js';
import { transferToTemp } from '../../../../inference-runtime/repository/fileTransfer.js';
import { ModelFileServer } from '../../../fixtures/modelFileServer.js';

/** A full garbage collection on demand, whatever flags mocha was started with. */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/**
 * Settles `work`, collecting garbage every few milliseconds while it runs: a timeout whose signal is only
 * weakly held is collected this way and never fires. The test's own deadline turns that into a failure.
 */
async function underGc<T>(work: Promise<T>, deadlineMs: number): Promise<{ value?: T; error?: Error }> {
  const gc = collector();
  const collecting = setInterval(gc, 20);
  let expire: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work.then(
        (value) => ({ value }),
        (error: Error) => ({ error }),
      ),
      new Promise<never>((_, reject) => {
        expire = setTimeout(() => reject(new Error(`still running ${deadlineMs} ms later: the transfer's timeout never fired`)), deadlineMs);
      }),
    ]);
  } finally {
    clearInterval(collecting);
    clearTimeout(expire);
  }
}

describe('file transfer deadline', function () {
  this.timeout(30_000);
  let server: ModelFileServer;
  let tmpDir: string;

  beforeEach(async () => {
    server = await new ModelFileServer(path.join(findPackageDir('@vladmandic/human')!, 'models')).start();
    tmpDir = await mkdtemp(path.join(os.tmpdir(), 'file-transfer-'));
  });
  afterEach(async () => {
    await server.stop();
    await rm(tmpDir, { recursive: true, force: true });
  });

  for (const withParent of [false, true]) {
    it(`times out a source that never answers, across garbage collections (${withParent ? 'with' : 'without'} a caller's signal)`, async () => {
      server.behaviours.set('emotion.json', { kind: 'hang' });
      const parent = new AbortController();
      const transfer = transferToTemp({ kind: 'remote', url: new URL(server.url('emotion.json')) }, tmpDir, {
        maxBytes: 1 << 20,
        timeoutMs: 300,
        ...(withParent ? { signal: parent.signal } : {}),
      });
      const { error } = await underGc(transfer, 10_000);
      expect(error?.message).to.match(/timed out after 300 ms/);
      expect(await readdir(tmpDir), 'no partial file left').to.deep.equal([]);
    });
  }

  it("stops at once when the caller's signal aborts, and says so", async () => {
    server.behaviours.set('emotion.json', { kind: 'hang' });
    const parent = new AbortController();
    const transfer = transferToTemp({ kind: 'remote', url: new URL(server.url('emotion.json')) }, tmpDir, { maxBytes: 1 << 20, timeoutMs: 60_000, signal: parent.signal });
    setTimeout(() => parent.abort(), 50);
    const { error } = await underGc(transfer, 10_000);
    expect(error?.message).to.match(/cancelled/);
  });
});
