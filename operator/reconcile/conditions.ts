/** Condition bookkeeping with Kubernetes semantics: lastTransitionTime moves only when the status flips. */
import type { Condition, ConditionStatus } from '../api/types.js';

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export function getCondition(list: Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

/** Kubernetes timestamps are RFC 3339 with second precision. */
export function nowTimestamp(now = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Returns `existing` with `next` set for `generation`: other conditions keep their order, a new type is
 * appended, and lastTransitionTime is kept unless the status changed.
 */
export function setConditions(existing: Condition[] | undefined, next: ConditionInput[], generation: number | undefined, now: string): Condition[] {
  const out = (existing ?? []).map((c) => ({ ...c }));
  for (const n of next) {
    const cond: Condition = { type: n.type, status: n.status, reason: n.reason, message: n.message, lastTransitionTime: now };
    if (generation !== undefined) cond.observedGeneration = generation;
    const i = out.findIndex((c) => c.type === n.type);
    if (i < 0) {
      out.push(cond);
      continue;
    }
    if (out[i]!.status === n.status && out[i]!.lastTransitionTime) cond.lastTransitionTime = out[i]!.lastTransitionTime;
    out[i] = cond;
  }
  return out;
}
