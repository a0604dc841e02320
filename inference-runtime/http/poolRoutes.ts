import { Router } from '@koa/router';
import type { ModelRegistry } from '../core/registry.js';
import type { RequestState } from './requestState.js';

/** `GET /v1/models`: every model of the pool with its task, state, engine, card, labels and benchmark. */
export function poolRouter(registry: ModelRegistry): Router<RequestState> {
  const router = new Router<RequestState>();
  router.get('/v1/models', (ctx) => {
    ctx.body = {
      models: registry.list().map((s) => ({
        name: s.name,
        version: s.version,
        task: s.task,
        framework: s.framework,
        state: s.state,
        reason: s.reason,
        backend: s.backend,
        backendNote: s.backendNote,
        card: s.card,
        labels: s.labels,
        benchmark: s.benchmark,
      })),
    };
  });
  return router;
}
