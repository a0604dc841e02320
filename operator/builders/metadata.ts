/** Names, labels and owner references shared by every child of an MLService. */
import type { MLService, OwnerReference } from '../api/types.js';
import { API_VERSION } from '../api/types.js';

export const FIELD_MANAGER = 'mloffload-operator';
export const MANAGED_BY = 'app.kubernetes.io/managed-by';
/** Label every child carries; the operator's child informers select on it. */
export const MANAGED_BY_SELECTOR = `${MANAGED_BY}=${FIELD_MANAGER}`;
export const SERVICE_LABEL = 'mloffload.io/service';
export const POOL_HASH_ANNOTATION = 'mloffload.io/pool-hash';
export const EDGE_ROLE_LABEL = 'node-role.kubernetes.io/edge';

/** Labels that select the runtime pods of one MLService (the Deployment selector is immutable: keep it small). */
export function selectorLabels(svc: MLService): Record<string, string> {
  return { 'app.kubernetes.io/name': 'mloffload-inference-runtime', 'app.kubernetes.io/instance': svc.metadata.name };
}

export function childLabels(svc: MLService): Record<string, string> {
  return {
    ...selectorLabels(svc),
    'app.kubernetes.io/component': 'inference',
    'app.kubernetes.io/part-of': 'mloffload',
    [MANAGED_BY]: FIELD_MANAGER,
    [SERVICE_LABEL]: svc.metadata.name,
  };
}

export function controllerRef(svc: MLService): OwnerReference {
  if (!svc.metadata.uid) throw new Error(`MLService ${svc.metadata.name} has no uid`);
  return { apiVersion: API_VERSION, kind: 'MLService', name: svc.metadata.name, uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true };
}

export interface ChildMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences: OwnerReference[];
}

export function childMeta(svc: MLService): ChildMeta {
  return {
    name: svc.metadata.name,
    namespace: svc.metadata.namespace ?? 'default',
    labels: childLabels(svc),
    ownerReferences: [controllerRef(svc)],
  };
}

export function servicePort(svc: MLService): number {
  return svc.spec.port ?? 8080;
}

/** In-cluster URL of the MLService. */
export function endpointFor(svc: MLService): string {
  return `${svc.spec.tls ? 'https' : 'http'}://${svc.metadata.name}.${svc.metadata.namespace ?? 'default'}.svc:${servicePort(svc)}`;
}
