import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIALOG_SMART_HOME, SPEECH_RECOGNISER } from '../../../../inference-runtime/config/defaultPool.js';
import type { PoolModel } from '../../../../inference-runtime/config/types.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../../inference-runtime/dataplane/modelRegistry.js';
import { createApp } from '../../../../inference-runtime/http/app.js';
import { startServer } from '../../../../inference-runtime/server.js';
import { dialogIntentTask } from '../../../../inference-runtime/tasks/dialog/intent.js';
import { speechRecognitionTask } from '../../../../inference-runtime/tasks/speech/recognition.js';
import type { TaskContext } from '../../../../inference-runtime/tasks/task.js';
import { visionRouter } from '../../../../inference-runtime/tasks/vision/visionRouter.js';

export interface SpeechServer {
  url: string;
  registry: PoolModelRegistry;
  close(): Promise<void>;
}

export const SPEECH_TEST_LIMITS: TaskContext['limits'] = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxDecodeBytes: 64 * 1024 * 1024,
  maxConcurrentDecodes: 2,
  maxWaitingDecodes: 8,
};

/** A runtime serving the built-in speech recogniser and dialog corpus on a loopback port, with their task routes. */
export async function startSpeechServer(options: { workers?: number; models?: PoolModel[]; demoPage?: boolean } = {}): Promise<SpeechServer> {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'mloffload-speech-cache-'));
  const registry = createModelRegistry(
    { models: options.models ?? [SPEECH_RECOGNISER, DIALOG_SMART_HOME] },
    { workers: options.workers ?? 1, benchmark: false, repository: { cacheDir } },
  );
  await registry.whenSettled();
  const down = registry.list().filter((m) => m.state !== 'AVAILABLE');
  if (down.length) {
    await registry.close();
    throw new Error(`models not available: ${down.map((m) => `${m.name} ${m.state} ${m.reason ?? ''}`).join('; ')}`);
  }
  const context: TaskContext = { registry, limits: SPEECH_TEST_LIMITS };
  const routers = [speechRecognitionTask, dialogIntentTask].map((t) => t.routes!(context));
  // The vision router serves the demo pages (/demo/...); its vision routes stay unused here.
  if (options.demoPage) routers.push(visionRouter({ registry }));
  const app = createApp({ registry, routers });
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
