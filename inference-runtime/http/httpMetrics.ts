import type { Middleware } from 'koa';
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RequestState } from './requestState.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Request and inference metrics. Labels stay bounded: `route` is the matched route pattern (never the raw
 * path), and `model` is set only once a route resolved a configured model.
 */
export class HttpMetrics {
  readonly requests: Counter<'method' | 'route' | 'model' | 'code'>;
  readonly latency: Histogram<'method' | 'route' | 'model'>;
  readonly inference: Histogram<'model' | 'version'>;
  readonly inFlight: Gauge;

  /** `queueDepth` reports inference requests waiting for a free thread, read at each scrape. */
  constructor(register: Registry, queueDepth?: () => number) {
    if (register.getSingleMetric('process_cpu_user_seconds_total') === undefined) {
      collectDefaultMetrics({ register });
    }
    this.requests = reuse(register, 'mloffload_http_requests_total', () => new Counter({
      name: 'mloffload_http_requests_total',
      help: 'HTTP requests by route, model and status code.',
      labelNames: ['method', 'route', 'model', 'code'],
      registers: [register],
    }));
    this.latency = reuse(register, 'mloffload_http_request_duration_seconds', () => new Histogram({
      name: 'mloffload_http_request_duration_seconds',
      help: 'Time from request arrival to response, by route and model.',
      labelNames: ['method', 'route', 'model'],
      buckets: LATENCY_BUCKETS,
      registers: [register],
    }));
    this.inference = reuse(register, 'mloffload_inference_duration_seconds', () => new Histogram({
      name: 'mloffload_inference_duration_seconds',
      help: 'Time spent in model inference per request, by model and version.',
      labelNames: ['model', 'version'],
      buckets: LATENCY_BUCKETS,
      registers: [register],
    }));
    this.inFlight = reuse(register, 'mloffload_http_requests_in_flight', () => new Gauge({
      name: 'mloffload_http_requests_in_flight',
      help: 'HTTP requests being served.',
      registers: [register],
    }));
    if (queueDepth && register.getSingleMetric('mloffload_inference_queue_depth') === undefined) {
      new Gauge({
        name: 'mloffload_inference_queue_depth',
        help: 'Inference requests waiting for a free inference thread.',
        registers: [register],
        collect() {
          this.set(queueDepth());
        },
      });
    }
  }

  middleware(): Middleware<RequestState> {
    return async (ctx, next) => {
      const start = process.hrtime.bigint();
      this.inFlight.inc();
      try {
        await next();
      } finally {
        this.inFlight.dec();
        const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
        this.observe(ctx.method, matched === undefined ? 'unmatched' : String(matched), ctx.status, start, ctx.state);
      }
    };
  }

  /**
   * Counts one answered request that arrived at `start` (process.hrtime.bigint()), under its route pattern,
   * and the inference time its route recorded in `state`. The middleware above calls it for koa's routes,
   * directRoutes.ts for the inference routes it serves itself; `inFlight` is theirs to move.
   */
  observe(method: string, route: string, status: number, start: bigint, state: Pick<RequestState, 'model' | 'inferenceSeconds'>): void {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const model = state.model?.name ?? '';
    this.requests.inc({ method, route, model, code: String(status) });
    this.latency.observe({ method, route, model }, seconds);
    if (state.model && state.inferenceSeconds !== undefined) {
      this.inference.observe({ model: state.model.name, version: state.model.version }, state.inferenceSeconds);
    }
  }
}

/** A second app on the same registry (tests, restarts in-process) shares the metrics instead of failing. */
function reuse<T>(register: Registry, name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}
