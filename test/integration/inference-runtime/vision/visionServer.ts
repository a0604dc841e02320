/**
 * Starts the runtime's koa app with the vision router mounted, over the real model registry serving the
 * built-in default pool (inference in worker threads, as in production).
 */
import { visionPool } from '../../../../inference-runtime/config/defaultPool.js';
import type { BackendPreference } from '../../../../inference-runtime/config/types.js';
import type { VisionLimits } from '../../../../inference-runtime/vision/limits.js';
import { tasks } from '../../../../inference-runtime/tasks/table.js';
import { visionRouter } from '../../../../inference-runtime/tasks/vision/visionRouter.js';
import { startPoolServer, type PoolServer } from '../../../helpers/poolServer.js';

export type VisionServer = PoolServer;

export interface VisionServerOptions {
  limits?: Partial<VisionLimits>;
  /** Inference worker threads (default 1: the test machines have two cores for everything). */
  workers?: number;
  /** Force one engine for every model of the pool (default: the pool's own choice). */
  backend?: BackendPreference;
}

export async function startVisionServer(options: VisionServerOptions = {}): Promise<VisionServer> {
  const pool = visionPool();
  if (options.backend) for (const m of pool.models) m.backend = options.backend;
  return startPoolServer({
    name: 'vision',
    pool,
    registry: { workers: options.workers, tasks },
    app: (registry) => ({ routers: [visionRouter({ registry, limits: options.limits })] }),
  });
}
