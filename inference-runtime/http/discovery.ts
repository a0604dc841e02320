import type { ModelBenchmark, ModelRegistry, ModelState } from '../core/registry.js';
import { nodeName, runtimeVersion } from '../core/runtimeInfo.js';

/** One model as the discovery document shows it. */
export interface DiscoveryModel {
  name: string;
  version: string;
  task: string;
  state: ModelState;
  backend?: string;
  benchmark?: ModelBenchmark;
}

/** `GET /v1/discovery`: what a client needs to choose this node, and what the operator publishes in MLModel status. */
export interface DiscoveryDocument {
  kind: 'Discovery';
  apiVersion: 'mloffload.io/v1alpha1';
  /** The Kubernetes node (`NODE_NAME`), or the host name outside a cluster. */
  node: string;
  runtimeVersion: string;
  ready: boolean;
  /** Tasks with an AVAILABLE model, sorted. */
  tasks: string[];
  models: DiscoveryModel[];
}

/**
 * The node's summary: its name, the tasks and models it serves and each model's measured latency. It
 * carries no request data, no weights and no card, and is served without an API key like `/readyz`, so
 * that apps can probe round-trip times before any call and the operator, which holds no API key, can read
 * the benchmarks through the API server's pod proxy.
 */
export function discoveryDocument(registry: ModelRegistry): DiscoveryDocument {
  const statuses = registry.list();
  return {
    kind: 'Discovery',
    apiVersion: 'mloffload.io/v1alpha1',
    node: nodeName(),
    runtimeVersion: runtimeVersion(),
    ready: registry.isReady(),
    tasks: [...new Set(statuses.filter((s) => s.state === 'AVAILABLE').map((s) => s.task))].sort(),
    models: statuses.map((s) => ({
      name: s.name,
      version: s.version,
      task: s.task,
      state: s.state,
      ...(s.backend ? { backend: s.backend } : {}),
      ...(s.benchmark ? { benchmark: s.benchmark } : {}),
    })),
  };
}
