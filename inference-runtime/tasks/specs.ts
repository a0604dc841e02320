import { MODEL_SPEC_SCHEMA } from '../config/modelSpec.schema.js';
import type { TaskSpec } from './task.js';
import { dialogIntentSpec } from './dialog/spec.js';
import { speechRecognitionSpec } from './speech/spec.js';
import { translationSpec } from './translation/spec.js';
import { faceDetectionSpec, facialExpressionSpec, objectDetectionSpec, textDetectionSpec, textOrientationSpec, textRecognitionSpec } from './vision/specs.js';

/**
 * The rules of every task (tasks/table.ts lists their modules; a test proves both lists agree). The operator
 * validates MLModels from here: plain data, so it loads no task's pipelines, engines or routes.
 */
export const taskSpecs: readonly TaskSpec[] = [
  faceDetectionSpec,
  facialExpressionSpec,
  objectDetectionSpec,
  textDetectionSpec,
  textOrientationSpec,
  textRecognitionSpec,
  translationSpec,
  speechRecognitionSpec,
  dialogIntentSpec,
];

/** The shape every task id has: `<category>/<task>`, lower case (the MLModel schema's rule). */
export const TASK_ID_PATTERN = new RegExp(MODEL_SPEC_SCHEMA.properties.task.pattern);

/** Tasks (specs or modules) by id. */
export class TaskIndex<T extends TaskSpec> {
  private readonly byId: ReadonlyMap<string, T>;

  constructor(readonly modules: readonly T[]) {
    const byId = new Map<string, T>();
    for (const m of modules) {
      if (!TASK_ID_PATTERN.test(m.id)) throw new Error(`task id ${m.id} is not <category>/<task>`);
      if (byId.has(m.id)) throw new Error(`task ${m.id} is listed twice`);
      byId.set(m.id, m);
    }
    this.byId = byId;
  }

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }
}

/** The rules of the runtime's tasks, by id. */
export const specs = new TaskIndex<TaskSpec>(taskSpecs);
