/**
 * TypeScript shapes of the mloffload.io/v1alpha1 custom resources. The MLModel spec is the runtime's
 * ModelSpec (one schema, inference-runtime/config/modelSpec.schema.ts, generates the CRD's); the rest mirrors
 * crds/*.yaml, and test/unit/operator/schemaDrift.test.ts holds the field names of both sides equal.
 */
import type { BatchingConfig, ModelSpec } from '../../inference-runtime/config/types.js';
import type { Equals, FromSchema } from '../../inference-runtime/config/schemaTypes.js';
import type { MODEL_BENCHMARK_SCHEMA } from '../../inference-runtime/core/benchmarkSchema.js';
import type { ModelBenchmark } from '../../inference-runtime/core/registry.js';
import type { BENCHMARK_ORIGIN_SCHEMA } from './crdSchemas.js';

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

export type MLModelSpec = ModelSpec;

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

// status.benchmark items are generated from these two schemas; the type must be what they accept.
type BenchmarkEntrySchema = {
  type: 'object';
  required: [...(typeof MODEL_BENCHMARK_SCHEMA)['required'], ...(typeof BENCHMARK_ORIGIN_SCHEMA)['required']];
  properties: (typeof MODEL_BENCHMARK_SCHEMA)['properties'] & (typeof BENCHMARK_ORIGIN_SCHEMA)['properties'];
};
export const benchmarkEntryTypeIsTheSchema: Equals<BenchmarkEntry, FromSchema<BenchmarkEntrySchema>> = true;

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
  batching?: BatchingConfig;
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
