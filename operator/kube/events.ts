/** Best-effort core/v1 Events: a failure to record one is logged, never fails a reconcile. */
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../api/types.js';
import type { Logger } from '../logger.js';
import type { KubeClient } from './restClient.js';
import { EVENTS, collectionPath } from './resources.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(obj: KubeObject, type: EventType, reason: string, message: string): void;
}

export function createEventRecorder(client: KubeClient, component: string, logger: Logger): EventRecorder {
  return {
    record(obj, type, reason, message) {
      const ns = obj.metadata.namespace ?? 'default';
      const now = new Date().toISOString();
      const event = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${obj.metadata.name}.${Date.now().toString(16)}${randomBytes(3).toString('hex')}`, namespace: ns },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata.name,
          namespace: ns,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component },
        reportingComponent: component,
        reportingInstance: process.env.POD_NAME ?? component,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      client.create(collectionPath(EVENTS, ns), event).catch((err: unknown) => logger.warn('could not record event', { reason, error: String(err) }));
    },
  };
}
