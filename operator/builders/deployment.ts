import type { V1Container, V1Deployment, V1EnvVar, V1Toleration, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { MLModel, MLService, Quantity } from '../api/types.js';
import { parseQuantity } from '../kube/semanticEqual.js';
import { EDGE_ROLE_LABEL, POOL_HASH_ANNOTATION, childLabels, childMeta, selectorLabels, servicePort } from './metadata.js';
import { POOL_FILE, contentHash, poolConfigFor, renderPool } from './poolConfig.js';
import { portName } from './service.js';

/** What the operator's configuration contributes to every runtime Deployment. */
export interface RuntimeDefaults {
  /** Runtime image when the MLService does not override it. */
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Overrides the image entrypoint; the runtime flags are passed as args either way. */
  command?: string[];
  /**
   * Memory of a runtime container whose MLService sets none: without a limit one burst of large requests
   * can push a 2-4 GB edge node into an OOM kill of something else. Empty strings leave it unset.
   */
  memory?: { limit?: string; request?: string };
  /** Run the init container that hands a hostPath cache to the runtime user (default true). */
  prepareCache?: boolean;
}

/**
 * The runtime's memory budget defaults to 80% of its cgroup limit and refuses work beyond it (503). The built-in
 * pool idles at ~530 MB with one worker and ~760 MB with two; 1536Mi gives two workers a 1.2 GiB budget with
 * room for a burst of large requests (bench/flood.ts peaked at 0.9-1.1 GiB under a 1 GiB budget).
 */
export const DEFAULT_MEMORY_LIMIT = '1536Mi';
export const DEFAULT_MEMORY_REQUEST = '768Mi';

/** The `node` user of the runtime image (deploy/inference-runtime.Dockerfile); numeric so runAsNonRoot can verify it. */
export const RUNTIME_UID = 1000;
export const DEFAULT_MODEL_CACHE = '/var/lib/mloffload/models';
const CONFIG_DIR = '/etc/mloffload';
const CACHE_MOUNT = '/var/cache/mloffload/models';
const TLS_DIR = `${CONFIG_DIR}/tls`;
const AUTH_DIR = `${CONFIG_DIR}/auth`;

export function defaultRuntimeImage(version: string): string {
  return `mloffload/inference-runtime:${version}`;
}

/** Hash of the rendered pool: it sits in the pod template so a pool change rolls the pods. */
export function poolHashFor(svc: MLService, models: MLModel[]): string {
  return contentHash(renderPool(poolConfigFor(svc, models)));
}

function runtimeArgs(svc: MLService): string[] {
  const args = ['--config', `${CONFIG_DIR}/${POOL_FILE}`, '--host', '0.0.0.0', '--port', String(servicePort(svc)), '--model-cache', CACHE_MOUNT];
  if (svc.spec.tls) args.push('--tls-cert', `${TLS_DIR}/tls.crt`, '--tls-key', `${TLS_DIR}/tls.key`);
  if (svc.spec.auth) args.push('--api-keys-file', `${AUTH_DIR}/${svc.spec.auth.apiKeySecretKey ?? DEFAULT_API_KEY_KEY}`);
  return args;
}

function tolerationsFor(svc: MLService): V1Toleration[] {
  const placement = svc.spec.placement ?? {};
  const out: V1Toleration[] = [];
  if (placement.edgeOnly !== false) {
    out.push({ key: EDGE_ROLE_LABEL, operator: 'Exists', effect: 'NoSchedule' });
    // Edge nodes lose the cloud link routinely; a pod must keep serving from its node rather than be
    // evicted after the default 300 s once the node turns unreachable.
    out.push({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' });
    out.push({ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' });
  }
  for (const t of placement.tolerations ?? []) out.push({ ...t });
  return out;
}

/** Secret keys the runtime reads: only these are projected into the pod, never the whole Secret. */
export const TLS_KEYS = ['tls.crt', 'tls.key'] as const;
export const DEFAULT_API_KEY_KEY = 'api-keys';

function volumesFor(svc: MLService): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const name = svc.metadata.name;
  const cache = svc.spec.modelCache ?? {};
  const volumes: V1Volume[] = [
    { name: 'pool', configMap: { name, items: [{ key: POOL_FILE, path: POOL_FILE }] } },
    cache.emptyDir
      ? { name: 'model-cache', emptyDir: cache.emptyDir.sizeLimit !== undefined ? { sizeLimit: String(cache.emptyDir.sizeLimit) } : {} }
      : { name: 'model-cache', hostPath: { path: cache.hostPath?.path ?? DEFAULT_MODEL_CACHE, type: 'DirectoryOrCreate' } },
    { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
  ];
  // The pool file is mounted by subPath: ConfigMap updates do not reach it, the pool-hash roll does.
  const mounts: V1VolumeMount[] = [
    { name: 'pool', mountPath: `${CONFIG_DIR}/${POOL_FILE}`, subPath: POOL_FILE, readOnly: true },
    { name: 'model-cache', mountPath: CACHE_MOUNT },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  if (svc.spec.tls) {
    volumes.push({ name: 'tls', secret: { secretName: svc.spec.tls.secretName, defaultMode: 0o440, items: TLS_KEYS.map((key) => ({ key, path: key })) } });
    mounts.push({ name: 'tls', mountPath: TLS_DIR, readOnly: true });
  }
  if (svc.spec.auth) {
    const key = svc.spec.auth.apiKeySecretKey ?? DEFAULT_API_KEY_KEY;
    volumes.push({ name: 'api-keys', secret: { secretName: svc.spec.auth.apiKeySecretName, defaultMode: 0o440, items: [{ key, path: key }] } });
    mounts.push({ name: 'api-keys', mountPath: AUTH_DIR, readOnly: true });
  }
  return { volumes, mounts };
}

type ResourceList = Record<string, string>;

/**
 * The container's resources: the MLService's, with the operator's memory defaults filling a missing memory
 * limit or request. A request above the default limit raises the limit to it (a limit below the request is
 * invalid); a default request never exceeds the limit.
 */
export function resourcesFor(svc: MLService, memory: RuntimeDefaults['memory'] = {}): { requests?: ResourceList; limits?: ResourceList } {
  const r = svc.spec.resources;
  const str = (m?: Record<string, Quantity>) => (m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)])) : undefined);
  // CPU requests are needed for the HPA's utilisation target.
  const requests: ResourceList = r ? (str(r.requests) ?? {}) : { cpu: '250m' };
  const limits: ResourceList = str(r?.limits) ?? {};
  const bytes = (q: string | undefined) => (q === undefined ? undefined : parseQuantity(q));
  const defLimit = memory.limit ?? DEFAULT_MEMORY_LIMIT;
  const defRequest = memory.request ?? DEFAULT_MEMORY_REQUEST;
  if (limits.memory === undefined && defLimit !== '') {
    const req = bytes(requests.memory);
    limits.memory = req !== undefined && req > (bytes(defLimit) ?? Infinity) ? requests.memory! : defLimit;
  }
  if (requests.memory === undefined && defRequest !== '') {
    const lim = bytes(limits.memory);
    requests.memory = lim !== undefined && lim < (bytes(defRequest) ?? 0) ? limits.memory! : defRequest;
  }
  const out: { requests?: ResourceList; limits?: ResourceList } = {};
  if (Object.keys(requests).length) out.requests = requests;
  if (Object.keys(limits).length) out.limits = limits;
  return out;
}

/**
 * Memory one inference worker may take, for the worker count: each worker holds every model of the pool.
 * Measured on the built-in pool (three vision models): ~300 MB for the process and ~230 MB per worker,
 * peaks ~70 MB higher under 12 concurrent requests. 768Mi per worker keeps the idle process well inside the
 * runtime's memory budget (80% of the limit), leaving the rest for requests in flight.
 */
export const MEMORY_PER_WORKER = '768Mi';

/**
 * The runtime counts its cores from the CPU quota (core/containerLimits.ts) but does not size its workers by
 * memory, and would start a worker, with every model, per core: one worker per CPU of the limit (rounded up,
 * as a resourceFieldRef would and as the runtime does) and no more than the memory limit holds at
 * MEMORY_PER_WORKER each. With neither limit, the node's CPUs.
 */
export function workersEnv(resources: { limits?: ResourceList }): V1EnvVar {
  const bounds: number[] = [];
  const cpu = resources.limits?.cpu !== undefined ? parseQuantity(resources.limits.cpu) : undefined;
  if (cpu !== undefined && cpu > 0) bounds.push(Math.max(1, Math.ceil(cpu)));
  const memory = resources.limits?.memory !== undefined ? parseQuantity(resources.limits.memory) : undefined;
  if (memory !== undefined && memory > 0) bounds.push(Math.max(1, Math.floor(memory / parseQuantity(MEMORY_PER_WORKER)!)));
  if (!bounds.length) return { name: 'MLOFFLOAD_WORKERS', valueFrom: { resourceFieldRef: { containerName: 'runtime', resource: 'limits.cpu', divisor: '1' } } };
  return { name: 'MLOFFLOAD_WORKERS', value: String(Math.min(...bounds)) };
}

/** The runtime image's script that hands the cache directory to the runtime user (inference-runtime/prepareCache.ts). */
export const PREPARE_CACHE_COMMAND = ['node', 'dist/inference-runtime/prepareCache.js'];

/**
 * The kubelet creates a missing DirectoryOrCreate hostPath as root:root 0755, which the runtime (uid 1000)
 * cannot write, and fsGroup does not apply to hostPath. This init container runs as root with CAP_CHOWN
 * alone (every other capability dropped, read-only root, no privilege escalation) and chowns the cache
 * directory itself, not following symlinks, when it is not already the runtime user's.
 */
export function prepareCacheContainer(image: string, defaults: RuntimeDefaults): V1Container {
  return {
    name: 'prepare-cache',
    image,
    ...(defaults.imagePullPolicy ? { imagePullPolicy: defaults.imagePullPolicy } : {}),
    command: [...PREPARE_CACHE_COMMAND, CACHE_MOUNT, String(RUNTIME_UID), String(RUNTIME_UID)],
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } },
    securityContext: {
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'], add: ['CHOWN'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [{ name: 'model-cache', mountPath: CACHE_MOUNT }],
  };
}

/** The Deployment running the inference runtime for `svc` with the pool rendered from `models`. */
export function deploymentFor(svc: MLService, models: MLModel[], defaults: RuntimeDefaults): V1Deployment {
  const placement = svc.spec.placement ?? {};
  const scheme = svc.spec.tls ? 'HTTPS' : 'HTTP';
  const port = portName(svc);
  const { volumes, mounts } = volumesFor(svc);
  const edgeOnly = placement.edgeOnly !== false;
  const image = svc.spec.image ?? defaults.image;
  const resources = resourcesFor(svc, defaults.memory);
  const hostPathCache = !svc.spec.modelCache?.emptyDir;
  const dep: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(svc),
    spec: {
      selector: { matchLabels: selectorLabels(svc) },
      revisionHistoryLimit: 3,
      // Edge nodes are small: bring the new pod up before the old one goes, never below the wanted count.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: childLabels(svc), annotations: { [POOL_HASH_ANNOTATION]: poolHashFor(svc, models) } },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUNTIME_UID,
            runAsGroup: RUNTIME_UID,
            fsGroup: RUNTIME_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          ...(edgeOnly
            ? {
                affinity: {
                  nodeAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: {
                      nodeSelectorTerms: [{ matchExpressions: [{ key: EDGE_ROLE_LABEL, operator: 'Exists' }] }],
                    },
                  },
                  podAntiAffinity: {
                    preferredDuringSchedulingIgnoredDuringExecution: [
                      { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selectorLabels(svc) } } },
                    ],
                  },
                },
              }
            : {}),
          ...(placement.nodeSelector && Object.keys(placement.nodeSelector).length ? { nodeSelector: { ...placement.nodeSelector } } : {}),
          tolerations: tolerationsFor(svc),
          ...(hostPathCache && defaults.prepareCache !== false ? { initContainers: [prepareCacheContainer(image, defaults)] } : {}),
          containers: [
            {
              name: 'runtime',
              image,
              ...(defaults.imagePullPolicy ? { imagePullPolicy: defaults.imagePullPolicy } : {}),
              ...(defaults.command ? { command: [...defaults.command] } : {}),
              args: runtimeArgs(svc),
              env: [
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                workersEnv(resources),
              ],
              ports: [{ name: port, containerPort: servicePort(svc), protocol: 'TCP' }],
              // Fetching and warming models can take minutes on a slow uplink: the startup probe holds off
              // liveness until /healthz answers, readiness waits for /readyz (every model warmed up). Every
              // probe allows 2 s: on a real node the kubelet's default 1 s ran out while workers loaded models.
              startupProbe: { httpGet: { path: '/healthz', port, scheme }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 120 },
              livenessProbe: { httpGet: { path: '/healthz', port, scheme }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
              readinessProbe: { httpGet: { path: '/readyz', port, scheme }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
              resources,
              securityContext: {
                runAsNonRoot: true,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };
  // With an HPA the replica count belongs to it; writing it here would fight every scale decision.
  if (!svc.spec.autoscaling) dep.spec!.replicas = svc.spec.replicas ?? 1;
  return dep;
}
