// buildah and podman as the build and the tests use them: rootful, daemonless, with their own image store
// under the image cache (not the machine's default store), and a containers.conf with the two settings these
// machines need: runc (crun refuses hybrid cgroup hierarchies) and ulimits no higher than the host allows
// (the engine's defaults are above them and cannot be raised here).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { command } from './command.js';
import { imageCacheRoot } from './pins.js';

export const CONTAINERS_CONF = `# Written by deploy/images/containerEngine.ts; used through CONTAINERS_CONF.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
`;

export interface Engine {
  /** Global flags of buildah and podman: the image store. */
  storageArgs: string[];
  /** Environment with CONTAINERS_CONF pointing at the written file. */
  env: NodeJS.ProcessEnv;
  buildah(args: string[], options?: { echo?: boolean }): Promise<string>;
  podman(args: string[], options?: { echo?: boolean }): Promise<string>;
}

export function containerEngine(): Engine {
  const dir = join(imageCacheRoot(), 'containers');
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'containers.conf');
  writeFileSync(conf, CONTAINERS_CONF);
  const storageArgs = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'overlay'];
  const env = { ...process.env, CONTAINERS_CONF: conf };
  return {
    storageArgs,
    env,
    buildah: (args, options) => command('buildah', [...storageArgs, ...args], { env, echo: options?.echo }),
    podman: (args, options) => command('podman', [...storageArgs, ...args], { env, echo: options?.echo }),
  };
}

/** Why containers cannot be built or run here, or undefined when they can. */
export async function containerEngineMissing(): Promise<string | undefined> {
  if (process.env.MLOFFLOAD_NO_CONTAINERS) return 'MLOFFLOAD_NO_CONTAINERS is set';
  if (process.platform !== 'linux') return `containers need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the image build and tests run buildah and podman rootful, and this process is not root';
  for (const tool of ['buildah', 'podman', 'mmdebstrap', 'runc']) {
    const found = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/bin', '/sbin'].some((d) => existsSync(join(d, tool)));
    if (!found) return `${tool} is not installed (apt-get install buildah podman mmdebstrap runc)`;
  }
  try {
    await command('podman', ['--version']);
  } catch (error) {
    return `podman does not start: ${(error as Error).message}`;
  }
  return undefined;
}
