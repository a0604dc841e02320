/**
 * The runtime as the vision benchmark measures it, in its own process: the default pool (optionally forced
 * onto one engine), N inference worker threads, the vision router. Prints `{"url": ...}` once every model is
 * AVAILABLE and stops on SIGTERM.
 *
 *   node --import tsx bench/visionServer.ts --workers 2 --backend tfjs
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { visionPool } from '../inference-runtime/config/defaultPool.js';
import type { BackendPreference } from '../inference-runtime/config/types.js';
import { createModelRegistry } from '../inference-runtime/dataplane/modelRegistry.js';
import { createApp } from '../inference-runtime/http/app.js';
import { startServer } from '../inference-runtime/server.js';
import { visionRouter } from '../inference-runtime/tasks/vision/visionRouter.js';

const { values } = parseArgs({ options: { workers: { type: 'string', default: '1' }, backend: { type: 'string', default: 'tfjs' } } });
const workers = Number(values.workers);
const backend = values.backend as BackendPreference;

const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'mloffload-bench-cache-'));
const pool = visionPool();
for (const m of pool.models) m.backend = backend;
const registry = createModelRegistry(pool, { workers, benchmark: false, repository: { cacheDir } });
await registry.whenSettled();
const down = registry.list().filter((m) => m.state !== 'AVAILABLE');
if (down.length > 0) {
  process.stderr.write(`models not available: ${JSON.stringify(down)}\n`);
  await registry.close();
  process.exitCode = 1;
} else {
  const app = createApp({ registry, routers: [visionRouter({ registry })], options: { requestTimeoutMs: 120_000 } });
  const server = await startServer(app.callback(), { port: 0, host: '127.0.0.1' });
  const backends = [...new Set(registry.list().map((m) => m.backend))];
  process.stdout.write(`${JSON.stringify({ url: server.url, workers, backends })}\n`);
  process.once('SIGTERM', () => {
    void (async () => {
      await server.close();
      await registry.close();
      rmSync(cacheDir, { recursive: true, force: true });
    })();
  });
}
