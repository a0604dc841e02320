// What the operator does with the API, read from operator/: informers list+watch, children are written
// with server-side apply (PATCH; create when the apply creates the object), status with a merge patch on /status, stale HPAs are deleted, pods are
// listed to explain a stuck rollout, Events are created, and the leader-election Lease is read, created and
// replaced. blockOwnerDeletion on the children's owner references needs update on mlservices/finalizers.
// The chart's RBAC must grant exactly this; the cluster test checks it with `kubectl auth can-i`.

export interface Permission {
  group: string;
  resource: string;
  verbs: readonly string[];
}

export const watchedNamespacePermissions: readonly Permission[] = [
  { group: 'mloffload.io', resource: 'mlmodels', verbs: ['list', 'watch'] },
  { group: 'mloffload.io', resource: 'mlservices', verbs: ['list', 'watch'] },
  { group: 'mloffload.io', resource: 'mlmodels/status', verbs: ['patch'] },
  { group: 'mloffload.io', resource: 'mlservices/status', verbs: ['patch'] },
  { group: 'mloffload.io', resource: 'mlservices/finalizers', verbs: ['update'] },
  // Server-side apply is a PATCH, but one that creates the object is also authorised as create.
  { group: '', resource: 'configmaps', verbs: ['list', 'watch', 'create', 'patch'] },
  { group: '', resource: 'services', verbs: ['list', 'watch', 'create', 'patch'] },
  { group: 'apps', resource: 'deployments', verbs: ['list', 'watch', 'create', 'patch'] },
  { group: 'autoscaling', resource: 'horizontalpodautoscalers', verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
  { group: '', resource: 'pods', verbs: ['list'] },
  // The runtime pods' GET /v1/discovery, for MLModel status.benchmark.
  { group: '', resource: 'pods/proxy', verbs: ['get'] },
  { group: '', resource: 'events', verbs: ['create'] },
];

/** In the release namespace, for the Lease named after the release. */
export const leaderElectionPermissions: readonly Permission[] = [{ group: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'create', 'update'] }];

/** The arguments `kubectl auth can-i <verb> ...` takes for a permission: resource.group[/name] and --subresource. */
export function canIArgs(p: Pick<Permission, 'group' | 'resource'>, name?: string): string[] {
  const [resource, subresource] = p.resource.split('/');
  const qualified = p.group ? `${resource}.${p.group}` : resource;
  return [name ? `${qualified}/${name}` : qualified, ...(subresource ? [`--subresource=${subresource}`] : [])];
}
