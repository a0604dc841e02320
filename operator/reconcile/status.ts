/** Status writes through the /status subresource, guarded by resourceVersion, and only when changed. */
import type { KubeObject } from '../api/types.js';
import type { KubeClient } from '../kube/restClient.js';
import { type ResourceType, objectPath } from '../kube/resources.js';
import { stableStringify } from '../kube/semanticEqual.js';
import { FIELD_MANAGER } from '../builders/metadata.js';

export function statusEqual(a: object | undefined, b: object | undefined): boolean {
  return stableStringify(a ?? {}) === stableStringify(b ?? {});
}

/**
 * A JSON merge patch turning `old` into `next` at the top level of status (nested values are replaced
 * whole: every nested status field is a list or a scalar). The resourceVersion makes a write computed from
 * a stale cache fail with 409 instead of overwriting newer state.
 */
export function statusPatch(obj: KubeObject, old: Record<string, unknown> | undefined, next: Record<string, unknown>): unknown {
  const status: Record<string, unknown> = { ...next };
  for (const k of Object.keys(old ?? {})) if (!(k in next)) status[k] = null;
  return { metadata: { resourceVersion: obj.metadata.resourceVersion }, status };
}

export async function writeStatus<T extends KubeObject & { status?: object }>(client: KubeClient, type: ResourceType, obj: T, next: object): Promise<T> {
  const ns = obj.metadata.namespace ?? 'default';
  return client.mergePatch<T>(objectPath(type, ns, obj.metadata.name, 'status'), statusPatch(obj, obj.status as Record<string, unknown> | undefined, next as Record<string, unknown>), FIELD_MANAGER);
}
