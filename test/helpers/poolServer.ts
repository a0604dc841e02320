/**
 * An in-process runtime on a loopback port: the real model registry over a pool (inference in worker threads,
 * as in production, with a throwaway model cache) and the runtime's koa app over it with the given routes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PoolConfig } from '../../inference-runtime/config/types.js';
import { createModelRegistry, type PoolModelRegistry, type RegistryOptions } from '../../inference-runtime/dataplane/modelRegistry.js';
import { createApp, type AppDeps } from '../../inference-runtime/http/app.js';
import { startServer } from '../../inference-runtime/server.js';

export interface PoolServer {
  url: string;
  registry: PoolModelRegistry;
  close(): Promise<void>;
}

export interface PoolServerOptions {
  /** Names the model cache folder (`mloffload-<name>-cache-...`), so a leftover one says whose it is. */
  name: string;
  pool: PoolConfig;
  /** Registry options; `workers` defaults to 1 (the test machines have two cores for everything), no benchmark. */
  registry?: Omit<RegistryOptions, 'repository'>;
  /** The app over the registry once every model is available. */
  app(registry: PoolModelRegistry): Omit<AppDeps, 'registry'>;
}

/** Starts the server once every model of the pool is AVAILABLE; throws (after cleaning up) otherwise. */
export async function startPoolServer(options: PoolServerOptions): Promise<PoolServer> {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), `mloffload-${options.name}-cache-`));
  const registry = createModelRegistry(options.pool, {
    benchmark: false,
    ...options.registry,
    workers: options.registry?.workers ?? 1,
    repository: { cacheDir },
  });
  const closeRegistry = async (): Promise<void> => {
    await registry.close();
    rmSync(cacheDir, { recursive: true, force: true });
  };
  await registry.whenSettled();
  const down = registry.list().filter((m) => m.state !== 'AVAILABLE');
  if (down.length > 0) {
    await closeRegistry();
    throw new Error(`models not available: ${down.map((m) => `${m.name} ${m.state} ${m.reason ?? ''}`).join('; ')}`);
  }
  const app = createApp({ ...options.app(registry), registry });
  const running = await startServer(app.callback(), { port: 0, host: '127.0.0.1' });
  return {
    url: running.url,
    registry,
    close: async () => {
      await running.close();
      await closeRegistry();
    },
  };
}
