// Real edge nodes in the test cluster: registered the way edgecore registers, running pods through
// containerd and the CNI bridge, reachable by kubectl logs and exec through the API server, and leaving
// nothing behind on the machine when stopped.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { kubernetesVersion } from '../../env/cacheLayout.js';
import { ControlPlane } from '../../env/controlPlane.js';
import { edgeNodeLayout } from '../../env/edgeNodeBuild.js';
import { type RealNodeRecord, mountsUnder, realNodeLabel, realNodesUnavailable, stopRealNode } from '../../env/realEdgeNode.js';
import { edgeRoleLabel } from '../../env/simulatedNodes.js';
import { type TestControlPlane, controlPlaneStartTimeout, freshNamespace, kubectl, realNodesStartTimeout, useControlPlane, useRealEdgeNodes } from '../../helpers/controlPlane.js';
import { eventually } from '../../helpers/eventually.js';

describe('control plane: real edge nodes (kubelet + containerd)', function () {
  this.timeout(180_000);
  let cp: TestControlPlane;
  let node: RealNodeRecord;

  before(async function () {
    this.timeout(controlPlaneStartTimeout + realNodesStartTimeout);
    const unavailable = realNodesUnavailable();
    if (unavailable) {
      process.stderr.write(`      skipped: ${unavailable}\n`);
      this.skip();
    }
    cp = await useControlPlane();
    [node] = await useRealEdgeNodes(1);
  });

  it('registers like an edgecore node: edge and agent roles, the edge taint, Ready on containerd with its own address', async () => {
    const n = JSON.parse(await kubectl(['get', 'node', node.name, '-o', 'json'])) as V1Node;
    expect(n.metadata?.labels).to.include({ [edgeRoleLabel]: '', 'node-role.kubernetes.io/agent': '', [realNodeLabel]: 'true' });
    expect(n.spec?.taints).to.deep.include({ key: edgeRoleLabel, effect: 'NoSchedule' });
    // Only pods meant for a real node land there: other tests' edge workloads stay on kwok nodes.
    expect(n.spec?.taints).to.deep.include({ key: realNodeLabel, value: 'true', effect: 'NoSchedule' });
    expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).to.equal('True');
    expect(n.status?.nodeInfo?.containerRuntimeVersion).to.match(/^containerd:\/\/1\./);
    expect(n.status?.nodeInfo?.kubeletVersion).to.equal(kubernetesVersion());
    expect(n.status?.addresses).to.deep.include({ type: 'InternalIP', address: node.nodeIp });
  });

  it('runs a pod on the CNI bridge and serves kubectl logs for it through the API server', async () => {
    const ns = await freshNamespace('realnode');
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sandbox', namespace: ns },
      spec: {
        nodeSelector: { [realNodeLabel]: 'true' },
        tolerations: [
          { key: edgeRoleLabel, operator: 'Exists', effect: 'NoSchedule' },
          { key: realNodeLabel, operator: 'Exists', effect: 'NoSchedule' },
        ],
        // The locally built sandbox image is the one image every node has.
        containers: [{ name: 'pause', image: edgeNodeLayout().pauseRef, imagePullPolicy: 'Never' }],
        terminationGracePeriodSeconds: 5,
      },
    };
    await kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    const running = await eventually(
      async () => {
        const p = JSON.parse(await kubectl(['-n', ns, 'get', 'pod', 'sandbox', '-o', 'json'])) as V1Pod;
        expect(p.status?.phase).to.equal('Running');
        return p;
      },
      { timeout: 60_000, interval: 500, message: 'pod Running on the real node' },
    );
    expect(running.spec?.nodeName).to.equal(node.name);
    expect(running.status?.podIP?.startsWith(node.podCidr.replace(/0\/24$/, ''))).to.equal(true);
    // pause writes nothing; what matters is that the API server reached the kubelet (client certificate, CA).
    expect(await kubectl(['-n', ns, 'logs', 'sandbox'])).to.equal('');
    await kubectl(['-n', ns, 'delete', 'pod', 'sandbox', '--wait=true', '--timeout=60s']);
  });

  it('stops a node without leaving processes, mounts, interfaces, namespaces or cgroups behind', async () => {
    const plane = ControlPlane.fromStateDir(join(cp.kubeconfigPath, '..'));
    const [extra] = await plane.addRealNodes(1, edgeNodeLayout(), () => {}, realNodesStartTimeout - 10_000);
    const ns = await freshNamespace('realnode');
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'left-running', namespace: ns },
      spec: {
        nodeName: extra!.name,
        tolerations: [
          { key: edgeRoleLabel, operator: 'Exists', effect: 'NoSchedule' },
          { key: realNodeLabel, operator: 'Exists', effect: 'NoSchedule' },
        ],
        containers: [{ name: 'pause', image: edgeNodeLayout().pauseRef, imagePullPolicy: 'Never' }],
      },
    };
    const netnsBefore = new Set(readdirSync('/var/run/netns'));
    await kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    await eventually(async () => expect(JSON.parse(await kubectl(['-n', ns, 'get', 'pod', 'left-running', '-o', 'json'])).status?.phase).to.equal('Running'), {
      timeout: 60_000,
      interval: 500,
    });
    const podNetns = readdirSync('/var/run/netns').filter((n) => n.startsWith('cni-') && !netnsBefore.has(n));
    expect(podNetns).to.have.length(1);
    // A running pod, as when a test run ends: stopping the node must still clean up after it.
    await stopRealNode(extra!);
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    expect(links).to.not.include(extra!.bridge).and.not.include(`${extra!.nodeInterface}@`);
    expect(readdirSync('/var/run/netns')).to.not.include.members([extra!.nodeInterface, ...podNetns]);
    expect(mountsUnder(extra!.dir)).to.deep.equal([]);
    expect(existsSync(join('/sys/fs/cgroup/memory', extra!.cgroupRoot))).to.equal(false);
    const shims = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && (() => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(extra!.containerdSocket);
      } catch {
        return false;
      }
    })());
    expect(shims).to.deep.equal([]);
    // Gone for good: no later test may be scheduled onto it.
    await kubectl(['delete', 'node', extra!.name, '--wait=false']);
  });
});
