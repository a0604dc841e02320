/**
 * The runtime's koa app with the text task's routes mounted, over the real model registry serving the OCR
 * models of the built-in pool (inference in a worker thread, as in production).
 */
import { ocrModels } from '../../../../inference-runtime/config/defaultPool.js';
import { textRecognitionTask } from '../../../../inference-runtime/tasks/vision/textRecognition.js';
import { defaultVisionLimits } from '../../../../inference-runtime/vision/limits.js';
import { startPoolServer, type PoolServer } from '../../../helpers/poolServer.js';

export type TextServer = PoolServer;

export async function startTextServer(options: { maxBodyBytes?: number; requestTimeoutMs?: number } = {}): Promise<TextServer> {
  const limits = { ...defaultVisionLimits, maxBodyBytes: options.maxBodyBytes ?? defaultVisionLimits.maxBodyBytes };
  return startPoolServer({
    name: 'text',
    pool: { models: ocrModels() },
    app: (registry) => ({
      routers: [textRecognitionTask.routes!({ registry, limits })],
      ...(options.requestTimeoutMs ? { options: { requestTimeoutMs: options.requestTimeoutMs } } : {}),
    }),
  });
}
