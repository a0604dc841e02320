/**
 * TypeScript shapes of the mloffload.io/v1alpha1 custom resources. crds/*.yaml are the source of truth for
 * validation and defaults; these types mirror them for the operator's code.
 */
import type { BackendPreference, Framework, ModelCard, Preprocessing } from '../../inference-runtime/config/types.js';
import type { ModelBenchmark } from '../../inference-runtime/core/registry.js';

export const GROUP = 'mloffload.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Any object the API server returns: typed metadata, the rest left open. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface MLModelSpec {
  task: string;
  framework: Framework;
  version: string;
  source: { uri: string; sha256?: string; shards?: Record<string, string>; allowedRedirectHosts?: string[] };
  labels?: string[];
  preprocessing?: Preprocessing;
  card?: ModelCard;
  backend?: BackendPreference;
}

export interface MLModelStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  usedBy?: string[];
  benchmark?: BenchmarkEntry[];
}

/** One measurement in MLModel status: the runtime's figures plus where they came from. */
export interface BenchmarkEntry extends ModelBenchmark {
  /** The model version measured. */
  version: string;
  service?: string;
  pod?: string;
}

export interface MLModel extends KubeObject {
  spec: MLModelSpec;
  status?: MLModelStatus;
}

export interface ModelRef {
  name: string;
  version?: string;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

export type Quantity = string | number;

export interface MLServiceSpec {
  models: ModelRef[];
  replicas?: number;
  image?: string;
  port?: number;
  resources?: { requests?: Record<string, Quantity>; limits?: Record<string, Quantity> };
  placement?: { edgeOnly?: boolean; nodeSelector?: Record<string, string>; tolerations?: Toleration[] };
  tls?: { secretName: string };
  auth?: { apiKeySecretName: string; apiKeySecretKey?: string };
  batching?: { maxBatchSize: number; maxDelayMs: number };
  autoscaling?: { minReplicas?: number; maxReplicas: number; targetCPUUtilizationPercentage?: number };
  modelCache?: { hostPath?: { path?: string }; emptyDir?: { sizeLimit?: Quantity } };
}

export type ModelState = 'Configured' | 'NotFound' | 'NotAccepted' | 'VersionMismatch';

export interface MLServiceStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  replicas?: number;
  readyReplicas?: number;
  replicaSummary?: string;
  endpoint?: string;
  /** Addresses apps outside the cluster reach the runtime pods at. */
  endpoints?: PublishedEndpoint[];
  models?: { name: string; version?: string; state: ModelState }[];
}

export interface PublishedEndpoint {
  url: string;
  node?: string;
  address: string;
  port: number;
  kind: 'NodePort' | 'LoadBalancer';
  service?: string;
  tier: 'edge' | 'cloud';
}

export interface MLService extends KubeObject {
  spec: MLServiceSpec;
  status?: MLServiceStatus;
}

/** `namespace/name`, the key of the work queues. */
export function keyOf(obj: { metadata: { name: string; namespace?: string } }): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
