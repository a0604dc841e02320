import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { MLService } from '../api/types.js';
import { childMeta } from './metadata.js';

/** A CPU-based HorizontalPodAutoscaler for the runtime Deployment, or undefined when autoscaling is off. */
export function hpaFor(svc: MLService): V2HorizontalPodAutoscaler | undefined {
  const a = svc.spec.autoscaling;
  if (!a) return undefined;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: childMeta(svc),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: svc.metadata.name },
      minReplicas: a.minReplicas ?? 1,
      maxReplicas: a.maxReplicas,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage ?? 80 } } }],
    },
  };
}
