import type { NamedTensors } from '../../core/tensor.js';
import type { TaskModelView, TaskModule } from '../task.js';

/**
 * A task's `checkOutputs` made from its output decoder: the warm-up run's outputs are decoded as a request's
 * would be, and the decoder's error, worded with the task and the model, is why the model cannot serve the
 * task (UNAVAILABLE at load rather than a failure at its first request).
 */
export function decodableOutputs(taskId: string, decode: (outputs: NamedTensors, view: TaskModelView) => unknown): NonNullable<TaskModule['checkOutputs']> {
  return (view, outputs) => {
    try {
      decode(outputs, view);
      return [];
    } catch (error) {
      return [`${(error as Error).message} (task ${taskId}, model ${view.config.name})`];
    }
  };
}
