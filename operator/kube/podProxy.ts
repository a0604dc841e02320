/**
 * GET on a pod's own HTTP server through the API server's proxy subresource (`pods/proxy`): the API server
 * dials the pod, so the operator needs no route to pod networks and no credentials of the pod's API,
 * only RBAC `get` on `pods/proxy`. The API server does not verify the pod's serving certificate.
 */
import { PODS, objectPath } from './resources.js';
import type { KubeClient } from './restClient.js';

export interface PodTarget {
  namespace: string;
  pod: string;
  scheme: 'http' | 'https';
  port: number;
}

/** Bodies relayed from pods are small documents; anything bigger is refused rather than buffered. */
export const POD_PROXY_MAX_BYTES = 256 * 1024;

/** `/api/v1/namespaces/{ns}/pods/[https:]{pod}:{port}/proxy{path}`, colons left as the API server's docs write them. */
export function podProxyPath(target: PodTarget, path: string): string {
  const pods = objectPath(PODS, target.namespace, '_').slice(0, -1);
  const name = `${target.scheme === 'https' ? 'https:' : ''}${encodeURIComponent(target.pod)}:${target.port}`;
  return `${pods}${name}/proxy${path}`;
}

export function podProxyGet<T>(client: KubeClient, target: PodTarget, path: string): Promise<T> {
  return client.request<T>('GET', podProxyPath(target, path), { maxBytes: POD_PROXY_MAX_BYTES });
}
