import type { V1Service } from '@kubernetes/client-node';
import type { MLService } from '../api/types.js';
import { childMeta, selectorLabels, servicePort } from './metadata.js';

export function portName(svc: MLService): string {
  return svc.spec.tls ? 'https' : 'http';
}

/** A ClusterIP Service in front of the runtime pods. */
export function serviceFor(svc: MLService): V1Service {
  const port = servicePort(svc);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(svc),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(svc),
      ports: [{ name: portName(svc), port, targetPort: portName(svc), protocol: 'TCP', appProtocol: portName(svc) }],
    },
  };
}
