import type { Router } from '@koa/router';
import type { Mount } from '../http/app.js';
import type { RequestState } from '../http/requestState.js';
import type { TaskContext, TaskLimits, TaskModule } from './task.js';
import { faceDetection } from './vision/faceDetection.js';
import { facialExpression } from './vision/facialExpression.js';
import { objectDetection } from './vision/objectDetection.js';

/**
 * Every task the runtime knows, one module each (like the compiler's op table): the pool loader checks
 * models against their task's module, the app mounts the modules' routes, and the operator validates MLModels
 * from the same entries. A new task is a new module and one line here.
 */
export const taskTable: readonly TaskModule[] = [
  faceDetection,
  facialExpression,
  objectDetection,
];

/** The shape every task id has: `<category>/<task>`, lower case. */
export const TASK_ID_PATTERN = /^[a-z][a-z0-9-]*\/[a-z][a-z0-9-]*$/;

/** Looks tasks up by id. */
export class TaskTable {
  private readonly byId: ReadonlyMap<string, TaskModule>;

  constructor(readonly modules: readonly TaskModule[] = taskTable) {
    const byId = new Map<string, TaskModule>();
    for (const m of modules) {
      if (!TASK_ID_PATTERN.test(m.id)) throw new Error(`task id ${m.id} is not <category>/<task>`);
      if (byId.has(m.id)) throw new Error(`task ${m.id} is listed twice`);
      byId.set(m.id, m);
    }
    this.byId = byId;
  }

  get(id: string): TaskModule | undefined {
    return this.byId.get(id);
  }

  ids(): string[] {
    return [...this.byId.keys()];
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
