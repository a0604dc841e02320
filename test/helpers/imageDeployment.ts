// The inference-runtime image serving built-in pool entries as MLModels, run with podman the way the kubelet
// runs the Deployment the operator writes for them: its uid, read-only root, dropped capabilities, and the
// pool read from the ConfigMap file mounted into the container.
import { join, posix, relative, sep } from 'node:path';
import type { PoolModel } from '../../inference-runtime/config/types.js';
import { APP_DIR } from '../../deploy/images/appTree.js';
import { type ImageName, images } from '../../deploy/images/images.js';
import type { MLModel, MLService } from '../../operator/api/types.js';
import { configMapFor } from '../../operator/builders/configMap.js';
import { deploymentFor } from '../../operator/builders/deployment.js';
import type { RunningImage, TestImage } from './containerImages.js';
import { eventuallyReady, runDeploymentPod } from './deploymentPod.js';

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
  const pod = await runDeploymentPod({
    image,
    deployment: deploymentFor(svc, models, { image: image.manifest.ref }),
    configMap: configMapFor(svc, models),
    podName: `${service}-0`,
    containerName: `mloffload-${service}-test-${process.pid}`,
    root: join(options.root, 'pod'),
  });
  const container = pod.running;
  const base = pod.url;
  try {
    await eventuallyReady(base, { timeout: options.readyTimeoutMs ?? 180_000, message: 'the container became ready' });
  } catch (err) {
    // What the runtime logged is what says why it never became ready.
    const log = container.output().slice(-4000);
    await container.stop();
    throw new Error(`${(err as Error).message}\ncontainer output:\n${log}`);
  }
  return { container, base };
}
