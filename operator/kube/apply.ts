/**
 * Writes a child object with server-side apply, only when the live copy differs from what we want. The
 * desired object carries a hash of itself so that a field we stopped setting (which a superset check
 * cannot see) also triggers an apply; the superset check catches edits made by others.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../api/types.js';
import { FIELD_MANAGER } from '../builders/metadata.js';
import type { KubeClient } from './restClient.js';
import { type ResourceType, objectPath } from './resources.js';
import { containsDesired, stableStringify } from './semanticEqual.js';

export const APPLIED_HASH_ANNOTATION = 'mloffload.io/applied-hash';

interface Stampable {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
}

/** A copy of `desired` whose annotations record the hash of its content. */
export function stamp<T extends Stampable>(desired: T): T {
  const hash = createHash('sha256').update(stableStringify(desired)).digest('hex').slice(0, 16);
  return { ...desired, metadata: { ...desired.metadata, annotations: { ...desired.metadata?.annotations, [APPLIED_HASH_ANNOTATION]: hash } } };
}

export function isUpToDate(live: KubeObject | undefined, stamped: Stampable): boolean {
  if (!live) return false;
  const want = stamped.metadata?.annotations?.[APPLIED_HASH_ANNOTATION];
  if (!want || live.metadata.annotations?.[APPLIED_HASH_ANNOTATION] !== want) return false;
  return containsDesired(live, stamped);
}

export interface ApplyOutcome<T> {
  object: T;
  wrote: boolean;
}

export async function applyIfChanged<T extends KubeObject>(client: KubeClient, type: ResourceType, desired: Stampable, live: T | undefined): Promise<ApplyOutcome<T>> {
  const stamped = stamp(desired);
  if (live && isUpToDate(live, stamped)) return { object: live, wrote: false };
  const { name, namespace } = stamped.metadata ?? {};
  if (!name || !namespace) throw new Error(`cannot apply a ${type.kind} without name and namespace`);
  const object = await client.apply<T>(objectPath(type, namespace, name), stamped, FIELD_MANAGER);
  return { object, wrote: true };
}
