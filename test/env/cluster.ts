// Command line for the development control plane:
//   npm run cluster:build                    build the binaries into the cache (once per versions key)
//   npm run cluster:up [-- --edge-nodes N] [--real-nodes M]
//                                            start a control plane with N simulated and M real edge nodes,
//                                            print its kubeconfig
//   npm run cluster:status                   show what runs
//   npm run cluster:down [-- --state-dir D]  stop it and remove its state
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { BuildPrerequisiteError, ensureBuilt } from './build.js';
import { cacheLayout, cacheRoot } from './cacheLayout.js';
import { ensureEdgeNodeBuilt } from './edgeNodeBuild.js';
import { isRunning } from './processes.js';
import { realNodesUnavailable } from './realEdgeNode.js';
import { ControlPlane, componentNames } from './controlPlane.js';

const log = (message: string): void => console.error(`[cluster] ${message}`);

/** Where `cluster:up` records the state directory of the cluster it started, for `down` and `status`. */
const currentClusterFile = (): string => join(cacheRoot(), 'current-cluster');

function currentStateDir(explicit: string | undefined): string | undefined {
  if (explicit) return explicit;
  if (process.env.MLOFFLOAD_KUBECONFIG) return dirname(process.env.MLOFFLOAD_KUBECONFIG);
  const pointer = currentClusterFile();
  return existsSync(pointer) ? readFileSync(pointer, 'utf8').trim() : undefined;
}

function directorySize(dir: string): string {
  try {
    return execFileSync('du', ['-sh', dir], { encoding: 'utf8' }).split('\t')[0] ?? '?';
  } catch {
    return '?';
  }
}

async function build(): Promise<void> {
  const started = Date.now();
  const layout = await ensureBuilt(log);
  log(`binaries ready in ${layout.binDir} (${directorySize(layout.dir)}) after ${Math.round((Date.now() - started) / 1000)} s`);
  // The real edge nodes' kubelet and sandbox image: a separate key, mostly linked from the Go build cache.
  const nodeStarted = Date.now();
  const nodeLayout = await ensureEdgeNodeBuilt(log);
  log(`edge-node binaries ready in ${nodeLayout.dir} (${directorySize(nodeLayout.dir)}) after ${Math.round((Date.now() - nodeStarted) / 1000)} s`);
}

async function up(edgeNodes: number, realNodes: number): Promise<void> {
  if (realNodes > 0) {
    const unavailable = realNodesUnavailable();
    if (unavailable) throw new BuildPrerequisiteError(`--real-nodes ${realNodes}: ${unavailable}`);
  }
  const existing = currentStateDir(undefined);
  if (existing && existsSync(ControlPlane.stateFile(existing))) {
    const plane = ControlPlane.fromStateDir(existing);
    const dead = plane.deadComponents();
    if (dead.length < componentNames.length) {
      // Partly running may mean a test is restarting the API server right now: never tear it down here.
      const note = dead.length === 0 ? '' : ` (not running now: ${dead.join(', ')})`;
      log(`a control plane is already running${note}; state in ${existing}; \`npm run cluster:down\` stops it`);
      const more = realNodes - (plane.state.realNodes?.length ?? 0);
      if (more > 0 && dead.length === 0) await plane.addRealNodes(more, await ensureEdgeNodeBuilt(log), log);
      console.log(plane.kubeconfig);
      return;
    }
    log(`removing the remains of a stopped control plane in ${existing}`);
    await plane.stop();
  }
  const layout = await ensureBuilt(log);
  const nodeLayout = realNodes > 0 ? await ensureEdgeNodeBuilt(log) : undefined;
  const plane = await ControlPlane.start({ layout, edgeNodes, realNodes, nodeLayout, detached: true, log });
  mkdirSync(cacheRoot(), { recursive: true });
  writeFileSync(currentClusterFile(), `${plane.state.stateDir}\n`);
  log(`state and logs: ${plane.state.stateDir}`);
  log(`use it with: export KUBECONFIG=${plane.kubeconfig} MLOFFLOAD_KUBECONFIG=${plane.kubeconfig}`);
  log(`kubectl: ${layout.binary('kubectl')}  helm: ${layout.binary('helm')}`);
  console.log(plane.kubeconfig);
}

async function down(stateDirFlag: string | undefined): Promise<void> {
  const stateDir = currentStateDir(stateDirFlag);
  if (!stateDir || !existsSync(ControlPlane.stateFile(stateDir))) {
    log('no control plane to stop');
    if (!stateDirFlag) rmSync(currentClusterFile(), { force: true });
    return;
  }
  const plane = ControlPlane.fromStateDir(stateDir);
  await plane.stop();
  if (currentStateDir(undefined) === stateDir) rmSync(currentClusterFile(), { force: true });
  const real = plane.state.realNodes?.map((n) => n.name) ?? [];
  log(`stopped ${[...componentNames, ...real].join(', ')} and removed ${stateDir}`);
}

function status(stateDirFlag: string | undefined): void {
  const stateDir = currentStateDir(stateDirFlag);
  if (!stateDir || !existsSync(ControlPlane.stateFile(stateDir))) {
    console.log('no control plane running');
    process.exitCode = 1;
    return;
  }
  const plane = ControlPlane.fromStateDir(stateDir);
  for (const name of componentNames) {
    const c = plane.state.components[name];
    console.log(`${name.padEnd(24)} ${plane.isRunning(name) ? `running (pid ${c.pid})` : 'stopped'}  log: ${c.log}`);
  }
  console.log(`kubeconfig: ${plane.kubeconfig}`);
  console.log(`nodes: ${[...plane.state.nodes.cloud, ...plane.state.nodes.edge].join(', ')}`);
  for (const node of plane.state.realNodes ?? []) {
    for (const p of [node.containerd, node.kubelet]) {
      const running = p.pid !== null && isRunning(p.pid, p.binary);
      if (!running) process.exitCode = 1;
      console.log(`${`${node.name} ${p === node.kubelet ? 'kubelet' : 'containerd'}`.padEnd(24)} ${running ? `running (pid ${p.pid})` : 'stopped'}  log: ${p.log}`);
    }
    console.log(`${node.name}: node IP ${node.nodeIp}, pods ${node.podCidr} on ${node.bridge}, containerd ${node.containerdSocket}`);
  }
  if (plane.deadComponents().length > 0) process.exitCode = 1;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      'edge-nodes': { type: 'string', default: '3' },
      'real-nodes': { type: 'string', default: '0' },
      'state-dir': { type: 'string' },
    },
  });
  const command = positionals[0];
  switch (command) {
    case 'build':
      return build();
    case 'up': {
      const edgeNodes = Number(values['edge-nodes']);
      if (!Number.isInteger(edgeNodes) || edgeNodes < 0) throw new Error(`--edge-nodes must be a whole number, got ${values['edge-nodes']}`);
      const realNodes = Number(values['real-nodes']);
      if (!Number.isInteger(realNodes) || realNodes < 0) throw new Error(`--real-nodes must be a whole number, got ${values['real-nodes']}`);
      return up(edgeNodes, realNodes);
    }
    case 'down':
      return down(values['state-dir']);
    case 'status':
      return status(values['state-dir']);
    case 'key':
      console.log(cacheLayout().dir);
      return;
    default:
      throw new Error(`usage: tsx test/env/cluster.ts build | up [--edge-nodes N] [--real-nodes M] | down [--state-dir DIR] | status | key`);
  }
}

main().catch((error: unknown) => {
  log(error instanceof BuildPrerequisiteError ? error.message : ((error as Error).stack ?? String(error)));
  process.exitCode = 1;
});
