// The pod of a Deployment the operator writes, run with podman the way the kubelet runs it: the container's
// volumes materialised from the ConfigMap, owned as a pod sees them, its uid, read-only root, dropped
// capabilities, environment and arguments, and its port published on a loopback port of this machine.
import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { expect } from 'chai';
import { type PreparedContainer, prepareContainer } from '../e2e/podProcess.js';
import { freePort } from '../env/processes.js';
import { type RunningImage, type TestImage, kubeletFlags, ownVolumesAsKubelet, runImage } from './containerImages.js';
import { eventually } from './eventually.js';

export interface DeploymentPod {
  prepared: PreparedContainer;
  running: RunningImage;
  /** `http://127.0.0.1:<port>`, the container's port on this machine. */
  url: string;
  /** `performance.now()` just before `podman run`. */
  started: number;
}

export async function runDeploymentPod(options: {
  image: TestImage;
  deployment: V1Deployment;
  /** The one ConfigMap the pod mounts; it mounts no Secrets. */
  configMap: V1ConfigMap;
  podName: string;
  /** Unique per run: the name podman stops the container by. */
  containerName: string;
  /** Where the pod's volumes and image scratch space are materialised. */
  root: string;
}): Promise<DeploymentPod> {
  const { image, deployment, configMap } = options;
  const podSpec = deployment.spec!.template.spec!;
  const spec = podSpec.containers[0];
  const prepared = await prepareContainer({
    deployment,
    pod: { metadata: { name: options.podName, namespace: deployment.metadata!.namespace }, spec: { ...podSpec, nodeName: 'edge-0' } },
    container: spec,
    image: { entrypoint: image.config.entrypoint, cmd: image.config.cmd, workdir: image.config.workdir, env: image.config.env },
    root: options.root,
    cluster: {
      configMap: async () => configMap.data ?? {},
      secret: async () => {
        throw new Error('this pod mounts no Secrets');
      },
    },
  });
  ownVolumesAsKubelet(podSpec, spec, prepared.mounts);
  const port = await freePort();
  const started = performance.now();
  const running = runImage({
    image,
    name: options.containerName,
    flags: kubeletFlags({ pod: podSpec, container: spec, mounts: prepared.mounts, env: prepared.env, hostPort: port }),
    args: spec.args ?? [],
  });
  return { prepared, running, url: `http://127.0.0.1:${port}`, started };
}

/** Waits until the runtime at `url` answers `/readyz` with 200. */
export async function eventuallyReady(url: string, options: { timeout: number; message: string }): Promise<void> {
  await eventually(
    async () => {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
      expect(res.status).to.equal(200);
    },
    { timeout: options.timeout, interval: 500, message: options.message },
  );
}
