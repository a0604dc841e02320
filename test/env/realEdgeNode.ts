// A real edge node beside the kwok ones: containerd (Debian's 1.6, runc, cgroupfs) and the kubelet, with
// the CNI bridge and host-local plugins giving pods addresses on a bridge of this machine. Everything the
// node writes lives under <state dir>/nodes/<name>; stopping it kills its containers, unmounts what it
// mounted, removes its interfaces and cgroups, and puts back the kernel settings the kubelet changed.
//
// Addresses stay on the machine: the node IP sits on a veth whose peer is in a namespace of its own, pods sit on a bridge with no
// default route in their namespace (only the pod subnet, whose gateway is this machine), and nothing
// masquerades, so a pod can reach this machine's bridge address and nothing beyond it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { dump } from 'js-yaml';
import type { EdgeNodeLayout } from './edgeNodeBuild.js';
import { type Pki, issueClientCertificate, issueNodeServingCertificate, nodeIdentity, writeKubeconfig } from './pki.js';
import { isRunning, logTail, startProcess, stopProcess } from './processes.js';
import { edgeRoleLabel } from './simulatedNodes.js';

/** Node IPs are 10.246.<slot>.1 on a veth interface; pods of that node get 10.245.<slot>.0/24. */
const NODE_NET = '10.246';
const POD_NET = '10.245';
const CNI_BIN_DIR = '/usr/lib/cni';
const CNI_PLUGINS = ['bridge', 'host-local', 'loopback'];
const KUBELET_PORT = 10250;
const KUBELET_HEALTHZ_PORT = 10248;
/** Port 9 (discard) on loopback: nothing listens there on these machines. */
const NO_EGRESS_PROXY = 'http://127.0.0.1:9';
/** What the kubelet sets when it starts (container_manager_linux.go setupKernelTunables); put back on stop. */
const KUBELET_SYSCTLS = ['vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes'];

export const realNodeLabel = 'mloffload.io/real-node';

export interface NodeProcess {
  binary: string;
  args: string[];
  env?: Record<string, string>;
  log: string;
  pid: number | null;
}

export interface RealNodeRecord {
  name: string;
  /** 1..254: picks the node's addresses, interface names and cgroup. */
  slot: number;
  nodeIp: string;
  podCidr: string;
  /** This machine's address on the pods' bridge: the one address pods can reach outside their own. */
  podGateway: string;
  /** Host end of a veth pair holding the node IP; its peer lies in a network namespace of the same name. */
  nodeInterface: string;
  bridge: string;
  dir: string;
  containerdSocket: string;
  cgroupRoot: string;
  cniNetwork: string;
  /** A folder for hostPath volumes of tests, under the node's directory (the machine's / is shared). */
  hostPathDir: string;
  /** Network namespaces of pod sandboxes found when the node stopped, to unmount. */
  containerd: NodeProcess;
  kubelet: NodeProcess;
}

/** Why real nodes cannot run on this machine, or undefined when they can. */
export function realNodesUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'real edge nodes need root (containerd, runc, network interfaces, cgroups)';
  for (const [tool, paths] of [
    ['containerd', ['/usr/bin/containerd', '/usr/local/bin/containerd']],
    ['ctr', ['/usr/bin/ctr', '/usr/local/bin/ctr']],
    ['runc', ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc']],
  ] as const) {
    if (!paths.some((p) => existsSync(p))) return `real edge nodes need ${tool} (Debian package ${tool === 'runc' ? 'runc' : 'containerd'})`;
  }
  const missing = CNI_PLUGINS.filter((p) => !existsSync(join(CNI_BIN_DIR, p)));
  if (missing.length) return `real edge nodes need the CNI plugins ${missing.join(', ')} in ${CNI_BIN_DIR} (Debian package containernetworking-plugins)`;
  return undefined;
}

const which = (paths: readonly string[]): string => paths.find((p) => existsSync(p)) ?? paths[0]!;
const containerdBinary = (): string => which(['/usr/bin/containerd', '/usr/local/bin/containerd']);
const ctrBinary = (): string => which(['/usr/bin/ctr', '/usr/local/bin/ctr']);
const runcBinary = (): string => which(['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc']);

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

function linkExists(name: string): boolean {
  return spawnSync('ip', ['link', 'show', name], { stdio: 'ignore' }).status === 0;
}

/** A slot no other node on this machine uses (its node interface is the marker). */
function freeSlot(taken: ReadonlySet<number>): number {
  for (let slot = 1; slot < 255; slot++) if (!taken.has(slot) && !linkExists(`mlonode${slot}`)) return slot;
  throw new Error('no free slot for a real edge node (254 in use)');
}

function cgroupHierarchies(): string[] {
  return readdirSync('/sys/fs/cgroup')
    .map((name) => join('/sys/fs/cgroup', name))
    .filter((path) => statSync(path).isDirectory());
}

function containerdConfig(r: RealNodeRecord, layout: EdgeNodeLayout): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# containerd for real edge node ${r.name}: everything under ${r.dir}.
version = 2
root = "${r.dir}/containerd/root"
state = "${r.dir}/containerd/state"
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "${r.containerdSocket}"

[ttrpc]
  address = "${r.containerdSocket}.ttrpc"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${r.dir}/containerd/opt"

[${cri}]
  sandbox_image = "${layout.pauseRef}"
  # The machine withholds CAP_SYS_RESOURCE: never lower a container's oom_score_adj below containerd's own.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  BinaryName = "${runcBinary()}"
  Root = "${r.dir}/runc"
  SystemdCgroup = false

[${cri}.cni]
  bin_dir = "${CNI_BIN_DIR}"
  conf_dir = "${r.dir}/cni/net.d"
  max_conf_num = 1
`;
}

function cniConfig(r: RealNodeRecord): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: r.cniNetwork,
      plugins: [
        {
          type: 'bridge',
          bridge: r.bridge,
          isGateway: true,
          // No default route in the pod: it reaches its subnet (and this machine on the gateway), nothing else.
          isDefaultGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: r.podCidr, gateway: r.podGateway }]], dataDir: join(r.dir, 'cni', 'ipam') },
        },
      ],
    },
    null,
    2,
  );
}

function kubeletConfig(r: RealNodeRecord, pki: Pki, serving: { cert: string; key: string }): string {
  return dump({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: r.nodeIp,
    port: KUBELET_PORT,
    readOnlyPort: 0,
    healthzBindAddress: r.nodeIp,
    healthzPort: KUBELET_HEALTHZ_PORT,
    tlsCertFile: serving.cert,
    tlsPrivateKeyFile: serving.key,
    // Clients are the API server (its kubelet client certificate) and nobody else.
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: pki.caCert } },
    authorization: { mode: 'Webhook' },
    containerRuntimeEndpoint: `unix://${r.containerdSocket}`,
    // What this machine needs (cgroup v1, no systemd, a low open-files ceiling).
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: r.cgroupRoot,
    maxOpenFiles: 20000,
    failSwapOn: false,
    podLogsDir: join(r.dir, 'pod-logs'),
    volumePluginDir: join(r.dir, 'volume-plugins'),
    resolvConf: '/etc/resolv.conf',
    clusterDomain: 'cluster.local',
    // Images are imported, never pulled: image garbage collection would delete what cannot come back.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // The shared disk and memory of a test machine must not evict the pods under test.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    serializeImagePulls: false,
    maxPods: 110,
  });
}

/** Writes a node's certificates, kubeconfig and configuration; nothing runs yet. */
export function prepareRealNode(options: {
  stateDir: string;
  name: string;
  takenSlots: ReadonlySet<number>;
  pki: Pki;
  server: string;
  layout: EdgeNodeLayout;
}): RealNodeRecord {
  const { name, pki, layout } = options;
  const slot = freeSlot(options.takenSlots);
  const dir = join(options.stateDir, 'nodes', name);
  for (const sub of ['containerd', 'cni/net.d', 'cni/ipam', 'kubelet', 'pod-logs', 'volume-plugins', 'hostpath', 'logs']) mkdirSync(join(dir, sub), { recursive: true });
  const record: RealNodeRecord = {
    name,
    slot,
    nodeIp: `${NODE_NET}.${slot}.1`,
    podCidr: `${POD_NET}.${slot}.0/24`,
    podGateway: `${POD_NET}.${slot}.1`,
    nodeInterface: `mlonode${slot}`,
    bridge: `mlobr${slot}`,
    dir,
    containerdSocket: join(dir, 'containerd', 'containerd.sock'),
    cgroupRoot: `/mloffload-${name}-${slot}`,
    cniNetwork: `mloffload-node-${slot}`,
    hostPathDir: join(dir, 'hostpath'),
    containerd: {
      binary: containerdBinary(),
      args: ['--config', join(dir, 'containerd', 'config.toml')],
      // Images are imported, never pulled: a pull goes to a proxy address where nothing listens and fails
      // at once instead of leaving the machine.
      env: { HTTP_PROXY: NO_EGRESS_PROXY, HTTPS_PROXY: NO_EGRESS_PROXY, http_proxy: NO_EGRESS_PROXY, https_proxy: NO_EGRESS_PROXY, NO_PROXY: '', no_proxy: '' },
      log: join(dir, 'logs', 'containerd.log'),
      pid: null,
    },
    kubelet: {
      binary: layout.kubelet,
      args: [
        `--config=${join(dir, 'kubelet', 'config.yaml')}`,
        `--kubeconfig=${join(dir, 'kubelet', 'kubeconfig')}`,
        `--root-dir=${join(dir, 'kubelet', 'root')}`,
        `--cert-dir=${join(dir, 'kubelet', 'pki')}`,
        `--hostname-override=${name}`,
        `--node-ip=${NODE_NET}.${slot}.1`,
        '--v=1',
      ],
      log: join(dir, 'logs', 'kubelet.log'),
      pid: null,
    },
  };
  writeFileSync(join(dir, 'containerd', 'config.toml'), containerdConfig(record, layout));
  writeFileSync(join(dir, 'cni', 'net.d', '10-mloffload.conflist'), cniConfig(record));
  const id = nodeIdentity(name);
  issueClientCertificate(pki, id);
  writeKubeconfig(join(dir, 'kubelet', 'kubeconfig'), pki, options.server, id);
  const serving = issueNodeServingCertificate(pki, name, record.nodeIp);
  writeFileSync(join(dir, 'kubelet', 'config.yaml'), kubeletConfig(record, pki, serving));
  return record;
}

/**
 * The Node object, created before the kubelet registers (as KubeEdge's cloudcore does for edgecore): the
 * edge and agent roles and the edge taint, which a kubelet may not give itself (--node-labels refuses the
 * node-role.kubernetes.io prefix). The kubelet then adopts it and fills in its status.
 */
export function realNodeManifest(r: RealNodeRecord): object {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: r.name,
      labels: {
        'kubernetes.io/hostname': r.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        [edgeRoleLabel]: '',
        'node-role.kubernetes.io/agent': '',
        [realNodeLabel]: 'true',
      },
    },
    // The second taint is the test cluster's own: workloads of other tests tolerate the edge taint and
    // would otherwise land here and fail to pull images; only pods meant for a real node tolerate it.
    spec: { taints: [{ key: edgeRoleLabel, value: '', effect: 'NoSchedule' }, { key: realNodeLabel, value: 'true', effect: 'NoSchedule' }] },
  };
}

function ctr(r: RealNodeRecord, args: string[], timeoutMs = 120_000): string {
  return execFileSync(ctrBinary(), ['--address', r.containerdSocket, '--namespace', 'k8s.io', ...args], { encoding: 'utf8', stdio: 'pipe', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
}

/**
 * Imports an OCI archive into the node's containerd (where the kubelet's CRI finds it) under `ref`. The
 * archive's index is rewritten to name `ref` first: containerd 1.6's CRI resolves an image by its config
 * digest to the names it has and looks them up normalised, so an image that was ever known by a short name
 * (mloffload/inference-runtime:0.1.0, which becomes docker.io/...) stays "not found" in its cache even after
 * a retag; the image must arrive under its full name.
 */
export function importImage(r: RealNodeRecord, archive: string, ref: string): void {
  const work = mkdtempSync(join(r.dir, '.import-'));
  try {
    const layout = join(work, 'layout');
    mkdirSync(layout);
    execFileSync('tar', ['--extract', '--file', archive, '-C', layout]);
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
    if (index.manifests.length !== 1) throw new Error(`${archive}: expected one image, found ${index.manifests.length}`);
    index.manifests[0]!.annotations = { ...index.manifests[0]!.annotations, 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': ref };
    writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
    const copy = join(work, 'image.tar');
    execFileSync('tar', ['--create', '--file', copy, '--owner=0', '--group=0', '--numeric-owner', '-C', layout, '.']);
    const out = ctr(r, ['images', 'import', '--all-platforms', copy], 600_000);
    if (!nodeImages(r).includes(ref)) throw new Error(`ctr images import ${archive} did not give ${ref}: ${out}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The image references containerd holds for the node. */
export function nodeImages(r: RealNodeRecord): string[] {
  return ctr(r, ['images', 'ls', '-q']).split('\n').filter(Boolean);
}

const delay = (ms: number): Promise<void> => new Promise((resolveDelay) => setTimeout(resolveDelay, ms));

async function waitFor(what: string, check: () => boolean | Promise<boolean>, proc: NodeProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.pid === null || !isRunning(proc.pid, proc.binary)) throw new Error(`${what}: the process exited; last lines of ${proc.log}:\n${logTail(proc.log)}`);
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} after ${timeoutMs} ms; last lines of ${proc.log}:\n${logTail(proc.log)}`);
    await delay(100);
  }
}

function readSysctl(key: string): string {
  return readFileSync(join('/proc/sys', key), 'utf8').trim();
}

/**
 * The kernel settings as they were before any real node of this machine started, kept machine-wide: with two
 * clusters' nodes running, the second must not take the first kubelet's values for the machine's own.
 */
const KERNEL_SETTINGS_FILE = '/run/mloffload-test-nodes/kernel-settings.json';

function recordKernelSettings(): void {
  if (existsSync(KERNEL_SETTINGS_FILE)) return;
  mkdirSync(dirname(KERNEL_SETTINGS_FILE), { recursive: true });
  writeFileSync(KERNEL_SETTINGS_FILE, JSON.stringify(Object.fromEntries(KUBELET_SYSCTLS.map((k) => [k, readSysctl(k)]))));
}

/** Puts the settings back once the last real node of this machine (the last mlonode* link) is gone. */
function restoreKernelSettings(): void {
  if (!existsSync(KERNEL_SETTINGS_FILE)) return;
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  if (/^\d+: mlonode\d+[@:]/m.test(links)) return;
  const saved = JSON.parse(readFileSync(KERNEL_SETTINGS_FILE, 'utf8')) as Record<string, string>;
  for (const [key, value] of Object.entries(saved)) {
    try {
      if (readSysctl(key) !== value) writeFileSync(join('/proc/sys', key), value);
    } catch {
      // not writable here: then the kubelet could not change it either
    }
  }
  rmSync(KERNEL_SETTINGS_FILE, { force: true });
}

/** Sets up the node's interfaces and cgroup, then starts containerd (with the sandbox image) and the kubelet. */
export async function startRealNode(r: RealNodeRecord, layout: EdgeNodeLayout, options: { detached: boolean; timeoutMs?: number; onStarted: () => void }): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  if (!linkExists(r.nodeInterface)) {
    // Kernels without the dummy driver are common in VMs: the node IP sits on one end of a veth pair whose
    // other end lies in a namespace of its own, which gives the link a carrier and sends nothing anywhere.
    ip(['netns', 'add', r.nodeInterface]);
    ip(['link', 'add', r.nodeInterface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', r.nodeInterface]);
    ip(['addr', 'add', `${r.nodeIp}/32`, 'dev', r.nodeInterface]);
    ip(['link', 'set', r.nodeInterface, 'up']);
    ip(['-n', r.nodeInterface, 'link', 'set', 'eth0', 'up']);
  }
  if (!linkExists(r.bridge)) {
    // Made here rather than by the bridge plugin at the first pod, so this machine's address on it exists
    // (for servers the pods should reach) before any pod runs.
    ip(['link', 'add', r.bridge, 'type', 'bridge']);
    ip(['addr', 'add', `${r.podGateway}/24`, 'dev', r.bridge]);
    ip(['link', 'set', r.bridge, 'up']);
  }
  // The kubelet wants its cgroup root to exist in every hierarchy; cpuset needs its CPUs and memory nodes set.
  for (const hierarchy of cgroupHierarchies()) {
    const path = join(hierarchy, r.cgroupRoot);
    mkdirSync(path, { recursive: true });
    if (hierarchy.endsWith('/cpuset')) {
      for (const file of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(path, file), readFileSync(join(hierarchy, file)));
    }
  }
  recordKernelSettings();
  options.onStarted();

  r.containerd.pid = startProcess(r.containerd, options.detached);
  options.onStarted();
  await waitFor(`containerd of ${r.name} not answering`, () => existsSync(r.containerdSocket) && spawnSync(ctrBinary(), ['--address', r.containerdSocket, 'version'], { stdio: 'ignore', timeout: 5_000 }).status === 0, r.containerd, timeoutMs);
  if (!nodeImages(r).includes(layout.pauseRef)) importImage(r, layout.pauseArchive, layout.pauseRef);

  r.kubelet.pid = startProcess(r.kubelet, options.detached);
  options.onStarted();
}

/** Reads the network namespace paths of the node's containers (pod sandboxes), for cleaning up after them. */
function sandboxNetns(r: RealNodeRecord, ids: string[]): string[] {
  const paths = new Set<string>();
  for (const id of ids) {
    try {
      const info = JSON.parse(ctr(r, ['containers', 'info', id])) as { Spec?: { linux?: { namespaces?: { type: string; path?: string }[] } } };
      for (const ns of info.Spec?.linux?.namespaces ?? []) if (ns.type === 'network' && ns.path?.startsWith('/var/run/netns/')) paths.add(ns.path);
    } catch {
      // gone meanwhile
    }
  }
  return [...paths];
}

function processesWithArg(fragment: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(fragment)) out.push(Number(entry));
    } catch {
      // exited
    }
  }
  return out;
}

export function mountsUnder(dir: string): string[] {
  const unescape = (s: string): string => s.replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => unescape(line.split(' ')[4] ?? ''))
    .filter((mountPoint) => mountPoint === dir || mountPoint.startsWith(`${dir}/`));
}

function unmount(path: string): void {
  if (spawnSync('umount', [path], { stdio: 'ignore' }).status !== 0) spawnSync('umount', ['-l', path], { stdio: 'ignore' });
}

function removeCgroupTree(path: string): void {
  if (!existsSync(path)) return;
  for (const entry of readdirSync(path, { withFileTypes: true })) if (entry.isDirectory()) removeCgroupTree(join(path, entry.name));
  try {
    rmdirSync(path);
  } catch {
    // a process still in it; reported by what is left behind, never fatal for the rest of the clean-up
  }
}

/**
 * Stops the node: kubelet, then every container (tasks killed, containers deleted), then containerd and
 * its shims; unmounts what the node mounted (pod volumes, root file systems, sandbox network namespaces),
 * removes its cgroups and interfaces, and restores the kernel settings. The node's directory stays for
 * the caller to remove.
 */
export async function stopRealNode(r: RealNodeRecord): Promise<void> {
  if (r.kubelet.pid !== null) await stopProcess(r.kubelet.pid, r.kubelet.binary, 'SIGTERM', 15_000);
  r.kubelet.pid = null;
  let netns: string[] = [];
  if (r.containerd.pid !== null && isRunning(r.containerd.pid, r.containerd.binary)) {
    try {
      const ids = ctr(r, ['containers', 'ls', '-q'], 30_000).split('\n').filter(Boolean);
      netns = sandboxNetns(r, ids);
      for (const id of ids) {
        spawnSync(ctrBinary(), ['--address', r.containerdSocket, '--namespace', 'k8s.io', 'tasks', 'delete', '--force', id], { stdio: 'ignore', timeout: 30_000 });
        spawnSync(ctrBinary(), ['--address', r.containerdSocket, '--namespace', 'k8s.io', 'containers', 'delete', id], { stdio: 'ignore', timeout: 30_000 });
      }
    } catch {
      // containerd not answering: the shims and mounts are swept below all the same
    }
    await stopProcess(r.containerd.pid, r.containerd.binary, 'SIGTERM', 15_000);
  }
  r.containerd.pid = null;
  // Shims outlive containerd by design; these ones were started for this node's socket.
  for (const pid of processesWithArg(r.containerdSocket)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited
    }
  }
  for (const path of netns) {
    unmount(path);
    rmSync(path, { force: true });
  }
  for (const mountPoint of mountsUnder(r.dir).sort((a, b) => b.length - a.length)) unmount(mountPoint);
  for (const hierarchy of cgroupHierarchies()) removeCgroupTree(join(hierarchy, r.cgroupRoot));
  for (const link of [r.bridge, r.nodeInterface]) if (linkExists(link)) spawnSync('ip', ['link', 'del', link], { stdio: 'ignore' });
  spawnSync('ip', ['netns', 'del', r.nodeInterface], { stdio: 'ignore' });
  // libcni keeps results of every attachment in /var/lib/cni/results, named after the network.
  const results = '/var/lib/cni/results';
  if (existsSync(results)) for (const f of readdirSync(results)) if (f.startsWith(`${r.cniNetwork}-`)) rmSync(join(results, f), { force: true });
  restoreKernelSettings();
}

/** Synchronous best effort for process 'exit' handlers: kills the node's processes and shims. */
export function killRealNodeNow(r: RealNodeRecord): void {
  for (const p of [r.kubelet, r.containerd]) {
    if (p.pid !== null && isRunning(p.pid, p.binary)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  for (const pid of processesWithArg(r.containerdSocket)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** The kubelet's own health endpoint (plain HTTP on the node IP). */
export async function kubeletHealthy(r: RealNodeRecord): Promise<boolean> {
  try {
    const res = await fetch(`http://${r.nodeIp}:${KUBELET_HEALTHZ_PORT}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}
