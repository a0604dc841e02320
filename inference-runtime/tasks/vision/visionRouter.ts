import { Router } from '@koa/router';
import type { MemoryBudget } from '../../core/memoryBudget.js';
import type { ModelRegistry } from '../../core/registry.js';
import { demoPagePaths, demoRouter } from '../../http/demoPage.js';
import type { RequestState } from '../../http/requestState.js';
import { defaultVisionLimits, type VisionLimits } from '../../vision/limits.js';
import type { TaskContext } from '../task.js';
import { faceDetection } from './faceDetection.js';
import { facialExpression } from './facialExpression.js';
import { objectDetection } from './objectDetection.js';

export interface VisionRouterDeps {
  registry: ModelRegistry;
  limits?: Partial<VisionLimits>;
  /** The runtime's memory budget, shared with the other routes; decodes are admitted by it. */
  memoryBudget?: MemoryBudget;
}

/**
 * The vision task routes and the demo page as one router, for code that mounts them by hand
 * (`createApp({ routers: [visionRouter(...)] })`). The runtime mounts the task table instead (tasks/table.ts).
 */
export function visionRouter(deps: VisionRouterDeps): Router<RequestState> {
  const context: TaskContext = { registry: deps.registry, memoryBudget: deps.memoryBudget, limits: { ...defaultVisionLimits, ...deps.limits } };
  const router = new Router<RequestState>();
  for (const task of [faceDetection, facialExpression, objectDetection]) router.use(task.routes!(context).routes());
  router.use(demoRouter().routes());
  return router;
}

export { demoPagePaths };
