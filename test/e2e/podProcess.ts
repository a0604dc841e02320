// Runs a Deployment's container as a local process, the way the kubelet would start it from the image:
// the image's ENTRYPOINT/ENV/WORKDIR (read from its Dockerfile) with the container's command, args and env,
// and every volume mount materialised in a temporary folder (ConfigMap and Secret contents read from the
// cluster, emptyDir and hostPath empty). Absolute paths in args and env are remapped onto that folder.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, posix } from 'node:path';
import type { V1Container, V1Deployment, V1Pod, V1ResourceFieldSelector, V1Volume } from '@kubernetes/client-node';
import { terminate } from '../helpers/childProcess.js';

export interface ImageSpec {
  entrypoint: string[];
  cmd: string[];
  workdir: string;
  env: Record<string, string>;
}

/** ENTRYPOINT, CMD (exec form), WORKDIR and ENV of the final stage of a Dockerfile. */
export function readDockerfile(file: string): ImageSpec {
  const lines = readFileSync(file, 'utf8')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const lastFrom = lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
  const spec: ImageSpec = { entrypoint: [], cmd: [], workdir: '/', env: {} };
  for (const line of lines.slice(lastFrom + 1)) {
    const [, instruction, rest] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    switch (instruction?.toUpperCase()) {
      case 'ENTRYPOINT':
        spec.entrypoint = JSON.parse(rest) as string[];
        spec.cmd = [];
        break;
      case 'CMD':
        spec.cmd = JSON.parse(rest) as string[];
        break;
      case 'WORKDIR':
        spec.workdir = posix.resolve(spec.workdir, rest);
        break;
      case 'ENV':
        for (const [, key, value] of rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) spec.env[key] = value.replace(/^"|"$/g, '');
        break;
    }
  }
  if (spec.entrypoint.length === 0) throw new Error(`${file}: no exec-form ENTRYPOINT in the final stage`);
  return spec;
}

export interface ClusterReader {
  configMap(namespace: string, name: string): Promise<Record<string, string>>;
  /** Decoded Secret data. */
  secret(namespace: string, name: string): Promise<Record<string, Buffer>>;
}

export interface PreparedContainer {
  /** argv as the container would run it, before mapping onto the repository. */
  containerArgv: string[];
  env: Record<string, string>;
  /** mountPath -> local path. */
  mounts: Map<string, string>;
  /** Maps a path inside the container onto the local folder. */
  localPath(containerPath: string): string;
}

function resolveEnvRef(value: string, env: Record<string, string>): string {
  // $(VAR) references, as the kubelet expands them in env, command and args.
  return value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
}

function fieldOf(pod: V1Pod, fieldPath: string): string {
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata?.name,
    'metadata.namespace': pod.metadata?.namespace,
    'metadata.uid': pod.metadata?.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.podIP': pod.status?.podIP,
    'status.hostIP': pod.status?.hostIP,
  };
  const value = fields[fieldPath];
  if (value === undefined) throw new Error(`fieldRef ${fieldPath} is not known to this test harness`);
  return value;
}

/** CPU quantity in cores: "2", "1.5", "500m". */
function cores(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(quantity);
  if (!m) throw new Error(`CPU quantity ${quantity} is not understood by this test harness`);
  return Number(m[1]) / (m[2] ? 1000 : 1);
}

/** A CPU resourceFieldRef as the kubelet resolves it: rounded up to the divisor; the node's CPUs without a limit. */
function resourceOf(container: V1Container, ref: V1ResourceFieldSelector): string {
  const [kind, resource] = ref.resource.split('.');
  if (resource !== 'cpu' || (kind !== 'limits' && kind !== 'requests')) throw new Error(`resourceFieldRef ${ref.resource} is not resolved by this test harness`);
  const quantity = container.resources?.[kind]?.cpu;
  const value = quantity === undefined ? availableParallelism() : cores(String(quantity));
  return String(Math.ceil(value / cores(String(ref.divisor ?? '1'))));
}

async function fillVolume(volume: V1Volume, dir: string, namespace: string, cluster: ClusterReader): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const write = (files: Record<string, Buffer | string>, items: { key: string; path: string; mode?: number }[] | undefined, mode: number | undefined) => {
    const chosen: { key: string; path: string; mode?: number }[] = items ?? Object.keys(files).map((key) => ({ key, path: key }));
    for (const item of chosen) {
      if (!(item.key in files)) throw new Error(`volume ${volume.name}: key ${item.key} is missing`);
      const target = join(dir, item.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, files[item.key]);
      // Owner read at least: the local process runs as this user, not as the pod's fsGroup.
      chmodSync(target, (item.mode ?? mode ?? 0o644) | 0o400);
    }
  };
  if (volume.configMap) {
    write(await cluster.configMap(namespace, volume.configMap.name!), volume.configMap.items as { key: string; path: string; mode?: number }[] | undefined, volume.configMap.defaultMode);
  } else if (volume.secret) {
    write(await cluster.secret(namespace, volume.secret.secretName!), volume.secret.items as { key: string; path: string; mode?: number }[] | undefined, volume.secret.defaultMode);
  } else if (!volume.emptyDir && !volume.hostPath) {
    throw new Error(`volume ${volume.name}: only configMap, secret, emptyDir and hostPath volumes are materialised`);
  }
}

/** Materialises the mounts of `container` under `root` and computes its argv and environment. */
export async function prepareContainer(options: {
  deployment: V1Deployment;
  pod: V1Pod;
  container: V1Container;
  image: ImageSpec;
  root: string;
  cluster: ClusterReader;
}): Promise<PreparedContainer> {
  const { deployment, pod, container, image, root, cluster } = options;
  const namespace = deployment.metadata!.namespace!;
  const volumes = new Map((deployment.spec!.template.spec!.volumes ?? []).map((v) => [v.name, v]));
  const mounts = new Map<string, string>();
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.get(mount.name);
    if (!volume) throw new Error(`volumeMount ${mount.name} has no volume`);
    const dir = join(root, 'volumes', mount.name);
    if (!existsSync(dir)) await fillVolume(volume, dir, namespace, cluster);
    mounts.set(mount.mountPath, mount.subPath ? join(dir, mount.subPath) : dir);
  }
  // Paths outside every mount live in the image's own file system: a scratch copy of it.
  const imageRoot = join(root, 'image-root');
  const localPath = (p: string): string => {
    const match = [...mounts.keys()].filter((m) => p === m || p.startsWith(`${m}/`)).sort((a, b) => b.length - a.length)[0];
    if (match) return mounts.get(match)! + p.slice(match.length);
    const target = join(imageRoot, p);
    mkdirSync(target, { recursive: true });
    return target;
  };

  const env: Record<string, string> = { ...image.env };
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = resolveEnvRef(e.value, env);
    else if (e.valueFrom?.fieldRef) env[e.name] = fieldOf(pod, e.valueFrom.fieldRef.fieldPath);
    else if (e.valueFrom?.resourceFieldRef) env[e.name] = resourceOf(container, e.valueFrom.resourceFieldRef);
    else throw new Error(`env ${e.name}: only values, fieldRefs and resourceFieldRefs are resolved by this test harness`);
  }
  const command = container.command ?? image.entrypoint;
  const args = container.args ?? (container.command ? [] : image.cmd);
  const containerArgv = [...command, ...args].map((a) => resolveEnvRef(a, env));
  return { containerArgv, env, mounts, localPath };
}

/** A container's `node [options] <entry> [args]` command line, split: the options are the words before the entry. */
export function nodeCommand(argv: readonly string[]): { node: string; options: string[]; entry: string; args: string[] } {
  const [node, ...rest] = argv;
  const at = rest.findIndex((word) => !word.startsWith('-'));
  if (node === undefined || at < 0) throw new Error(`not a node command line: ${JSON.stringify(argv)}`);
  return { node, options: rest.slice(0, at), entry: rest[at]!, args: rest.slice(at + 1) };
}

export interface RunningContainer {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the first JSON log line `accept` returns true for. */
  waitForLog(accept: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>>;
  stop(timeoutMs?: number): Promise<number | null>;
}

export function spawnContainer(argv: string[], options: { cwd: string; env: Record<string, string> }): RunningContainer {
  const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const lines: Record<string, unknown>[] = [];
  const waiters: { accept: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let partial = '';
  const onData = (chunk: string) => {
    text += chunk;
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(part) as Record<string, unknown>;
      } catch {
        continue;
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.accept(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => text,
    waitForLog(accept, timeoutMs) {
      const seen = lines.find(accept);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms:\n${text.slice(-4000)}`)), timeoutMs);
        waiters.push({ accept, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`the process exited with ${code}:\n${text.slice(-4000)}`));
        });
      });
    },
    stop: (timeoutMs = 20_000) => terminate(child, exited, timeoutMs),
  };
}
