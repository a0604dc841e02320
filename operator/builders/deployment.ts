import type { V1Deployment, V1Toleration, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { MLModel, MLService } from '../api/types.js';
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
}

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
  if (svc.spec.auth) args.push('--api-keys-file', `${AUTH_DIR}/${svc.spec.auth.apiKeySecretKey ?? 'api-keys'}`);
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
    volumes.push({ name: 'tls', secret: { secretName: svc.spec.tls.secretName, defaultMode: 0o440 } });
    mounts.push({ name: 'tls', mountPath: TLS_DIR, readOnly: true });
  }
  if (svc.spec.auth) {
    const key = svc.spec.auth.apiKeySecretKey ?? 'api-keys';
    volumes.push({ name: 'api-keys', secret: { secretName: svc.spec.auth.apiKeySecretName, defaultMode: 0o440, items: [{ key, path: key }] } });
    mounts.push({ name: 'api-keys', mountPath: AUTH_DIR, readOnly: true });
  }
  return { volumes, mounts };
}

function resourcesFor(svc: MLService): { requests?: Record<string, string>; limits?: Record<string, string> } {
  const r = svc.spec.resources;
  const str = (m?: Record<string, string | number>) => (m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)])) : undefined);
  // CPU requests are needed for the HPA's utilisation target; memory keeps the scheduler honest on small nodes.
  if (!r) return { requests: { cpu: '250m', memory: '256Mi' } };
  const out: { requests?: Record<string, string>; limits?: Record<string, string> } = {};
  if (r.requests) out.requests = str(r.requests);
  if (r.limits) out.limits = str(r.limits);
  return out;
}

/** The Deployment running the inference runtime for `svc` with the pool rendered from `models`. */
export function deploymentFor(svc: MLService, models: MLModel[], defaults: RuntimeDefaults): V1Deployment {
  const placement = svc.spec.placement ?? {};
  const scheme = svc.spec.tls ? 'HTTPS' : 'HTTP';
  const port = portName(svc);
  const { volumes, mounts } = volumesFor(svc);
  const edgeOnly = placement.edgeOnly !== false;
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
          containers: [
            {
              name: 'runtime',
              image: svc.spec.image ?? defaults.image,
              ...(defaults.imagePullPolicy ? { imagePullPolicy: defaults.imagePullPolicy } : {}),
              ...(defaults.command ? { command: [...defaults.command] } : {}),
              args: runtimeArgs(svc),
              env: [
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                // One inference worker per CPU of the limit (rounded up; the node's CPUs without a limit): the
                // runtime cannot see a CPU quota and would start a worker, with every model, per core of the node.
                { name: 'MLOFFLOAD_WORKERS', valueFrom: { resourceFieldRef: { containerName: 'runtime', resource: 'limits.cpu', divisor: '1' } } },
              ],
              ports: [{ name: port, containerPort: servicePort(svc), protocol: 'TCP' }],
              // Fetching and warming models can take minutes on a slow uplink: the startup probe holds off
              // liveness until /healthz answers, readiness waits for /readyz (every model warmed up).
              startupProbe: { httpGet: { path: '/healthz', port, scheme }, periodSeconds: 5, failureThreshold: 120 },
              livenessProbe: { httpGet: { path: '/healthz', port, scheme }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
              readinessProbe: { httpGet: { path: '/readyz', port, scheme }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
              resources: resourcesFor(svc),
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
