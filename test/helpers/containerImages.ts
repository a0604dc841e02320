// The images of `npm run images`, for tests that run them with podman. An archive that matches the current
// sources is reused (build/images/*.json records the content key); otherwise it is built first, which takes
// minutes the first time on a machine (the base and Node are then cached under ~/.cache/mloffload/images).
//
//   before(async function () { this.timeout(imageBuildTimeout); image = await imageOrSkip(this, 'inference-runtime'); });
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Container, V1PodSecurityContext, V1PodSpec, V1SecurityContext } from '@kubernetes/client-node';
import type { Context } from 'mocha';
import { buildImages, type ImageManifest } from '../../deploy/images/build.js';
import { type Engine, containerEngine, containerEngineMissing } from '../../deploy/images/containerEngine.js';
import type { ImageName } from '../../deploy/images/images.js';
import { type RunningContainer, spawnContainer } from '../e2e/podProcess.js';

/** A `before` hook that may build an image needs this long on two busy cores. */
export const imageBuildTimeout = 15 * 60_000;

export interface ImageConfig {
  entrypoint: string[];
  cmd: string[];
  workdir: string;
  env: Record<string, string>;
  user: string;
  labels: Record<string, string>;
  stopSignal?: string;
}

export interface TestImage {
  manifest: ImageManifest;
  engine: Engine;
  config: ImageConfig;
}

interface InspectedImage {
  Config: { Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string; Env?: string[]; User?: string; Labels?: Record<string, string>; StopSignal?: string };
}

const ready = new Map<ImageName, Promise<TestImage>>();

async function prepare(name: ImageName): Promise<TestImage> {
  const [manifest] = await buildImages([name]);
  const engine = containerEngine();
  const present = await engine.podman(['image', 'exists', manifest.ref]).then(
    () => true,
    () => false,
  );
  if (!present) {
    // An archive built elsewhere (or a pruned store): load it and give it the tag the manifest names.
    const out = await engine.podman(['load', '--quiet', '--input', manifest.archive]);
    const loaded = /Loaded image(?:\(s\))?:\s*(\S+)/.exec(out)?.[1];
    if (!loaded) throw new Error(`podman load ${manifest.archive}: ${out}`);
    await engine.podman(['tag', loaded, manifest.ref]);
  }
  const [inspected] = JSON.parse(await engine.podman(['image', 'inspect', manifest.ref])) as InspectedImage[];
  const c = inspected.Config;
  const config: ImageConfig = {
    entrypoint: c.Entrypoint ?? [],
    cmd: c.Cmd ?? [],
    workdir: c.WorkingDir ?? '/',
    env: Object.fromEntries((c.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
    user: c.User ?? '',
    labels: c.Labels ?? {},
    stopSignal: c.StopSignal,
  };
  return { manifest, engine, config };
}

/** The image, built or reused, in podman's store; undefined when podman cannot run here. */
export async function useImage(name: ImageName): Promise<TestImage | undefined> {
  if (await containerEngineMissing()) return undefined;
  if (!ready.has(name)) ready.set(name, prepare(name));
  return ready.get(name)!;
}

/** As useImage, but skips the calling suite, saying why, when podman cannot run here. */
export async function imageOrSkip(ctx: Context, name: ImageName): Promise<TestImage> {
  const missing = await containerEngineMissing();
  if (missing) {
    process.stderr.write(`      skipped: the ${name} image tests need podman and buildah: ${missing}\n`);
    ctx.skip();
  }
  return (await useImage(name))!;
}

export interface ContainerRun {
  image: TestImage;
  /** Unique per run: the name podman stops it by. */
  name: string;
  /** Everything between the image reference and the container's arguments. */
  flags: string[];
  args: string[];
}

export interface RunningImage extends RunningContainer {
  name: string;
  /** `podman stop -t <grace>`, as a kubelet stops a container: SIGTERM, SIGKILL after the grace period. */
  stopGracefully(graceSeconds: number): Promise<{ exitCode: number | null; ms: number }>;
}

/** Runs a container in the foreground (`podman run --rm`), its JSON log lines readable as they come. */
export function runImage(run: ContainerRun): RunningImage {
  const { image } = run;
  const argv = ['podman', ...image.engine.storageArgs, 'run', '--rm', '--name', run.name, ...run.flags, image.manifest.ref, ...run.args];
  const conf = image.engine.env.CONTAINERS_CONF ?? '';
  const running = spawnContainer(argv, { cwd: process.cwd(), env: { CONTAINERS_CONF: conf } });
  let exited: Promise<number | null> | undefined;
  const exitCode = (): Promise<number | null> => {
    exited ??= new Promise((resolve) => {
      if (running.child.exitCode !== null) resolve(running.child.exitCode);
      else running.child.once('exit', (code) => resolve(code));
    });
    return exited;
  };
  return {
    ...running,
    name: run.name,
    async stopGracefully(graceSeconds) {
      const started = performance.now();
      await image.engine.podman(['stop', '--time', String(graceSeconds), run.name]);
      const code = await exitCode();
      return { exitCode: code, ms: performance.now() - started };
    },
    // Whatever happened in the test, the container goes (the client process's SIGTERM reaches it too).
    async stop(timeoutMs) {
      await image.engine.podman(['rm', '--force', '--time', '2', run.name]).catch(() => undefined);
      return running.stop(timeoutMs);
    },
  };
}

/** A temporary folder, removed by the returned function. */
export function scratchDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(process.env.TMPDIR ?? '/tmp', prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The podman flags that give a container what the kubelet gives the Deployment's container: its user and
 * group, read-only root, dropped capabilities, no privilege escalation, its volumes at their mount paths
 * (`mounts` maps each mount path to a local file or folder, as prepareContainer materialises them), its
 * environment, and its port published on a loopback port of this machine.
 */
export function kubeletFlags(options: {
  pod: V1PodSpec;
  container: V1Container;
  mounts: Map<string, string>;
  env: Record<string, string>;
  hostPort: number;
}): string[] {
  const { pod, container, mounts, env, hostPort } = options;
  const sc = { ...pod.securityContext, ...container.securityContext } as V1PodSecurityContext & V1SecurityContext;
  const flags: string[] = [];
  if (sc.runAsUser !== undefined) flags.push('--user', `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`);
  if (pod.securityContext?.fsGroup !== undefined) flags.push('--group-add', String(pod.securityContext.fsGroup));
  if (sc.readOnlyRootFilesystem) flags.push('--read-only', '--read-only-tmpfs=false');
  for (const cap of sc.capabilities?.drop ?? []) flags.push('--cap-drop', cap);
  for (const cap of sc.capabilities?.add ?? []) flags.push('--cap-add', cap);
  if (sc.allowPrivilegeEscalation === false) flags.push('--security-opt', 'no-new-privileges');
  for (const mount of container.volumeMounts ?? []) {
    const local = mounts.get(mount.mountPath);
    if (!local) throw new Error(`volumeMount ${mount.mountPath} was not materialised`);
    flags.push('--volume', `${local}:${mount.mountPath}${mount.readOnly ? ':ro' : ''}`);
  }
  for (const e of container.env ?? []) flags.push('--env', `${e.name}=${env[e.name]}`);
  for (const p of container.ports ?? []) flags.push('--publish', `127.0.0.1:${hostPort}:${p.containerPort}/${(p.protocol ?? 'TCP').toLowerCase()}`);
  return flags;
}

/**
 * Gives the materialised volumes the ownership a pod sees: Secret and ConfigMap files group-owned by the
 * pod's fsGroup (the kubelet does this, so a 0440 Secret is readable by the runtime user), emptyDirs open to
 * all, and other writable volumes (the model cache's hostPath) owned by the runtime user, as the
 * cache-preparing init container leaves them.
 */
export function ownVolumesAsKubelet(pod: V1PodSpec, container: V1Container, mounts: Map<string, string>): void {
  const uid = pod.securityContext?.runAsUser ?? 0;
  const gid = pod.securityContext?.fsGroup ?? pod.securityContext?.runAsGroup ?? 0;
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  const chownTree = (path: string, owner: number, group: number): void => {
    chownSync(path, owner, group);
    if (statSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name), owner, group);
  };
  for (const mount of container.volumeMounts ?? []) {
    const local = mounts.get(mount.mountPath)!;
    const volume = volumes.get(mount.name);
    if (volume?.secret || volume?.configMap) chownTree(local, 0, gid);
    else if (volume?.emptyDir) chmodSync(local, 0o1777);
    else chownTree(local, uid, gid);
  }
}
