/** Prometheus metrics of one operator instance, on its own registry so several can live in one process. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface OperatorMetrics {
  registry: Registry;
  reconcileTotal: Counter<'controller' | 'result'>;
  reconcileErrors: Counter<'controller' | 'kind'>;
  reconcileTime: Histogram<'controller'>;
  queueDepth: Gauge<'controller'>;
  isLeader: Gauge;
  childWrites: Counter<'controller' | 'resource'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): OperatorMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  return {
    registry,
    reconcileTotal: new Counter({
      name: 'reconcile_total',
      help: 'Reconciles by controller and result (success, requeue, error, conflict, terminal).',
      labelNames: ['controller', 'result'],
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: 'reconcile_errors_total',
      help: 'Failed reconciles by controller and kind (error, conflict, terminal).',
      labelNames: ['controller', 'kind'],
      registers: [registry],
    }),
    reconcileTime: new Histogram({
      name: 'reconcile_time_seconds',
      help: 'Duration of one reconcile.',
      labelNames: ['controller'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'workqueue_depth',
      help: 'Keys waiting in the work queue (ready to run).',
      labelNames: ['controller'],
      registers: [registry],
    }),
    isLeader: new Gauge({ name: 'leader_election_is_leader', help: '1 while this instance holds the Lease.', registers: [registry] }),
    childWrites: new Counter({
      name: 'apply_writes_total',
      help: 'Server-side applies and status writes sent to the API server, by resource.',
      labelNames: ['controller', 'resource'],
      registers: [registry],
    }),
  };
}
