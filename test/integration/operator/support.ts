// Shared set-up of the operator integration tests: the CRDs installed once per process, a REST client for
// the test's own reads and writes, sample MLModel/MLService objects, and an operator started in-process.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubectl, useControlPlane } from '../../helpers/controlPlane.js';
import type { MLModel, MLModelSpec, MLService, MLServiceSpec } from '../../../operator/api/types.js';
import { type ClusterConnection, connectionFromKubeConfig } from '../../../operator/kube/connection.js';
import { ApiError, KubeClient } from '../../../operator/kube/restClient.js';
import { type ResourceType, collectionPath, objectPath } from '../../../operator/kube/resources.js';
import { type OperatorHandle, type OperatorOptions, startOperator } from '../../../operator/operator.js';
import { createLogger, silentLogger } from '../../../operator/logger.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const EMOTION_LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

let crds: Promise<void> | undefined;

/**
 * Removes the `node.kubernetes.io/not-ready:NoSchedule` taint from nodes that report Ready. The API server
 * puts it on every new node and the node-lifecycle controller removes it once the node is Ready; a test
 * control plane that does not run that controller leaves it on, and no pod would ever be scheduled.
 */
async function untaintReadyNodes(): Promise<void> {
  const out = await kubectl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.taints[*].key} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
  const stuck = out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length > 1 && f.includes('node.kubernetes.io/not-ready') && f.at(-1) === 'True')
    .map((f) => f[0]!);
  if (stuck.length) await kubectl(['taint', 'nodes', ...stuck, 'node.kubernetes.io/not-ready:NoSchedule-']);
}

/** Applies crds/ and waits until the API server serves both kinds. */
export function installCrds(): Promise<void> {
  crds ??= (async () => {
    await untaintReadyNodes();
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', path.join(repoRoot, 'crds')]);
    await kubectl(['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd/mlmodels.mloffload.io', 'crd/mlservices.mloffload.io']);
  })();
  return crds;
}

let connection: Promise<{ conn: ClusterConnection; client: KubeClient }> | undefined;

/** A client of the test (not the operator's), sharing nothing with the operator under test. */
export function testClient(): Promise<{ conn: ClusterConnection; client: KubeClient }> {
  connection ??= (async () => {
    const conn = await connectionFromKubeConfig((await useControlPlane()).kubeConfig);
    return { conn, client: new KubeClient(conn, { userAgent: 'mloffload-operator-tests' }) };
  })();
  return connection;
}

export function emotionModel(namespace: string, name = 'facial-expression', spec: Partial<MLModelSpec> = {}): MLModel {
  return {
    apiVersion: 'mloffload.io/v1alpha1',
    kind: 'MLModel',
    metadata: { name, namespace },
    spec: {
      task: 'vision/facial-expression',
      framework: 'tfjs-graph',
      version: '1.0.0',
      source: { uri: 'npm:@vladmandic/human/models/emotion.json' },
      labels: EMOTION_LABELS,
      preprocessing: { width: 64, height: 64, colour: 'grayscale' },
      card: { description: 'FER2013 mini-Xception', license: 'MIT', origin: 'https://github.com/vladmandic/human' },
      ...spec,
    },
  };
}

export function faceDetectorModel(namespace: string, name = 'face-detector'): MLModel {
  return {
    apiVersion: 'mloffload.io/v1alpha1',
    kind: 'MLModel',
    metadata: { name, namespace },
    spec: { task: 'vision/face-detection', framework: 'tfjs-graph', version: '0.9.0', source: { uri: 'npm:@vladmandic/human/models/blazeface.json' } },
  };
}

export function mlService(namespace: string, name: string, spec: Partial<MLServiceSpec> = {}): MLService {
  return {
    apiVersion: 'mloffload.io/v1alpha1',
    kind: 'MLService',
    metadata: { name, namespace },
    spec: { models: [{ name: 'facial-expression' }], replicas: 2, ...spec },
  };
}

export async function create<T>(type: ResourceType, obj: { apiVersion?: string; kind?: string; metadata: { name: string; namespace?: string }; spec?: unknown }): Promise<T> {
  const { client } = await testClient();
  return client.create<T>(collectionPath(type, obj.metadata.namespace), obj);
}

export async function read<T>(type: ResourceType, namespace: string, name: string): Promise<T | undefined> {
  const { client } = await testClient();
  return client.get<T>(objectPath(type, namespace, name));
}

export async function mustRead<T>(type: ResourceType, namespace: string, name: string): Promise<T> {
  const obj = await read<T>(type, namespace, name);
  if (!obj) throw new Error(`${type.kind} ${namespace}/${name} does not exist (yet)`);
  return obj;
}

export async function patch<T>(type: ResourceType, namespace: string, name: string, body: unknown): Promise<T> {
  const { client } = await testClient();
  return client.mergePatch<T>(objectPath(type, namespace, name), body);
}

export async function remove(type: ResourceType, namespace: string, name: string): Promise<void> {
  const { client } = await testClient();
  await client.delete(objectPath(type, namespace, name));
}

export async function list<T>(type: ResourceType, namespace: string, labelSelector?: string): Promise<T[]> {
  const { client } = await testClient();
  return (await client.list<T>(collectionPath(type, namespace), { labelSelector })).items;
}

/** Starts an operator scoped to `namespace` on a free port; stop it in afterEach. */
export async function startScopedOperator(namespace: string, opts: OperatorOptions = {}): Promise<OperatorHandle> {
  const { kubeConfig } = await useControlPlane();
  const logger = process.env.OPERATOR_TEST_LOGS ? createLogger('debug', { ns: namespace }) : silentLogger;
  const op = await startOperator(kubeConfig, { namespace, metricsPort: 0, metricsHost: '127.0.0.1', logger, runtimeImage: 'mloffload/inference-runtime:test', ...opts });
  await op.waitForSync();
  return op;
}

/** The value of one series of a counter or gauge of the operator's registry (0 when absent). */
export async function metricValue(op: OperatorHandle, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = op.metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const values = (await metric.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return values.reduce((sum, v) => sum + v.value, 0);
}

export interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export function condition(obj: { status?: { conditions?: Cond[] } } | undefined, type: string): Cond | undefined {
  return obj?.status?.conditions?.find((c) => c.type === type);
}

/** The API error of a write the API server must refuse; fails the test when it accepts it. */
export async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('the API server accepted an invalid object');
}
