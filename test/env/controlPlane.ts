// Runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok on loopback ports,
// with everything they need (certificates, keys, kubeconfigs, data) in one state directory.
// The state file records pids, ports and arguments, so another process can stop or restart parts.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminTls, httpsRequest, probe } from './adminClient.js';
import { type BinaryName, type CacheLayout, kubernetesVersion } from './cacheLayout.js';
import type { EdgeNodeLayout } from './edgeNodeBuild.js';
import { type Pki, createPki, frontProxyClientName, identities, pkiAt, serviceClusterIpRange, writeKubeconfig } from './pki.js';
import { type RealNodeRecord, killRealNodeNow, mountsUnder, prepareRealNode, realNodeManifest, startRealNode, stopRealNode } from './realEdgeNode.js';
import { freePort, isRunning, killNow, logTail, startProcess, stopProcess } from './processes.js';
import { confineSimulatedNetwork, releaseSimulatedNetwork, SIMULATED_NODE_IP, SIMULATED_POD_CIDR } from './simulatedNetwork.js';
import { kwokNodeAnnotation, simulatedNodes } from './simulatedNodes.js';

export const componentNames = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
export type ComponentName = (typeof componentNames)[number];

export interface ComponentRecord {
  binary: string;
  args: string[];
  env?: Record<string, string>;
  log: string;
  pid: number | null;
}

export interface ClusterState {
  stateDir: string;
  versionsKey: string;
  kubernetesVersion: string;
  /** Admin kubeconfig (group system:masters), certificates inlined. */
  kubeconfig: string;
  server: string;
  pkiDir: string;
  ports: { etcd: number; etcdPeer: number; apiServer: number; controllerManager: number; scheduler: number };
  /** Whether the processes were started in their own process groups, to outlive the starter. */
  detached: boolean;
  nodes: { cloud: string[]; edge: string[] };
  binDir: string;
  components: Record<ComponentName, ComponentRecord>;
  /** Real edge nodes (kubelet + containerd), beside the simulated ones; absent in older state files. */
  realNodes?: RealNodeRecord[];
}

export interface StartOptions {
  readonly layout: CacheLayout;
  /** Number of simulated edge nodes (default 3). */
  readonly edgeNodes?: number;
  readonly detached?: boolean;
  readonly log?: (message: string) => void;
  /** How long to wait for the whole cluster to become ready. */
  readonly timeoutMs?: number;
  /** Number of real edge nodes (default 0); needs `nodeLayout`. */
  readonly realNodes?: number;
  readonly nodeLayout?: EdgeNodeLayout;
}

/** Controllers the tests and the operator rely on; the rest stay off to spare the two cores. */
const controllers = [
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'namespace-controller',
  // Lifts the not-ready taint that admission puts on new nodes once kwok reports them Ready, and marks
  // nodes NotReady when kwok stops renewing their Leases, as for an edge node that lost its link.
  'node-lifecycle-controller',
  'garbage-collector-controller',
  'deployment-controller',
  'replicaset-controller',
  'endpoints-controller',
  'endpointslice-controller',
  'horizontal-pod-autoscaler-controller',
  'clusterrole-aggregation-controller',
];

/** Admission plugins enabled by default that nothing here needs (storage, certificates, ingress classes). */
const disabledAdmissionPlugins = [
  'DefaultStorageClass',
  'StorageObjectInUseProtection',
  'PersistentVolumeClaimResize',
  'DefaultIngressClass',
  'RuntimeClass',
  'CertificateApproval',
  'CertificateSigning',
  'CertificateSubjectRestriction',
  'ClusterTrustBundleAttest',
  // It taints every new node node.kubernetes.io/not-ready:NoSchedule, and only the node-lifecycle controller
  // (not run here) lifts that taint once the node is Ready: nothing would ever schedule.
  'TaintNodesByCondition',
];

const serviceAccountIssuer = 'https://kubernetes.default.svc.cluster.local';

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ControlPlaneError extends Error {
  override name = 'ControlPlaneError';
}

export class ControlPlane {
  private constructor(readonly state: ClusterState) {}

  static stateFile(stateDir: string): string {
    return join(stateDir, 'state.json');
  }

  /** Attaches to a control plane started elsewhere (by `cluster:up` or another process). */
  static fromStateDir(stateDir: string): ControlPlane {
    const file = ControlPlane.stateFile(stateDir);
    if (!existsSync(file)) throw new ControlPlaneError(`${stateDir} holds no control plane (no state.json)`);
    return new ControlPlane(JSON.parse(readFileSync(file, 'utf8')) as ClusterState);
  }

  get kubeconfig(): string {
    return this.state.kubeconfig;
  }

  binary(name: BinaryName): string {
    return join(this.state.binDir, name);
  }

  private save(): void {
    writeFileSync(ControlPlane.stateFile(this.state.stateDir), `${JSON.stringify(this.state, null, 2)}\n`);
  }

  isRunning(name: ComponentName): boolean {
    const c = this.state.components[name];
    return c.pid !== null && isRunning(c.pid, c.binary);
  }

  /** Names of components whose process is gone. */
  deadComponents(): ComponentName[] {
    return componentNames.filter((n) => !this.isRunning(n));
  }

  async startComponent(name: ComponentName, timeoutMs = 60_000): Promise<void> {
    if (this.isRunning(name)) return;
    const c = this.state.components[name];
    c.pid = startProcess(c, this.state.detached);
    this.save();
    await this.waitHealthy(name, timeoutMs);
  }

  /** Stops one component; SIGKILL simulates a crash, SIGTERM a graceful shutdown. */
  async stopComponent(name: ComponentName, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = this.state.components[name];
    if (c.pid !== null) await stopProcess(c.pid, c.binary, signal);
    c.pid = null;
    this.save();
  }

  async restartComponent(name: ComponentName, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 60_000): Promise<void> {
    await this.stopComponent(name, signal);
    await this.startComponent(name, timeoutMs);
  }

  /** Stops every component (real nodes first, then controllers, etcd last) and, unless asked not to, deletes the state directory. */
  async stop(options: { keepState?: boolean } = {}): Promise<void> {
    for (const node of this.state.realNodes ?? []) {
      await stopRealNode(node);
      this.save();
    }
    await Promise.all(['kwok', 'kube-scheduler', 'kube-controller-manager'].map((n) => this.stopComponent(n as ComponentName)));
    await this.stopComponent('kube-apiserver');
    await this.stopComponent('etcd');
    releaseSimulatedNetwork();
    // Never delete through a mount a node failed to release: the files under it are not the cluster's.
    const mounted = mountsUnder(this.state.stateDir);
    if (mounted.length > 0) throw new ControlPlaneError(`still mounted, so ${this.state.stateDir} was kept: ${mounted.join(', ')}`);
    if (!options.keepState) rmSync(this.state.stateDir, { recursive: true, force: true });
  }

  /** For process 'exit' handlers: kills whatever still runs, synchronously. */
  killAllNow(): void {
    for (const node of this.state.realNodes ?? []) killRealNodeNow(node);
    for (const name of [...componentNames].reverse()) {
      const c = this.state.components[name];
      if (c.pid !== null) killNow(c.pid, c.binary);
    }
  }

  private tls() {
    return adminTls(this.state.pkiDir);
  }

  private async healthy(name: ComponentName): Promise<boolean> {
    const { ports } = this.state;
    switch (name) {
      case 'etcd':
        try {
          const res = await fetch(`http://127.0.0.1:${ports.etcd}/health`, { signal: AbortSignal.timeout(2_000) });
          return res.ok;
        } catch {
          return false;
        }
      case 'kube-apiserver':
        return (await probe(`${this.state.server}/readyz`, this.tls())) === 200;
      case 'kube-controller-manager':
        return (await probe(`https://127.0.0.1:${ports.controllerManager}/healthz`, this.tls())) === 200;
      case 'kube-scheduler':
        return (await probe(`https://127.0.0.1:${ports.scheduler}/healthz`, this.tls())) === 200;
      case 'kwok':
        // kwok serves nothing here; it is healthy when the nodes it animates are Ready.
        return (await this.notReadyNodes()).length === 0;
    }
  }

  async waitHealthy(name: ComponentName, timeoutMs: number): Promise<void> {
    const c = this.state.components[name];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.isRunning(name)) {
        throw new ControlPlaneError(`${name} exited during start-up; last lines of ${c.log}:\n${logTail(c.log)}`);
      }
      if (await this.healthy(name)) return;
      if (Date.now() > deadline) {
        throw new ControlPlaneError(`${name} not healthy after ${timeoutMs} ms; last lines of ${c.log}:\n${logTail(c.log)}`);
      }
      await delay(100);
    }
  }

  private async apiGet<T>(path: string): Promise<{ status: number; body: T | undefined }> {
    const res = await httpsRequest(`${this.state.server}${path}`, this.tls());
    return { status: res.status, body: res.status === 200 ? (JSON.parse(res.body) as T) : undefined };
  }

  /** Simulated nodes that are not (yet) Ready, or still carry the not-ready taint that keeps pods away. */
  async notReadyNodes(names?: readonly string[]): Promise<string[]> {
    type NodeList = {
      items: {
        metadata: { name: string };
        spec?: { taints?: { key: string }[] };
        status?: { conditions?: { type: string; status: string }[] };
      }[];
    };
    const expected = names ?? [...this.state.nodes.cloud, ...this.state.nodes.edge];
    try {
      const { body } = await this.apiGet<NodeList>('/api/v1/nodes');
      const ready = new Set(
        (body?.items ?? [])
          .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
          .filter((n) => !n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready'))
          .map((n) => n.metadata.name),
      );
      return expected.filter((n) => !ready.has(n));
    } catch {
      return [...expected];
    }
  }

  async createNodes(): Promise<void> {
    const manifests = simulatedNodes(this.state.nodes.edge.length, this.state.kubernetesVersion);
    await Promise.all(
      manifests.map(async (node) => {
        const res = await httpsRequest(`${this.state.server}/api/v1/nodes`, this.tls(), { method: 'POST', body: node });
        if (res.status !== 201 && res.status !== 409) {
          throw new ControlPlaneError(`creating node ${node.metadata.name} failed: ${res.status} ${res.body}`);
        }
      }),
    );
  }

  /**
   * Adds real edge nodes: RBAC for kubelets (the system:node ClusterRole bound to group system:nodes, since
   * only RBAC authorizes here), the Node objects as edgecore's cloud side creates them, then containerd and
   * the kubelet of each; waits until they are Ready.
   */
  async addRealNodes(count: number, layout: EdgeNodeLayout, log: (message: string) => void = () => {}, timeoutMs = 120_000): Promise<RealNodeRecord[]> {
    const started = Date.now();
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'mloffload-test:nodes' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:nodes' }],
    };
    await this.create('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', binding);
    const nodes = (this.state.realNodes ??= []);
    const added: RealNodeRecord[] = [];
    for (let i = 0; i < count; i++) {
      const record = prepareRealNode({
        stateDir: this.state.stateDir,
        name: `real-edge-${nodes.length}`,
        takenSlots: new Set(nodes.map((n) => n.slot)),
        pki: pkiAt(this.state.pkiDir),
        server: this.state.server,
        layout,
      });
      nodes.push(record);
      added.push(record);
      this.save();
      await this.create('/api/v1/nodes', realNodeManifest(record));
      await startRealNode(record, layout, { detached: this.state.detached, onStarted: () => this.save() });
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const notReady = await this.notReadyNodes(added.map((n) => n.name));
      if (notReady.length === 0) break;
      for (const n of added) {
        if (n.kubelet.pid === null || !isRunning(n.kubelet.pid, n.kubelet.binary)) {
          throw new ControlPlaneError(`kubelet of ${n.name} exited; last lines of ${n.kubelet.log}:\n${logTail(n.kubelet.log)}`);
        }
      }
      if (Date.now() > deadline) {
        throw new ControlPlaneError(`real nodes not Ready after ${timeoutMs} ms: ${notReady.join(', ')}; kubelet log ${added[0]!.kubelet.log}:\n${logTail(added[0]!.kubelet.log)}`);
      }
      await delay(200);
    }
    log(`${count} real edge node(s) Ready after ${Date.now() - started} ms: ${added.map((n) => `${n.name} (${n.nodeIp}, pods ${n.podCidr})`).join(', ')}`);
    return added;
  }

  private async create(path: string, body: object): Promise<void> {
    const res = await httpsRequest(`${this.state.server}${path}`, this.tls(), { method: 'POST', body });
    if (res.status !== 201 && res.status !== 409) throw new ControlPlaneError(`POST ${path} failed: ${res.status} ${res.body}`);
  }

  /** The default ServiceAccount appears once kube-controller-manager's controllers run. */
  private async controllersWorking(): Promise<boolean> {
    try {
      return (await this.apiGet('/api/v1/namespaces/default/serviceaccounts/default')).status === 200;
    } catch {
      return false;
    }
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(['kube-controller-manager', 'kube-scheduler', 'kwok'].map((n) => this.waitHealthy(n as ComponentName, timeoutMs)));
    while (!(await this.controllersWorking())) {
      if (Date.now() > deadline) throw new ControlPlaneError('kube-controller-manager did not create the default ServiceAccount');
      const dead = this.deadComponents();
      if (dead.length > 0) throw new ControlPlaneError(`components exited: ${dead.join(', ')}`);
      await delay(100);
    }
  }

  /** Starts a new control plane and waits until nodes are Ready and the controllers work. */
  static async start(options: StartOptions): Promise<ControlPlane> {
    const log = options.log ?? (() => {});
    const { layout } = options;
    const edgeCount = options.edgeNodes ?? 3;
    if (!Number.isInteger(edgeCount) || edgeCount < 0) throw new ControlPlaneError(`invalid edge node count: ${edgeCount}`);
    const timeoutMs = options.timeoutMs ?? 120_000;
    const started = Date.now();

    const stateDir = mkdtempSync(join(tmpdir(), 'mloffload-controlplane-'));
    const pki = createPki(join(stateDir, 'pki'));
    const logs = join(stateDir, 'logs');
    mkdirSync(logs);
    const [etcd, etcdPeer, apiServer, controllerManager, scheduler] = await uniquePorts(5);
    const server = `https://127.0.0.1:${apiServer}`;
    const kubeconfigFor = (id: (typeof identities)[keyof typeof identities]): string => {
      const path = join(pki.dir, `${id.file}.kubeconfig`);
      writeKubeconfig(path, pki, server, id);
      return path;
    };
    const kubeconfig = join(stateDir, 'kubeconfig');
    writeKubeconfig(kubeconfig, pki, server, identities.admin);

    const component = (name: BinaryName, args: string[], env?: Record<string, string>): ComponentRecord => ({
      binary: layout.binary(name),
      args,
      env,
      log: join(logs, `${name}.log`),
      pid: null,
    });
    const state: ClusterState = {
      stateDir,
      versionsKey: layout.key,
      kubernetesVersion: kubernetesVersion(),
      kubeconfig,
      server,
      pkiDir: pki.dir,
      ports: { etcd, etcdPeer, apiServer, controllerManager, scheduler },
      detached: options.detached ?? false,
      nodes: { cloud: ['cloud-0'], edge: Array.from({ length: edgeCount }, (_, i) => `edge-${i}`) },
      binDir: layout.binDir,
      components: {
        etcd: component('etcd', etcdArgs(join(stateDir, 'etcd'), etcd, etcdPeer)),
        'kube-apiserver': component('kube-apiserver', apiServerArgs(pki, apiServer, etcd)),
        'kube-controller-manager': component(
          'kube-controller-manager',
          controllerManagerArgs(pki, kubeconfigFor(identities.controllerManager), controllerManager),
        ),
        'kube-scheduler': component('kube-scheduler', schedulerArgs(pki, kubeconfigFor(identities.scheduler), scheduler)),
        // HOME points into the state directory so a developer's ~/.kwok/kwok.yaml is not merged in.
        kwok: component('kwok', kwokArgs(kubeconfigFor(identities.kwok), layout.kwokStages), { HOME: stateDir }),
      },
    };
    const plane = new ControlPlane(state);
    plane.save();
    confineSimulatedNetwork(log);
    try {
      await plane.startComponent('etcd', timeoutMs);
      await plane.startComponent('kube-apiserver', timeoutMs);
      log(`kube-apiserver ready at ${server} after ${Date.now() - started} ms`);
      for (const name of ['kube-controller-manager', 'kube-scheduler', 'kwok'] as const) {
        const c = state.components[name];
        c.pid = startProcess(c, state.detached);
      }
      plane.save();
      await plane.createNodes();
      await plane.waitReady(Math.max(1_000, timeoutMs - (Date.now() - started)));
      log(`control plane ready with ${edgeCount} edge node(s) after ${Date.now() - started} ms`);
      if ((options.realNodes ?? 0) > 0) {
        if (!options.nodeLayout) throw new ControlPlaneError('real edge nodes need the edge-node binaries (nodeLayout)');
        await plane.addRealNodes(options.realNodes!, options.nodeLayout, log);
      }
      return plane;
    } catch (error) {
      await plane.stop({ keepState: true }).catch(() => {});
      throw new ControlPlaneError(`${(error as Error).message}\n(state and logs kept in ${stateDir})`);
    }
  }
}

async function uniquePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function etcdArgs(dataDir: string, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=mloffload-test',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=mloffload-test=${peer}`,
    '--initial-cluster-state=new',
    // A throw-away store: small quota, infrequent snapshots, no fsync (as controller-runtime's envtest does).
    '--quota-backend-bytes=536870912',
    '--snapshot-count=5000',
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ];
}

function apiServerArgs(pki: Pki, port: number, etcdPort: number): string[] {
  return [
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    // The endpoint reconciler refuses loopback addresses, and nothing in-cluster dials the API server here.
    '--endpoint-reconciler-type=none',
    `--secure-port=${port}`,
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--service-account-issuer=${serviceAccountIssuer}`,
    `--api-audiences=${serviceAccountIssuer}`,
    `--service-account-key-file=${pki.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    `--service-cluster-ip-range=${serviceClusterIpRange}`,
    `--requestheader-client-ca-file=${pki.frontProxyCaCert}`,
    `--requestheader-allowed-names=${frontProxyClientName}`,
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.frontProxyClientCert}`,
    `--proxy-client-key-file=${pki.frontProxyClientKey}`,
    '--authorization-mode=RBAC',
    // For kubectl logs, exec and port-forward on real nodes: the API server's client certificate towards
    // kubelets, and the CA their serving certificates are checked against.
    `--kubelet-client-certificate=${join(pki.dir, `${identities.apiServerKubeletClient.file}.crt`)}`,
    `--kubelet-client-key=${join(pki.dir, `${identities.apiServerKubeletClient.file}.key`)}`,
    `--kubelet-certificate-authority=${pki.caCert}`,
    '--kubelet-preferred-address-types=InternalIP,Hostname',
    '--allow-privileged=true',
    `--disable-admission-plugins=${disabledAdmissionPlugins.join(',')}`,
    // Off by default upstream, on in many distributions: an owner reference that blocks owner deletion
    // needs permission on the owner's finalizers, which operator RBAC must then grant.
    '--enable-admission-plugins=OwnerReferencesPermissionEnforcement',
    '--profiling=false',
    '--v=0',
  ];
}

function componentServing(pki: Pki, kubeconfig: string, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    `--client-ca-file=${pki.caCert}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    '--leader-elect=false',
    '--profiling=false',
    '--v=0',
  ];
}

function controllerManagerArgs(pki: Pki, kubeconfig: string, port: number): string[] {
  return [
    ...componentServing(pki, kubeconfig, port),
    `--controllers=${controllers.join(',')}`,
    // Each controller acts under its own service account, as kubeadm sets it up, so RBAC is exercised.
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    `--root-ca-file=${pki.caCert}`,
    '--cluster-name=mloffload-test',
  ];
}

function schedulerArgs(pki: Pki, kubeconfig: string, port: number): string[] {
  return componentServing(pki, kubeconfig, port);
}

function kwokArgs(kubeconfig: string, stages: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--config=${stages}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${kwokNodeAnnotation}=fake`,
    '--node-lease-duration-seconds=40',
    `--cidr=${SIMULATED_POD_CIDR}`,
    `--node-ip=${SIMULATED_NODE_IP}`,
  ];
}
