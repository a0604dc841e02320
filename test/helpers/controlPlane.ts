// Gives integration tests a real Kubernetes control plane (etcd, kube-apiserver, controller manager,
// scheduler, kwok-simulated nodes). It starts once per mocha process on first use and stops in a
// root `after` hook. With MLOFFLOAD_KUBECONFIG set (e.g. to the kubeconfig `npm run cluster:up`
// printed) the running cluster is reused and left running.
//
//   before(async function () { this.timeout(controlPlaneStartTimeout); kc = (await useControlPlane()).kubeConfig; });
//   it('...', async () => { const ns = await freshNamespace(); ... });
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ensureClientTools, isBuilt } from '../env/build.js';
import { cacheLayout } from '../env/cacheLayout.js';
import { ControlPlane } from '../env/controlPlane.js';
import { ensureEdgeNodeBuilt, isEdgeNodeBuilt } from '../env/edgeNodeBuild.js';
import type { RealNodeRecord } from '../env/realEdgeNode.js';

export interface TestControlPlane {
  readonly kubeConfig: KubeConfig;
  readonly kubeconfigPath: string;
  /** Absolute paths of the client tools, matching the cluster's versions. */
  readonly kubectl: string;
  readonly helm: string;
  readonly edgeNodes: readonly string[];
  readonly cloudNodes: readonly string[];
  /** False when reusing a cluster started outside this process (MLOFFLOAD_KUBECONFIG). */
  readonly owned: boolean;
}

/** A `before` hook that starts the control plane needs this long on two busy cores. */
export const controlPlaneStartTimeout = 180_000;

let starting: Promise<TestControlPlane> | undefined;
let plane: ControlPlane | undefined;
let ownedPlane: ControlPlane | undefined;
const namespacesToDelete: string[] = [];

function edgeNodeCount(): number {
  const value = Number(process.env.MLOFFLOAD_EDGE_NODES ?? '3');
  if (!Number.isInteger(value) || value < 0) throw new Error(`MLOFFLOAD_EDGE_NODES must be a whole number, got ${process.env.MLOFFLOAD_EDGE_NODES}`);
  return value;
}

async function reuse(kubeconfigPath: string): Promise<TestControlPlane> {
  if (!existsSync(kubeconfigPath)) throw new Error(`MLOFFLOAD_KUBECONFIG=${kubeconfigPath} does not exist`);
  const layout = cacheLayout();
  ensureClientTools(layout);
  const stateDir = dirname(kubeconfigPath);
  plane = existsSync(ControlPlane.stateFile(stateDir)) ? ControlPlane.fromStateDir(stateDir) : undefined;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  await kubeConfig.makeApiClient(CoreV1Api).listNode().catch((error: unknown) => {
    throw new Error(`MLOFFLOAD_KUBECONFIG=${kubeconfigPath}: the API server does not answer (${(error as Error).message})`);
  });
  return {
    kubeConfig,
    kubeconfigPath,
    kubectl: layout.binary('kubectl'),
    helm: layout.binary('helm'),
    edgeNodes: plane?.state.nodes.edge ?? [],
    cloudNodes: plane?.state.nodes.cloud ?? [],
    owned: false,
  };
}

async function startOwn(): Promise<TestControlPlane> {
  const layout = cacheLayout();
  if (!isBuilt(layout)) {
    // Building takes many minutes, far beyond any hook timeout: do it once, outside the test run.
    throw new Error(`The control-plane binaries are not built for ${layout.key}. Run \`npm run cluster:build\` first.`);
  }
  const started = await ControlPlane.start({ layout, edgeNodes: edgeNodeCount(), detached: false, timeoutMs: controlPlaneStartTimeout - 10_000 });
  plane = started;
  ownedPlane = started;
  // Safety net if mocha exits without running the root `after` hook.
  process.once('exit', () => ownedPlane?.killAllNow());
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(started.kubeconfig);
  return {
    kubeConfig,
    kubeconfigPath: started.kubeconfig,
    kubectl: layout.binary('kubectl'),
    helm: layout.binary('helm'),
    edgeNodes: started.state.nodes.edge,
    cloudNodes: started.state.nodes.cloud,
    owned: true,
  };
}

/** The control plane for this mocha process, started on first call. */
export function useControlPlane(): Promise<TestControlPlane> {
  if (!starting) {
    const reused = process.env.MLOFFLOAD_KUBECONFIG;
    starting = reused ? reuse(reused) : startOwn();
    // A failed start is reported to every caller, not retried once per test file.
  }
  return starting;
}

/** A `before` hook that adds real edge nodes needs this long (containerd and kubelet start in seconds). */
export const realNodesStartTimeout = 150_000;

/**
 * Real edge nodes (kubelet + containerd) in the test control plane: adds nodes until it has `count`, on the
 * cluster this process started or the one `npm run cluster:up` started (which `cluster:down` then stops).
 * The caller checks realNodesUnavailable() first; the kubelet must be built (`npm run cluster:build`).
 */
export async function useRealEdgeNodes(count = 1): Promise<readonly RealNodeRecord[]> {
  await useControlPlane();
  const target = knownPlane();
  const have = target.state.realNodes?.length ?? 0;
  if (have < count) {
    if (!isEdgeNodeBuilt()) throw new Error('The kubelet for real edge nodes is not built. Run `npm run cluster:build` first.');
    await target.addRealNodes(count - have, await ensureEdgeNodeBuilt(), () => {}, realNodesStartTimeout - 10_000);
  }
  return target.state.realNodes!.slice(0, count);
}

/** Creates a namespace with a unique name; it is deleted after the current test. */
export async function freshNamespace(prefix = 'test'): Promise<string> {
  const { kubeConfig } = await useControlPlane();
  const name = `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
  await kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name, labels: { 'mloffload.io/test': 'true' } } } });
  namespacesToDelete.push(name);
  return name;
}

function knownPlane(): ControlPlane {
  if (!plane) {
    throw new Error(
      'This control plane was not started by this process or `npm run cluster:up`, so its API server cannot be stopped or restarted from here',
    );
  }
  return plane;
}

/** Stops kube-apiserver; SIGKILL (the default) simulates a crash. */
export async function stopApiServer(options: { signal?: NodeJS.Signals } = {}): Promise<void> {
  await useControlPlane();
  await knownPlane().stopComponent('kube-apiserver', options.signal ?? 'SIGKILL');
}

/** Starts kube-apiserver again on the same port with the same data, and waits until it is ready. */
export async function startApiServer(): Promise<void> {
  await useControlPlane();
  await knownPlane().startComponent('kube-apiserver');
}

export async function restartApiServer(options: { signal?: NodeJS.Signals } = {}): Promise<void> {
  await stopApiServer(options);
  await startApiServer();
}

export function apiServerRunning(): boolean {
  return knownPlane().isRunning('kube-apiserver');
}

/** Runs the cluster's kubectl with its admin kubeconfig; rejects with stderr on a non-zero exit. */
export async function kubectl(args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const cp = await useControlPlane();
  return new Promise((resolveOutput, reject) => {
    const child = execFile(
      cp.kubectl,
      [`--kubeconfig=${cp.kubeconfigPath}`, ...args],
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr || error.message}`));
        else resolveOutput(stdout);
      },
    );
    child.stdin?.end(options.input);
  });
}

async function deleteFreshNamespaces(): Promise<void> {
  const names = namespacesToDelete.splice(0);
  if (names.length === 0 || !starting) return;
  // A fault test that failed midway must not leave the next test without an API server.
  if (plane && !plane.isRunning('kube-apiserver')) await plane.startComponent('kube-apiserver');
  const core = (await starting).kubeConfig.makeApiClient(CoreV1Api);
  // Deletion finishes in the background (namespace controller, kwok); tests never reuse a name.
  await Promise.all(names.map((name) => core.deleteNamespace({ name }).catch(() => undefined)));
}

async function stopOwnedControlPlane(): Promise<void> {
  const owned = ownedPlane;
  ownedPlane = undefined;
  plane = undefined;
  starting = undefined;
  if (owned) await owned.stop({ keepState: process.env.MLOFFLOAD_KEEP_CLUSTER_STATE === '1' });
}

// Root-level hooks: this module is imported at the top level of spec files, while mocha loads them,
// so these attach to the root suite and run once per test and once at the end of the whole run.
if (typeof afterEach === 'function' && typeof after === 'function') {
  afterEach('delete the namespaces made by freshNamespace()', async function () {
    this.timeout(60_000);
    await deleteFreshNamespaces();
  });
  after('stop the test control plane', async function () {
    this.timeout(60_000);
    await stopOwnedControlPlane();
  });
}
