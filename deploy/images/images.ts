// The two images: what each takes from the build. Their ENTRYPOINT, USER, ENV and labels live in the
// Containerfiles (deploy/<name>.Dockerfile), which buildah builds from the context `npm run images` prepares.
import { join } from 'node:path';
import type { AppContents } from './appTree.js';
import { repoRoot } from './pins.js';

export type ImageName = 'inference-runtime' | 'operator';

export interface ImageDefinition {
  name: ImageName;
  containerfile: string;
  description: string;
  contents: AppContents;
}

/** Where the runtime keeps fetched and compiled models (the Deployment mounts a volume here). */
export const RUNTIME_MODEL_CACHE = '/var/cache/mloffload/models';

export const images: Readonly<Record<ImageName, ImageDefinition>> = {
  'inference-runtime': {
    name: 'inference-runtime',
    containerfile: join(repoRoot, 'deploy', 'inference-runtime.Dockerfile'),
    description: 'mloffload inference runtime: a model pool served over REST on edge nodes',
    contents: {
      // All of it: tasks, backends and the pool loader are imported on demand.
      dist: { tree: 'inference-runtime' },
      packages: 'dependencies',
      // The demo page; the compiled server looks for it next to its own folder.
      assets: [['inference-runtime/static', 'dist/inference-runtime/static']],
      writableDirs: [RUNTIME_MODEL_CACHE],
    },
  },
  operator: {
    name: 'operator',
    containerfile: join(repoRoot, 'deploy', 'operator.Dockerfile'),
    description: 'mloffload operator: reconciles MLModel and MLService resources',
    contents: {
      // Only what main.js imports; @kubernetes/client-node is imported dynamically for kubeconfigs with exec
      // or auth-provider plugins, which are for running the operator outside the cluster from a checkout.
      dist: { entryGraph: 'operator/main.js' },
      packages: 'imported',
      assets: [],
      writableDirs: [],
    },
  },
};
