/** What a reconciler works with: the API client, the informer caches and the operator's settings. */
import type { KubeObject, MLModel, MLService } from '../api/types.js';
import type { RuntimeDefaults } from '../builders/deployment.js';
import type { EventRecorder } from '../kube/events.js';
import type { Informer } from '../kube/informer.js';
import type { KubeClient } from '../kube/restClient.js';
import type { Logger } from '../logger.js';
import type { TenancyPolicy } from '../policy/tenancy.js';
import type { OperatorMetrics } from '../metrics.js';
import type { BenchmarkStore } from './benchmarks.js';
import type { RuntimeObserver } from './runtimeObservation.js';
import type { DeploymentView } from './serviceStatus.js';

export type DeploymentObject = KubeObject & DeploymentView;

export interface ReconcileContext {
  client: KubeClient;
  models: Informer<MLModel>;
  services: Informer<MLService>;
  deployments: Informer<DeploymentObject>;
  k8sServices: Informer<KubeObject>;
  configMaps: Informer<KubeObject>;
  hpas: Informer<KubeObject>;
  runtime: RuntimeDefaults;
  /** What an MLService may ask for on its author's behalf. */
  policy: TenancyPolicy;
  events: EventRecorder;
  metrics: OperatorMetrics;
  logger: Logger;
  now?: () => Date;
  /** Reads endpoints and benchmarks of running pods (status.endpoints, MLModel status.benchmark). */
  observer?: RuntimeObserver;
  /** Benchmarks read from runtime pods, written into MLModel status by the MLModel reconcile. */
  benchmarks?: BenchmarkStore;
}

/** MLServices in `namespace` whose spec references the MLModel `modelName`. */
export function servicesUsing(services: Informer<MLService>, namespace: string, modelName: string): MLService[] {
  return services.list(namespace).filter((s) => s.spec?.models?.some((m) => m.name === modelName));
}
