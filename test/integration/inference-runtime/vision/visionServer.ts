/**
 * Starts the runtime's koa app with the vision router mounted, over the real model registry serving the
 * built-in default pool (inference in worker threads, as in production).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { visionPool } from '../../../../inference-runtime/config/defaultPool.js';
import type { BackendPreference } from '../../../../inference-runtime/config/types.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../../inference-runtime/dataplane/modelRegistry.js';
import { createApp } from '../../../../inference-runtime/http/app.js';
import { startServer, type RunningServer } from '../../../../inference-runtime/server.js';
import type { VisionLimits } from '../../../../inference-runtime/vision/limits.js';
import { tasks } from '../../../../inference-runtime/tasks/table.js';
import { visionRouter } from '../../../../inference-runtime/tasks/vision/visionRouter.js';

export interface VisionServer {
  url: string;
  registry: PoolModelRegistry;
  close(): Promise<void>;
}

export interface VisionServerOptions {
  limits?: Partial<VisionLimits>;
  /** Inference worker threads (default 1: the test machines have two cores for everything). */
  workers?: number;
  /** Force one engine for every model of the pool (default: the pool's own choice). */
  backend?: BackendPreference;
}

export async function startVisionServer(options: VisionServerOptions = {}): Promise<VisionServer> {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'mloffload-vision-cache-'));
  const pool = visionPool();
  if (options.backend) for (const m of pool.models) m.backend = options.backend;
  const registry = createModelRegistry(pool, { workers: options.workers ?? 1, benchmark: false, repository: { cacheDir }, tasks });
  await registry.whenSettled();
  const down = registry.list().filter((m) => m.state !== 'AVAILABLE');
  if (down.length > 0) {
    await registry.close();
    throw new Error(`models not available: ${down.map((m) => `${m.name} ${m.state} ${m.reason ?? ''}`).join('; ')}`);
  }
  const app = createApp({ registry, routers: [visionRouter({ registry, limits: options.limits })] });
  const running: RunningServer = await startServer(app.callback(), { port: 0, host: '127.0.0.1' });
  return {
    url: running.url,
    registry,
    close: async () => {
      await running.close();
      await registry.close();
      rmSync(cacheDir, { recursive: true, force: true });
    },
  };
}
