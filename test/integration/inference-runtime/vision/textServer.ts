/**
 * The runtime's koa app with the text task's routes mounted, over the real model registry serving the OCR
 * models of the built-in pool (inference in a worker thread, as in production).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ocrModels } from '../../../../inference-runtime/config/defaultPool.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../../inference-runtime/dataplane/modelRegistry.js';
import { createApp } from '../../../../inference-runtime/http/app.js';
import { startServer } from '../../../../inference-runtime/server.js';
import { textRecognitionTask } from '../../../../inference-runtime/tasks/vision/textRecognition.js';
import { defaultVisionLimits } from '../../../../inference-runtime/vision/limits.js';

export interface TextServer {
  url: string;
  registry: PoolModelRegistry;
  close(): Promise<void>;
}

export async function startTextServer(options: { maxBodyBytes?: number; requestTimeoutMs?: number } = {}): Promise<TextServer> {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'mloffload-text-cache-'));
  const registry = createModelRegistry({ models: ocrModels() }, { workers: 1, benchmark: false, repository: { cacheDir } });
  await registry.whenSettled();
  const down = registry.list().filter((m) => m.state !== 'AVAILABLE');
  if (down.length > 0) {
    await registry.close();
    throw new Error(`models not available: ${down.map((m) => `${m.name} ${m.state} ${m.reason ?? ''}`).join('; ')}`);
  }
  const limits = { ...defaultVisionLimits, maxBodyBytes: options.maxBodyBytes ?? defaultVisionLimits.maxBodyBytes };
  const app = createApp({
    registry,
    routers: [textRecognitionTask.routes!({ registry, limits })],
    ...(options.requestTimeoutMs ? { options: { requestTimeoutMs: options.requestTimeoutMs } } : {}),
  });
  const running = await startServer(app.callback(), { port: 0, host: '127.0.0.1' });
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
