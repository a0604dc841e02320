// Node objects that kwok animates: edge nodes labelled and tainted the way KubeEdge registers them,
// and one untainted cloud node. kwok manages every node annotated `kwok.x-k8s.io/node: fake`.

export const edgeRoleLabel = 'node-role.kubernetes.io/edge';
export const kwokNodeAnnotation = 'kwok.x-k8s.io/node';

export interface NodeResources {
  readonly cpu: string;
  readonly memory: string;
  readonly pods: string;
}

export const edgeNodeResources: NodeResources = { cpu: '4', memory: '8Gi', pods: '110' };
export const cloudNodeResources: NodeResources = { cpu: '16', memory: '64Gi', pods: '110' };

interface NodeManifest {
  apiVersion: 'v1';
  kind: 'Node';
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { taints: { key: string; value?: string; effect: string }[] };
  status: {
    capacity: Record<string, string>;
    allocatable: Record<string, string>;
    nodeInfo: Record<string, string>;
  };
}

function baseNode(name: string, resources: NodeResources, kubeletVersion: string): NodeManifest {
  const quantities = { cpu: resources.cpu, memory: resources.memory, pods: resources.pods, 'ephemeral-storage': '100Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
      },
      annotations: { [kwokNodeAnnotation]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: { taints: [] },
    status: {
      capacity: quantities,
      allocatable: quantities,
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        kubeletVersion,
        kubeProxyVersion: kubeletVersion,
        containerRuntimeVersion: 'kwok',
        osImage: 'kwok simulated node',
        kernelVersion: '',
        bootID: '',
        machineID: '',
        systemUUID: '',
      },
    },
  };
}

/** An edge node: KubeEdge's edgecore registers nodes with the edge and agent roles and the edge taint. */
export function edgeNode(index: number, kubeletVersion: string): NodeManifest {
  const node = baseNode(`edge-${index}`, edgeNodeResources, kubeletVersion);
  node.metadata.labels[edgeRoleLabel] = '';
  node.metadata.labels['node-role.kubernetes.io/agent'] = '';
  node.spec.taints.push({ key: edgeRoleLabel, value: '', effect: 'NoSchedule' });
  return node;
}

/** The cloud node where cloud-side workloads (the operator, for instance) may run: no taint. */
export function cloudNode(kubeletVersion: string): NodeManifest {
  const node = baseNode('cloud-0', cloudNodeResources, kubeletVersion);
  node.metadata.labels['node-role.kubernetes.io/control-plane'] = '';
  node.metadata.labels['node-role.kubernetes.io/cloud'] = '';
  return node;
}

export function simulatedNodes(edgeCount: number, kubeletVersion: string): NodeManifest[] {
  return [cloudNode(kubeletVersion), ...Array.from({ length: edgeCount }, (_, i) => edgeNode(i, kubeletVersion))];
}
