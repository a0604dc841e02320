import { DIALOG_SMART_HOME, SPEECH_RECOGNISER } from '../../../../inference-runtime/config/defaultPool.js';
import type { PoolModel } from '../../../../inference-runtime/config/types.js';
import { dialogIntentTask } from '../../../../inference-runtime/tasks/dialog/intent.js';
import { speechRecognitionTask } from '../../../../inference-runtime/tasks/speech/recognition.js';
import { TaskTable } from '../../../../inference-runtime/tasks/table.js';
import type { TaskContext } from '../../../../inference-runtime/tasks/task.js';
import { visionRouter } from '../../../../inference-runtime/tasks/vision/visionRouter.js';
import { startPoolServer, type PoolServer } from '../../../helpers/poolServer.js';

export type SpeechServer = PoolServer;

export const SPEECH_TEST_LIMITS: TaskContext['limits'] = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxDecodeBytes: 64 * 1024 * 1024,
  maxConcurrentDecodes: 2,
  maxWaitingDecodes: 8,
};

/** A runtime serving the built-in speech recogniser and dialog corpus on a loopback port, with their task routes. */
export async function startSpeechServer(options: { workers?: number; models?: PoolModel[]; demoPage?: boolean } = {}): Promise<SpeechServer> {
  return startPoolServer({
    name: 'speech',
    pool: { models: options.models ?? [SPEECH_RECOGNISER, DIALOG_SMART_HOME] },
    registry: { workers: options.workers },
    app: (registry) => {
      // Mounted as the runtime mounts its task table: over the app's data plane, which meters every model.
      const tasks = new TaskTable([speechRecognitionTask, dialogIntentTask]).mount(SPEECH_TEST_LIMITS);
      // The vision router serves the demo pages (/demo/...); its vision routes stay unused here.
      return { tasks, routers: options.demoPage ? [visionRouter({ registry })] : [] };
    },
  });
}
