import { expect } from 'chai';
import { AppsV1Api, CoreV1Api, type V1Deployment, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { type TestControlPlane, controlPlaneStartTimeout, freshNamespace, useControlPlane } from '../../helpers/controlPlane.js';
import { eventually } from '../../helpers/eventually.js';
import { realNodeLabel } from '../../env/realEdgeNode.js';

const edgeRole = 'node-role.kubernetes.io/edge';

/** A Deployment shaped like the operator's edge workloads: required affinity on the edge role plus its toleration. */
function edgeDeployment(name: string, replicas: number, edgeOnly = true): V1Deployment {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'runtime', image: 'mloffload/inference-runtime:test', ports: [{ containerPort: 8080 }] }],
          ...(edgeOnly
            ? {
                affinity: {
                  nodeAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: {
                      nodeSelectorTerms: [{ matchExpressions: [{ key: edgeRole, operator: 'Exists' }] }],
                    },
                  },
                },
                tolerations: [{ key: edgeRole, operator: 'Exists', effect: 'NoSchedule' }],
              }
            : {}),
        },
      },
    },
  };
}

const isReady = (node: V1Node): boolean => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const isEdge = (node: V1Node): boolean => node.metadata?.labels?.[edgeRole] !== undefined;

describe('control plane: workloads on simulated edge nodes', function () {
  let cp: TestControlPlane;
  let core: CoreV1Api;
  let apps: AppsV1Api;

  before(async function () {
    this.timeout(controlPlaneStartTimeout);
    cp = await useControlPlane();
    core = cp.kubeConfig.makeApiClient(CoreV1Api);
    apps = cp.kubeConfig.makeApiClient(AppsV1Api);
  });

  async function podsOf(namespace: string, app: string): Promise<V1Pod[]> {
    return (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
  }

  async function nodesByName(): Promise<Map<string, V1Node>> {
    return new Map((await core.listNode()).items.map((n) => [n.metadata!.name!, n]));
  }

  async function waitAvailable(namespace: string, name: string, replicas: number): Promise<void> {
    await eventually(
      async () => {
        const status = (await apps.readNamespacedDeployment({ namespace, name })).status;
        expect(status?.availableReplicas, 'available replicas').to.equal(replicas);
        expect(status?.conditions?.find((c) => c.type === 'Available')?.status, 'Available condition').to.equal('True');
      },
      { timeout: 60_000, interval: 250, message: `Deployment ${namespace}/${name} available` },
    );
  }

  it('registers Ready edge nodes labelled and tainted like KubeEdge, and an untainted cloud node', async () => {
    const nodes = [...(await nodesByName()).values()];
    // Simulated ones only: real edge nodes (realNode.test.ts) have their own test and taint.
    const edge = nodes.filter((n) => isEdge(n) && n.metadata?.labels?.[realNodeLabel] === undefined);
    expect(edge.length).to.be.greaterThan(0);
    if (cp.edgeNodes.length > 0) expect(edge.map((n) => n.metadata!.name)).to.have.members([...cp.edgeNodes]);
    for (const node of edge) {
      expect(isReady(node), `${node.metadata!.name} Ready`).to.equal(true);
      const taints = (node.spec?.taints ?? []).map((t) => `${t.key}=${t.value ?? ''}:${t.effect}`);
      expect(taints, `${node.metadata!.name} taints`).to.deep.equal([`${edgeRole}=:NoSchedule`]);
      expect(node.metadata?.annotations?.['kwok.x-k8s.io/node']).to.equal('fake');
      expect(node.status?.allocatable?.cpu).to.equal('4');
    }
    const cloud = nodes.filter((n) => !isEdge(n));
    expect(cloud.length).to.be.greaterThan(0);
    for (const node of cloud) {
      expect(isReady(node), `${node.metadata!.name} Ready`).to.equal(true);
      expect(node.spec?.taints ?? []).to.deep.equal([]);
    }
  });

  it('schedules an edge Deployment onto edge nodes, runs its pods and makes it Available', async function () {
    this.timeout(90_000);
    const namespace = await freshNamespace('edge');
    await apps.createNamespacedDeployment({ namespace, body: edgeDeployment('runtime', 3) });
    await waitAvailable(namespace, 'runtime', 3);

    const nodes = await nodesByName();
    const pods = await podsOf(namespace, 'runtime');
    expect(pods).to.have.length(3);
    for (const pod of pods) {
      expect(pod.status?.phase, pod.metadata!.name).to.equal('Running');
      expect(pod.status?.podIP, 'pod IP assigned by the simulated node').to.match(/^\d+\.\d+\.\d+\.\d+$/);
      const node = nodes.get(pod.spec!.nodeName!);
      expect(node && isEdge(node), `${pod.metadata!.name} on ${pod.spec!.nodeName} is an edge node`).to.equal(true);
    }
  });

  it('keeps pods that do not tolerate the edge taint off the edge nodes', async function () {
    this.timeout(90_000);
    const namespace = await freshNamespace('cloud');
    await apps.createNamespacedDeployment({ namespace, body: edgeDeployment('cloud-app', 2, false) });
    await waitAvailable(namespace, 'cloud-app', 2);

    const nodes = await nodesByName();
    for (const pod of await podsOf(namespace, 'cloud-app')) {
      const node = nodes.get(pod.spec!.nodeName!);
      expect(node, `node of ${pod.metadata!.name}`).to.not.equal(undefined);
      expect(isEdge(node!), `${pod.metadata!.name} must not run on edge node ${pod.spec!.nodeName}`).to.equal(false);
    }
  });

  it('garbage-collects the ReplicaSet and pods when their Deployment is deleted', async function () {
    this.timeout(90_000);
    const namespace = await freshNamespace('gc');
    const created = await apps.createNamespacedDeployment({ namespace, body: edgeDeployment('owned', 2) });
    await waitAvailable(namespace, 'owned', 2);

    const replicaSets = (await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=owned' })).items;
    expect(replicaSets).to.have.length(1);
    expect(replicaSets[0]!.metadata?.ownerReferences?.[0]?.uid).to.equal(created.metadata?.uid);
    expect(await podsOf(namespace, 'owned')).to.have.length(2);

    // Background propagation leaves the children to the garbage collector.
    await apps.deleteNamespacedDeployment({ namespace, name: 'owned', body: { propagationPolicy: 'Background' } });
    await eventually(
      async () => {
        expect((await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=owned' })).items, 'ReplicaSets').to.have.lengthOf(0);
        expect(await podsOf(namespace, 'owned'), 'pods').to.have.lengthOf(0);
      },
      { timeout: 60_000, interval: 250, message: 'children of the deleted Deployment removed' },
    );
  });
});
