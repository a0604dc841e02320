import { Router } from '@koa/router';
import type { Registry } from 'prom-client';
import type { ModelRegistry } from '../core/registry.js';
import type { RequestState } from './requestState.js';

export const PROBE_PATHS = ['/healthz', '/readyz'] as const;
export const METRICS_PATH = '/metrics';

/**
 * `/healthz` answers while the process serves HTTP; `/readyz` only when every configured model is loaded
 * and warmed up and the server is not draining, with each model's state so a failing probe explains itself
 * to whoever `showDetails` lets see them (everyone by default); others get `{ ready }` and the status code.
 */
export function probeRouter(
  registry: ModelRegistry,
  metrics: Registry,
  draining: AbortSignal | undefined,
  showDetails: (ctx: { headers: Record<string, string | string[] | undefined> }) => boolean = () => true,
): Router<RequestState> {
  const router = new Router<RequestState>();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', (ctx) => {
    const isDraining = draining?.aborted ?? false;
    const ready = !isDraining && registry.isReady();
    ctx.status = ready ? 200 : 503;
    if (!showDetails(ctx)) {
      ctx.body = { ready };
      return;
    }
    ctx.body = {
      ready,
      ...(isDraining ? { draining: true } : {}),
      models: registry.list().map((s) => ({ name: s.name, version: s.version, state: s.state, ...(s.reason ? { reason: s.reason } : {}) })),
    };
  });
  router.get(METRICS_PATH, async (ctx) => {
    ctx.type = metrics.contentType;
    ctx.body = await metrics.metrics();
  });
  return router;
}
