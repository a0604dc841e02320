/**
 * What the running runtime pods of an MLService show: the endpoints apps reach them at (status.endpoints)
 * and the benchmarks they measured (MLModel status.benchmark, through BenchmarkReader). Pods and Services
 * other than its own are not watched by the operator; they are listed when the ready replica count changes, when
 * a pod still taking its benchmarks is due for another read, and at most every `refreshMs` otherwise, and the
 * MLService reconcile comes back as often to notice Services and node addresses that changed.
 */
import type { MLModel, MLService, PublishedEndpoint } from '../api/types.js';
import { selectorLabels } from '../builders/metadata.js';
import { PODS, SERVICES, collectionPath } from '../kube/resources.js';
import type { KubeClient } from '../kube/restClient.js';
import type { Logger } from '../logger.js';
import type { BenchmarkReader } from './benchmarks.js';
import { isReady, reachableEndpoints, type EndpointPodView, type ServiceView } from './endpoints.js';

/** How often the pods of a Ready MLService are looked at again (default of RuntimeObserver). */
export const REFRESH_MS = 60_000;

interface Seen {
  at: number;
  ready: number;
  endpoints: PublishedEndpoint[];
}

export class RuntimeObserver {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly client: KubeClient,
    private readonly reader: BenchmarkReader,
    private readonly logger: Logger,
    readonly refreshMs: number = REFRESH_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The service's endpoints (the last ones seen when it is not time to look again). */
  async observe(key: string, svc: MLService, models: readonly MLModel[], readyReplicas: number): Promise<PublishedEndpoint[]> {
    const last = this.seen.get(key);
    const now = this.now();
    if (last && last.ready === readyReplicas && now - last.at < this.refreshMs && !this.reader.due(key, now)) return last.endpoints;
    if (readyReplicas === 0) {
      this.seen.set(key, { at: now, ready: 0, endpoints: [] });
      return [];
    }
    const ns = svc.metadata.namespace ?? 'default';
    let endpoints = last?.endpoints ?? [];
    try {
      const selector = Object.entries(selectorLabels(svc)).map(([k, v]) => `${k}=${v}`).join(',');
      const [pods, services] = await Promise.all([
        this.client.list<EndpointPodView>(collectionPath(PODS, ns), { labelSelector: selector }),
        this.client.list<ServiceView>(collectionPath(SERVICES, ns)),
      ]);
      const ready = pods.items.filter(isReady);
      this.logger.debug('observing runtime pods', { service: key, ready: ready.map((p) => p.metadata.name) });
      endpoints = reachableEndpoints(svc, ready, services.items);
      // In the background: a pod the API server cannot reach costs a dial timeout, which must not hold
      // up the reconcile and its status write.
      void this.reader.read(svc, models, ready.map((p) => ({ metadata: { name: p.metadata.name, uid: p.metadata.uid }, spec: p.spec }))).catch((error: unknown) =>
        this.logger.warn('could not read runtime benchmarks', { service: key, error: error instanceof Error ? error.message : String(error) }),
      );
    } catch (error) {
      // Endpoints and benchmarks are reports: failing to read them must not block the reconcile.
      this.logger.warn('could not observe the runtime pods', { service: key, error: error instanceof Error ? error.message : String(error) });
    }
    this.seen.set(key, { at: now, ready: readyReplicas, endpoints });
    return endpoints;
  }

  forget(key: string): void {
    this.seen.delete(key);
  }
}
