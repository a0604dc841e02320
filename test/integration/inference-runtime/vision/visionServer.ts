/**
 * Starts the runtime's koa app with the vision router mounted, over a registry that serves the default pool.
 */
import { createApp } from '../../../../inference-runtime/http/app.js';
import { startServer, type RunningServer } from '../../../../inference-runtime/server.js';
import { visionRouter } from '../../../../inference-runtime/vision/router.js';
import type { VisionLimits } from '../../../../inference-runtime/vision/limits.js';
import { loadDirectModels, type DirectRegistry } from './directModels.js';

export interface VisionServer {
  url: string;
  registry: DirectRegistry;
  close(): Promise<void>;
}

export async function startVisionServer(limits?: Partial<VisionLimits>): Promise<VisionServer> {
  const registry = await loadDirectModels();
  const app = createApp({ registry, routers: [visionRouter({ registry, limits })] });
  const running: RunningServer = await startServer(app.callback(), { port: 0, host: '127.0.0.1' });
  return {
    url: running.url,
    registry,
    close: async () => {
      await running.close();
      await registry.close();
    },
  };
}
