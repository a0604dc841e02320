import { Router } from '@koa/router';
import type { ModelRegistry } from '../core/registry.js';
import { sendCacheable } from './conditionalGet.js';
import { discoveryDocument } from './discovery.js';
import type { RequestState } from './requestState.js';

/** The discovery document's path: open without an API key (see `discoveryDocument`). */
export const DISCOVERY_PATH = '/v1/discovery';

/**
 * `GET /v1/models`: every model of the pool with its task, state, engine, card, labels and benchmark;
 * `GET /v1/discovery`: the node's summary for clients and the operator. Both carry an ETag and must be
 * revalidated (`no-cache`): a client keeps its copy and pays one 304 per check until the pool changes.
 */
export function poolRouter(registry: ModelRegistry): Router<RequestState> {
  const router = new Router<RequestState>();
  router.get('/v1/models', (ctx) => {
    const body = {
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
    // The listing needs an API key: shared caches must not keep it.
    sendCacheable(ctx, body, 'private, no-cache');
  });
  router.get(DISCOVERY_PATH, (ctx) => {
    sendCacheable(ctx, discoveryDocument(registry), 'no-cache');
  });
  return router;
}
