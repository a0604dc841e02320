// The binaries of the real edge nodes: the kubelet, built from test/env/edgenode/kubelet (the control plane's
// module requirements plus the one module only the kubelet imports), and a locally built pause image for the
// pods' sandboxes. They live in their own cache folder with their own key, so adding them left the control
// plane's key (and its long first build) alone; the kubelet's packages mostly come from the Go build cache
// the control-plane build filled.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Log, checkGo, explainGoFailure, goExecName, runGo } from './build.js';
import { cacheRoot, envDir, goLdflags, requiredVersion } from './cacheLayout.js';
import { writeOciArchive } from './ociArchive.js';

export const edgeNodeModulesDir = join(envDir, 'edgenode');
const kubeletModuleDir = join(edgeNodeModulesDir, 'kubelet');
const pauseModuleDir = join(edgeNodeModulesDir, 'pause');
const kubeletCommand = 'k8s.io/kubernetes/cmd/kubelet';

export interface EdgeNodeLayout {
  readonly key: string;
  readonly dir: string;
  readonly kubelet: string;
  readonly pause: string;
  /** OCI archive of the sandbox image, imported into each node's containerd. */
  readonly pauseArchive: string;
  /** The sandbox image's name, as containerd's CRI plugin is told (sandbox_image). */
  readonly pauseRef: string;
}

function kubeletVersion(): string {
  return requiredVersion(readFileSync(join(kubeletModuleDir, 'go.mod'), 'utf8'), 'k8s.io/kubernetes');
}

/** The kubelet is stamped with its release like the control-plane commands (one rule, in goLdflags). */
function kubeletLdflags(): string {
  return goLdflags({ dir: 'kube', pinned: 'k8s.io/kubernetes', commands: {} }, kubeletVersion());
}

/** `node-k8s-v1.37.2_<digest>`: the digest covers the kubelet's go.mod/go.sum, its flags and the pause sources. */
export function edgeNodeKey(): string {
  const digest = createHash('sha256');
  for (const file of [join(kubeletModuleDir, 'go.mod'), join(kubeletModuleDir, 'go.sum'), join(pauseModuleDir, 'go.mod'), join(pauseModuleDir, 'main.go')]) {
    digest.update(readFileSync(file));
  }
  digest.update(kubeletLdflags());
  return `node-k8s-${kubeletVersion()}_${digest.digest('hex').slice(0, 8)}`;
}

export function edgeNodeLayout(): EdgeNodeLayout {
  const key = edgeNodeKey();
  const dir = join(cacheRoot(), key);
  return {
    key,
    dir,
    kubelet: join(dir, 'bin', 'kubelet'),
    pause: join(dir, 'bin', 'pause'),
    pauseArchive: join(dir, 'pause.oci.tar'),
    pauseRef: `localhost/mloffload/pause:${key.slice(key.lastIndexOf('_') + 1)}`,
  };
}

export function isEdgeNodeBuilt(layout: EdgeNodeLayout = edgeNodeLayout()): boolean {
  return existsSync(layout.kubelet) && existsSync(layout.pause) && existsSync(layout.pauseArchive);
}

async function goBuild(what: string, moduleDir: string, pkg: string, ldflags: string, target: string, log: Log): Promise<void> {
  const tmp = mkdtempSync(`${target}.build-`);
  try {
    const started = Date.now();
    log(`building ${what} from ${moduleDir} ...`);
    const { code, output } = await runGo(['build', '-trimpath', '-ldflags', ldflags, '-o', `${tmp}/`, pkg], moduleDir);
    if (code !== 0) throw explainGoFailure(what, output);
    renameSync(join(tmp, goExecName(pkg)), target);
    log(`built ${what} in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Builds whatever of the edge-node binaries is missing for the current key. */
export async function ensureEdgeNodeBuilt(log: Log = () => {}): Promise<EdgeNodeLayout> {
  const layout = edgeNodeLayout();
  if (isEdgeNodeBuilt(layout)) return layout;
  mkdirSync(join(layout.dir, 'bin'), { recursive: true });
  log(`using ${checkGo()}`);
  if (!existsSync(layout.kubelet)) await goBuild('kubelet', kubeletModuleDir, kubeletCommand, kubeletLdflags(), layout.kubelet, log);
  if (!existsSync(layout.pause)) await goBuild('pause', pauseModuleDir, 'mloffload.dev/test/env/edgenode/pause', '-s -w', layout.pause, log);
  if (!existsSync(layout.pauseArchive)) {
    const root = mkdtempSync(join(layout.dir, '.pause-root-'));
    try {
      copyFileSync(layout.pause, join(root, 'pause'));
      writeOciArchive({ ref: layout.pauseRef, rootDir: root, entrypoint: ['/pause'], user: '65535:65535' }, layout.pauseArchive);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  return layout;
}
