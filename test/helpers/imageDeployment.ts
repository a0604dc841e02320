// The inference-runtime image serving built-in pool entries as MLModels, run with podman the way the kubelet
// runs the Deployment the operator writes for them: its uid, read-only root, dropped capabilities, and the
// pool read from the ConfigMap file mounted into the container.
import { join, posix, relative, sep } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { PoolModel } from '../../inference-runtime/config/types.js';
import { APP_DIR } from '../../deploy/images/appTree.js';
import { type ImageName, images } from '../../deploy/images/images.js';
import type { MLModel, MLService } from '../../operator/api/types.js';
import { configMapFor } from '../../operator/builders/configMap.js';
import { deploymentFor } from '../../operator/builders/deployment.js';
import { prepareContainer } from '../e2e/podProcess.js';
import { freePort } from '../env/processes.js';
import { type RunningImage, type TestImage, kubeletFlags, ownVolumesAsKubelet, runImage } from './containerImages.js';
import { eventually } from './eventually.js';

/** A pool entry as the MLModel a user would apply for it. */
export function mlModelOf(entry: PoolModel, namespace: string): MLModel {
  const { name, ...spec } = entry;
  return { apiVersion: 'mloffload.io/v1alpha1', kind: 'MLModel', metadata: { name, namespace, uid: `uid-${name}` }, spec } as MLModel;
}

/** Where a repository file that the image build copies as an asset (deploy/images/images.ts) sits in the image. */
export function imageAssetPath(image: ImageName, repoPath: string): string {
  for (const [from, to] of images[image].contents.assets) {
    const rest = relative(from, repoPath);
    if (rest === '' || (!rest.startsWith('..') && !rest.startsWith(sep))) return posix.join(APP_DIR, to, ...rest.split(sep));
  }
  throw new Error(`the ${image} image copies no asset holding ${repoPath}`);
}

export interface DeployedImage {
  container: RunningImage;
  /** http://127.0.0.1:<port> of the container's published port. */
  base: string;
}

/**
 * Runs one replica of an MLService over `models` from the image and waits for its /readyz. `root` is a
 * scratch folder for the pod's volumes.
 */
export async function deployImage(options: {
  image: TestImage;
  service: string;
  namespace: string;
  models: MLModel[];
  root: string;
  readyTimeoutMs?: number;
}): Promise<DeployedImage> {
  const { image, service, namespace, models } = options;
  const svc: MLService = {
    apiVersion: 'mloffload.io/v1alpha1',
    kind: 'MLService',
    metadata: { name: service, namespace, uid: `uid-${service}` },
    spec: { models: models.map((m) => ({ name: m.metadata.name })), replicas: 1, port: 8080, resources: { limits: { cpu: '1', memory: '512Mi' } } },
  } as MLService;
  const deployment = deploymentFor(svc, models, { image: image.manifest.ref });
  const podSpec = deployment.spec!.template.spec!;
  const spec = podSpec.containers[0];
  const pod: V1Pod = { metadata: { name: `${service}-0`, namespace }, spec: { ...podSpec, nodeName: 'edge-0' } };
  const configMap = configMapFor(svc, models);
  const prepared = await prepareContainer({
    deployment,
    pod,
    container: spec,
    image: { entrypoint: image.config.entrypoint, cmd: image.config.cmd, workdir: image.config.workdir, env: image.config.env },
    root: join(options.root, 'pod'),
    cluster: {
      configMap: async () => configMap.data ?? {},
      secret: async () => {
        throw new Error('this pod mounts no Secrets');
      },
    },
  });
  ownVolumesAsKubelet(podSpec, spec, prepared.mounts);
  const port = await freePort();
  const container = runImage({
    image,
    name: `mloffload-${service}-test-${process.pid}`,
    flags: kubeletFlags({ pod: podSpec, container: spec, mounts: prepared.mounts, env: prepared.env, hostPort: port }),
    args: spec.args ?? [],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await eventually(
      async () => {
        const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) });
        expect(res.status).to.equal(200);
      },
      { timeout: options.readyTimeoutMs ?? 180_000, interval: 500, message: 'the container became ready' },
    );
  } catch (err) {
    // What the runtime logged is what says why it never became ready.
    const log = container.output().slice(-4000);
    await container.stop();
    throw new Error(`${(err as Error).message}\ncontainer output:\n${log}`);
  }
  return { container, base };
}
