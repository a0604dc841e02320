/**
 * The addresses apps outside the cluster reach an MLService's runtime pods at, as a pure function of the
 * ready pods and the Services selecting them: for each NodePort or LoadBalancer Service,
 * `<node address>:<nodePort>` of every node a ready pod runs on (the nearest-edge choice is the app's,
 * so each node is listed on its own), and the load balancer's addresses. The node address is the pod's
 * `status.hostIP` (the node's primary address as its kubelet or edgecore reports it), so the operator
 * needs no cluster-wide read of Nodes.
 */
import type { MLService, PublishedEndpoint } from '../api/types.js';
import { portName } from '../builders/service.js';
import { servicePort } from '../builders/metadata.js';

export interface EndpointPodView {
  metadata: { name: string; uid?: string; labels?: Record<string, string> };
  spec?: { nodeName?: string };
  status?: { podIP?: string; hostIP?: string; conditions?: { type: string; status: string }[] };
}

export interface ServiceView {
  metadata: { name: string };
  spec?: {
    type?: string;
    selector?: Record<string, string>;
    ports?: { name?: string; port: number; nodePort?: number; targetPort?: number | string }[];
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/** Upper bound of published endpoints (the CRD's maxItems). */
export const MAX_ENDPOINTS = 64;

export function isReady(pod: EndpointPodView): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function selects(service: ServiceView, pod: EndpointPodView): boolean {
  const selector = service.spec?.selector ?? {};
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => pod.metadata.labels?.[k] === selector[k]);
}

/** The Service port that reaches the runtime's container port (by name or number), or the only one. */
function runtimePort(service: ServiceView, svc: MLService): { port: number; nodePort?: number } | undefined {
  const ports = service.spec?.ports ?? [];
  const target = ports.find((p) => p.targetPort === portName(svc) || p.targetPort === servicePort(svc) || (p.targetPort === undefined && p.port === servicePort(svc)));
  return target ?? (ports.length === 1 ? ports[0] : undefined);
}

const hostForUrl = (address: string) => (address.includes(':') ? `[${address}]` : address);

export function reachableEndpoints(svc: MLService, pods: readonly EndpointPodView[], services: readonly ServiceView[]): PublishedEndpoint[] {
  const scheme = svc.spec.tls ? 'https' : 'http';
  // Pods of an edge-only service run on edge nodes; others may run anywhere and are published as fallback.
  const tier = svc.spec.placement?.edgeOnly === false ? 'cloud' : 'edge';
  const ready = pods.filter((p) => isReady(p) && p.spec?.nodeName);
  const out: PublishedEndpoint[] = [];
  for (const service of [...services].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const type = service.spec?.type;
    if (type !== 'NodePort' && type !== 'LoadBalancer') continue;
    const selected = ready.filter((p) => selects(service, p));
    if (selected.length === 0) continue;
    const port = runtimePort(service, svc);
    if (!port) continue;
    if (port.nodePort) {
      const addressOf = new Map(selected.filter((p) => p.status?.hostIP).map((p) => [p.spec!.nodeName!, p.status!.hostIP!]));
      for (const nodeName of [...addressOf.keys()].sort()) {
        const address = addressOf.get(nodeName)!;
        out.push({ url: `${scheme}://${hostForUrl(address)}:${port.nodePort}`, node: nodeName, address, port: port.nodePort, kind: 'NodePort', service: service.metadata.name, tier });
      }
    }
    if (type === 'LoadBalancer') {
      for (const ingress of service.status?.loadBalancer?.ingress ?? []) {
        const address = ingress.ip ?? ingress.hostname;
        if (!address) continue;
        // A load balancer in front of edge pods is where the cluster chose to put it: treat it as the fallback.
        out.push({ url: `${scheme}://${hostForUrl(address)}:${port.port}`, address, port: port.port, kind: 'LoadBalancer', service: service.metadata.name, tier: 'cloud' });
      }
    }
  }
  return out.slice(0, MAX_ENDPOINTS);
}
