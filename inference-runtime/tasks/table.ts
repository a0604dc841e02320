import type { Router } from '@koa/router';
import type { Mount } from '../http/app.js';
import type { RequestState } from '../http/requestState.js';
import { TaskIndex } from './specs.js';
import type { TaskContext, TaskLimits, TaskModule } from './task.js';

export { TASK_ID_PATTERN } from './specs.js';
import { faceDetection } from './vision/faceDetection.js';
import { facialExpression } from './vision/facialExpression.js';
import { objectDetection } from './vision/objectDetection.js';
import { textDetectionTask } from './vision/textDetection.js';
import { textOrientationTask } from './vision/textOrientation.js';
import { textRecognitionTask } from './vision/textRecognition.js';
import { translationTextTask } from './translation/text.js';
import { speechRecognitionTask } from './speech/recognition.js';
import { dialogIntentTask } from './dialog/intent.js';

/**
 * Every task the runtime knows, one module each (like the compiler's op table): the pool loader checks
 * models against their task's module, the app mounts the modules' routes, and the operator validates MLModels
 * from the same entries. A new task is a new module and one line here.
 */
export const taskTable: readonly TaskModule[] = [
  faceDetection,
  facialExpression,
  objectDetection,
  textDetectionTask,
  textOrientationTask,
  textRecognitionTask,
  translationTextTask,
  speechRecognitionTask,
  dialogIntentTask,
];

/** The task modules by id, with the routes they serve. */
export class TaskTable extends TaskIndex<TaskModule> {
  constructor(modules: readonly TaskModule[] = taskTable) {
    super(modules);
  }

  /** The routers of every task that has routes, built over one context. */
  routers(context: TaskContext): Router<RequestState>[] {
    return this.modules.flatMap((m) => (m.routes ? [m.routes(context)] : []));
  }

  /** The task APIs as one of the app's mounts, over the app's data plane and memory budget. */
  mount(limits: TaskLimits): Mount {
    return ({ plane, memoryBudget }) => this.routers({ registry: plane, memoryBudget, limits });
  }
}

/** The runtime's table. */
export const tasks = new TaskTable();
