import type { Router } from '@koa/router';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Koa from 'koa';
import type { MemoryBudget } from '../core/memoryBudget.js';
import { Registry } from 'prom-client';
import type { ModelRegistry } from '../core/registry.js';
import { DataPlane } from '../dataplane/dataPlane.js';
import { ApiKeyCheck, requireApiKey } from './apiKeys.js';
import { cors } from './cors.js';
import { DirectRoutes, type DirectPolicies } from './directRoutes.js';
import { requestDeadline } from './requestDeadline.js';
import { dispatchRoutes } from './routeDispatch.js';
import { errorResponse } from './errorResponse.js';
import { HttpMetrics } from './httpMetrics.js';
import { silentLogger, type Logger } from './logger.js';
import { resolveHttpOptions, type HttpOptions } from './options.js';
import { DISCOVERY_PATH, poolRouter } from './poolRoutes.js';
import { METRICS_PATH, PROBE_PATHS, probeRouter } from './probeRoutes.js';
import type { RequestState } from './requestState.js';
import { tfServingProtocol } from './tfserving/routes.js';
import { v2Protocol } from './v2/routes.js';

/** What every protocol and task API is built over: the data plane and the runtime's shared limits. */
export interface MountContext {
  plane: DataPlane;
  options: HttpOptions;
  memoryBudget?: MemoryBudget;
  /** Aborted when the server starts draining: readiness answers turn 503. */
  draining?: AbortSignal;
  /** Where a protocol registers its inference routes to be served without koa as well (directRoutes.ts). */
  direct?: DirectRoutes;
}

/**
 * Routes over the data plane: a protocol (TF Serving REST, V2) or the task table's APIs. The app mounts them
 * all the same way, behind the same error mapping, API keys, deadline and metrics.
 */
export type Mount = (context: MountContext) => ReadonlyArray<Router<RequestState>>;

/** The protocols served when `protocols` is not given. */
export const defaultProtocols: readonly Mount[] = [tfServingProtocol, v2Protocol];

export interface AppDeps {
  /** The data plane, or a registry to build one over (its per-model metrics join `metrics`). */
  registry: ModelRegistry;
  /** Protocol adapters (default: TF Serving REST). */
  protocols?: readonly Mount[];
  /** The task APIs (tasks/table.ts `tasks.mount(...)`), mounted after the protocols. */
  tasks?: Mount;
  options?: Partial<HttpOptions>;
  /** Where request metrics and default process metrics are registered and served from; a fresh one if absent. */
  metrics?: Registry;
  /**
   * More routes over the same registry (the task APIs). They run behind the same error mapping, API keys,
   * deadline and metrics, and record `ctx.state.model` / `inferenceSeconds` like the built-in routes.
   */
  routers?: ReadonlyArray<Router<RequestState>>;
  /** Paths served without an API key besides the probes: static pages that carry no data (the demo page). */
  publicPaths?: readonly string[];
  /** Aborted when the server starts draining: `/readyz` turns 503 so traffic moves elsewhere. */
  draining?: AbortSignal;
  /** Inference requests waiting for a thread, exported as `mloffload_inference_queue_depth`. */
  queueDepth?: () => number;
  log?: Logger;
  /** The live API key check, when keys are reloaded while serving; built from `options.apiKeys` if absent. */
  apiKeys?: ApiKeyCheck;
  /** Admission of memory-hungry work (request bodies, inferences, decodes); share it with the task routers. */
  memoryBudget?: MemoryBudget;
}

/**
 * The runtime's koa app. Its `callback()` serves the protocols' inference routes itself when a request needs
 * nothing else (directRoutes.ts) and hands every other request to koa; `koaCallback()` sends all to koa.
 * Middleware added with `use()` after createApp does not see the inference requests served directly.
 */
export class RuntimeApp extends Koa<RequestState> {
  constructor(private readonly direct: { routes: DirectRoutes; policies: DirectPolicies }) {
    super();
  }

  override callback(): ReturnType<Koa<RequestState>['callback']> {
    const koa = super.callback();
    return this.direct.routes.listener(this.direct.policies, koa as (req: IncomingMessage, res: ServerResponse) => Promise<void>) as typeof koa;
  }

  koaCallback(): ReturnType<Koa<RequestState>['callback']> {
    return super.callback();
  }
}

/** Builds the runtime's koa app without listening (`server.ts` listens). */
export function createApp(deps: AppDeps): RuntimeApp {
  const options = resolveHttpOptions(deps.options);
  const metrics = deps.metrics ?? new Registry();
  const log = deps.log ?? silentLogger;
  const open = new Set<string>([...PROBE_PATHS, DISCOVERY_PATH, ...(deps.publicPaths ?? [])]);
  if (!options.protectMetrics) open.add(METRICS_PATH);
  const httpMetrics = new HttpMetrics(metrics, deps.queueDepth);
  const keys = deps.apiKeys ?? new ApiKeyCheck(options.apiKeys);
  const direct = new DirectRoutes();
  const app = new RuntimeApp({
    routes: direct,
    policies: { requestTimeoutMs: options.requestTimeoutMs, corsOrigins: options.corsOrigins, keys, open, metrics: httpMetrics, log },
  });
  // Errors are mapped and logged by errorResponse; koa's default handler would print them a second time.
  app.silent = true;

  app.use(httpMetrics.middleware());
  app.use(errorResponse(log));
  app.use(async (ctx, next) => {
    ctx.state.deadline = requestDeadline(ctx.res, options.requestTimeoutMs);
    await next();
  });
  app.use(cors(options.corsOrigins));
  app.use(requireApiKey(keys, open));

  // With keys configured, /readyz tells an anonymous caller only whether it is ready (model names and
  // failure reasons are for key holders); an open API shows them to all, as /v1/models does.
  const readyzDetails = (ctx: { headers: Record<string, string | string[] | undefined> }): boolean => !keys.enabled || keys.authorizes(ctx.headers);
  const plane = DataPlane.over(deps.registry, { metrics });
  const context: MountContext = { plane, options, memoryBudget: deps.memoryBudget, draining: deps.draining, direct };
  const mounts = [...(deps.protocols ?? defaultProtocols), ...(deps.tasks ? [deps.tasks] : [])];
  const routers = [
    probeRouter(plane, metrics, deps.draining, readyzDetails),
    poolRouter(plane),
    ...mounts.flatMap((mount) => mount(context)),
    ...(deps.routers ?? []),
  ];
  app.use(dispatchRoutes(routers));
  return app;
}
